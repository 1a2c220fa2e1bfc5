package credential

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatch(t *testing.T) {
	other, creds := t.TempDir(), t.TempDir()
	missing := filepath.Join(t.TempDir(), "absent")
	logs := &logBuf{}
	log := slog.New(slog.NewTextHandler(logs, nil))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := make(chan string, 100)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- watch(ctx, []string{other, missing, creds}, func(dir string) { calls <- dir }, log, func() { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("watch returned early: %v", err)
	}
	// Once watching, every watched directory is read once: a change made
	// while the watch was starting raised no event.
	for _, want := range []string{other, creds} {
		if got := <-calls; got != want {
			t.Errorf("first calls: onChange(%q), want onChange(%q)", got, want)
		}
	}

	// A file that is not a credential file, changed first: were it reported,
	// its report would come first (its debounce ends first).
	if err := os.WriteFile(filepath.Join(other, "settings.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, filepath.Join(creds, ".credentials.json"), nestedFile(oldAccess, oldRefresh, epoch()))

	select {
	case got := <-calls:
		if got != creds {
			t.Errorf("onChange(%q), want onChange(%q)", got, creds)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("onChange not called within 10s")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not return after cancel")
	}
	close(calls)
	for got := range calls {
		if got != creds {
			t.Errorf("extra onChange(%q)", got)
		}
	}
	if !strings.Contains(logs.String(), missing) {
		t.Errorf("missing dir not logged:\n%s", logs.String())
	}
}

func TestWatchReturnsWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Watch(ctx, []string{t.TempDir()}, func(string) { t.Error("onChange called") }, nil); err != nil {
		t.Errorf("Watch = %v, want nil", err)
	}
}

func TestIsCredentialName(t *testing.T) {
	for _, name := range fileNames() {
		if !isCredentialName(name) {
			t.Errorf("isCredentialName(%q) = false", name)
		}
	}
	for _, name := range []string{"settings.json", ".credentials.json.tmp123", ".claude.json", "credentials.json~"} {
		if isCredentialName(name) {
			t.Errorf("isCredentialName(%q) = true", name)
		}
	}
}
