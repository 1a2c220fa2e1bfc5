package credential

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
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

func TestReported(t *testing.T) {
	tests := []struct {
		name string
		op   fsnotify.Op
		want bool
	}{
		{".credentials.json", fsnotify.Create, true},
		{".credentials.json", fsnotify.Write, true},
		{".credentials.json", fsnotify.Remove, true},
		{".credentials.json", fsnotify.Chmod, false},
		{"..credentials.json.tmp123", fsnotify.Write, true},           // a killed write-back may have left it
		{"..credentials.json.tmp123", fsnotify.Create, false},         // made before the exchange, still empty
		{"..credentials.json.tmp123", fsnotify.Rename, false},         // renamed in place: the file's event says so
		{".auth.json.tmp9", fsnotify.Write | fsnotify.Chmod, true},    // any credential name
		{".settings.json.tmp1", fsnotify.Write, false},                // not a credential file
		{".credentials.json.writing", fsnotify.Write, false},          // someone else's temp file
		{"..credentials.json.tmp1", fsnotify.Chmod, false},            // mode only
		{"credentials.json", fsnotify.Rename | fsnotify.Create, true}, // replaced
	}
	for _, tt := range tests {
		ev := fsnotify.Event{Name: filepath.Join("dir", tt.name), Op: tt.op}
		if got := reported(ev); got != tt.want {
			t.Errorf("reported(%v) = %v, want %v", ev, got, tt.want)
		}
	}
}
