//go:build !headless

package desktop

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// startDaemonAt serves backend's control API with secret, as a daemon
// would, and returns the server.
func startDaemonAt(t *testing.T, backend *controltest.Backend, secret string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(control.NewServer(backend, secret, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

// writeConfig writes a configuration listening on addr ("host:port").
func writeConfig(t *testing.T, path, addr string) {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = addr
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
}

func TestLazyDaemon(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	ctx := context.Background()
	l := &lazyDaemon{configPath: path}

	// No configuration yet: the default address, and no daemon.
	if got, want := l.BaseURL(), "http://127.0.0.1:8787"; got != want {
		t.Errorf("BaseURL() without a config = %q, want %q", got, want)
	}
	if _, err := l.Accounts(ctx); err == nil {
		t.Fatalf("Accounts() without a config = nil error, want one")
	}

	// A configuration, but the daemon never ran: no secret.
	b1 := &controltest.Backend{AccountList: []control.Account{{Name: "one", State: control.StateAvailable}}}
	srv1 := startDaemonAt(t, b1, "secret-one")
	writeConfig(t, path, strings.TrimPrefix(srv1.URL, "http://"))
	if _, err := l.Accounts(ctx); !errors.Is(err, control.ErrUnreachable) {
		t.Fatalf("Accounts() before the secret exists = %v, want ErrUnreachable", err)
	}
	if got := l.BaseURL(); got != srv1.URL {
		t.Errorf("BaseURL() from the config = %q, want %q", got, srv1.URL)
	}

	// The daemon ran and wrote its secret: found.
	if err := os.WriteFile(control.SecretPath(dir), []byte("secret-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := l.Accounts(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "one" {
		t.Fatalf("Accounts() = %+v, %v, want the account of the first daemon", got, err)
	}

	// It restarts on another port with another secret: the client is
	// found again after the old address fails.
	srv1.Close()
	b2 := &controltest.Backend{AccountList: []control.Account{{Name: "two", State: control.StateAvailable}}}
	srv2 := startDaemonAt(t, b2, "secret-two")
	writeConfig(t, path, strings.TrimPrefix(srv2.URL, "http://"))
	if err := os.WriteFile(control.SecretPath(dir), []byte("secret-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accounts(ctx); !errors.Is(err, control.ErrUnreachable) {
		t.Fatalf("Accounts() on the old address = %v, want ErrUnreachable", err)
	}
	got, err = l.Accounts(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "two" {
		t.Fatalf("Accounts() after the move = %+v, %v, want the account of the second daemon", got, err)
	}
	if got := l.BaseURL(); got != srv2.URL {
		t.Errorf("BaseURL() = %q, want %q", got, srv2.URL)
	}

	// A secret the daemon refuses is read again too.
	if err := os.WriteFile(control.SecretPath(dir), []byte("stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.c = control.NewClient(srv2.URL, "stale")
	l.mu.Unlock()
	if _, err := l.Tokens(ctx); !errors.Is(err, control.ErrUnauthorized) {
		t.Fatalf("Tokens() with a stale secret = %v, want ErrUnauthorized", err)
	}
	if err := os.WriteFile(control.SecretPath(dir), []byte("secret-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Tokens(ctx); err != nil {
		t.Fatalf("Tokens() after the secret was re-read = %v", err)
	}
}
