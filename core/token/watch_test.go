package token

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxrouter/maxrouter/core/wait"
)

// startWatch runs s.watch until the test ends and returns once the
// directory is watched.
func startWatch(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- s.watch(ctx, nil, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("watch ended at once: %v", err)
	}
}

// TestWatchSeesAnotherWriter plays the daemon (d) and the tokens CLI
// writing the same file itself (cli).
func TestWatchSeesAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	d, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	startWatch(t, d)
	cli, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}

	secret, info, err := cli.Issue("laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the daemon's store accepts the token the CLI issued", func() bool {
		_, err := d.Check(secret)
		return err == nil
	})

	if err := cli.Revoke(info.ID); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the daemon's store refuses the token the CLI revoked", func() bool {
		_, err := d.Check(secret)
		return errors.Is(err, ErrRevoked)
	})
}

func TestWatchKeepsTokensWhenTheFileBreaks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	d, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := d.Issue("laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	startWatch(t, d)

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the store notices the unreadable file", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.broken != nil
	})
	if _, _, err := d.Issue("other", 0); err == nil {
		t.Error("Issue overwrote a token file it could not read")
	}
	if _, err := d.Check(secret); err != nil {
		t.Errorf("Check(token issued before the file broke) = %v, want it still accepted", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Errorf("file = %q, want it left as the other writer left it", b)
	}
}
