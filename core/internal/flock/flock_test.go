//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package flock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestTryLockExcludesOtherHolders(t *testing.T) {
	dir := t.TempDir()
	unlock, err := TryLock(dir)
	if err != nil {
		t.Fatalf("TryLock on a free dir: %v", err)
	}
	if _, err := TryLock(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: err = %v, want ErrLocked", err)
	}
	// Another process sees it held as well (flock(1) from util-linux).
	if flock, err := exec.LookPath("flock"); err == nil {
		if out, err := exec.Command(flock, "--nonblock", dir, "true").CombinedOutput(); err == nil {
			t.Errorf("flock(1) got the lock we hold: %s", out)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, dir); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while held: err = %v, want the context's deadline", err)
	}

	// Lock waits for the holder and gets it once released.
	got := make(chan error, 1)
	go func() {
		u, err := Lock(t.Context(), dir)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned while the lock was held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Lock after release: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not get the released lock")
	}
	// Nothing is left in the directory.
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the lock left files behind: %v", ents)
	}
}

func TestTryLockMissingDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := TryLock(missing); err == nil || errors.Is(err, ErrLocked) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("TryLock(missing) err = %v, want not-exist", err)
	}
}
