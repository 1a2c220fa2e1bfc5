//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package flock

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// poll is how often Lock tries again while another process holds the lock.
const poll = 20 * time.Millisecond

// Lock waits until it holds the lock on dir, or ctx ends.
func Lock(ctx context.Context, dir string) (unlock func(), err error) {
	for {
		unlock, err := TryLock(dir)
		if !errors.Is(err, ErrLocked) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// TryLock takes the lock on dir if no other holder has it, and returns
// ErrLocked if one does.
func TryLock(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := TryLockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases it
}

// TryLockFile takes the lock on the open file f if no other holder has it,
// and returns ErrLocked if one does. The lock is held until f is closed.
func TryLockFile(f *os.File) error {
	var err error
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}
