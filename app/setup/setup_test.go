package setup

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

func TestLines(t *testing.T) {
	b := &controltest.Backend{}
	c, _ := controltest.NewServer(t, b)
	s := &Setup{Daemon: fixedURL{c}, TokenFile: filepath.Join(t.TempDir(), "tray-token"), Hostname: "box"}
	ctx := context.Background()
	lines := func() string {
		t.Helper()
		out, err := s.Lines(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	first := lines()
	if want := setupLines("http://127.0.0.1:8787", "la_sk_test-1"); first != want {
		t.Errorf("lines = %q, want %q", first, want)
	}
	data, err := os.ReadFile(s.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	var saved savedToken
	if err := json.Unmarshal(data, &saved); err != nil || saved.ID != "tok-1" || saved.Secret != "la_sk_test-1" {
		t.Errorf("token file = %s (%v), want id tok-1 and its secret", data, err)
	}
	if fi, err := os.Stat(s.TokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if second := lines(); second != first {
		t.Errorf("second copy = %q, want the same token again %q", second, first)
	}
	b.Lock()
	issues := slices.Clone(b.Issues)
	b.Unlock()
	if len(issues) != 1 || issues[0].Label != "box (tray)" || issues[0].TTL != 0 {
		t.Errorf("IssueToken calls = %+v, want one labelled \"box (tray)\" without TTL", issues)
	}

	// Revoked: the next copy issues a new one.
	if err := b.RevokeToken("tok-1"); err != nil {
		t.Fatal(err)
	}
	if third := lines(); !strings.Contains(third, "la_sk_test-2") {
		t.Errorf("copy after revoking = %q, want the new token la_sk_test-2", third)
	}
	// Forgotten by the daemon (a new token store): issued again too.
	b.Lock()
	b.TokenList = nil
	b.Unlock()
	if fourth := lines(); !strings.Contains(fourth, "la_sk_test-1") {
		t.Errorf("copy after the daemon forgot the token = %q, want a newly issued one", fourth)
	}
}

func TestLinesWhileUnreachable(t *testing.T) {
	c := control.NewClient("http://127.0.0.1:1", "secret") // nothing listens there
	s := &Setup{Daemon: fixedURL{c}, TokenFile: filepath.Join(t.TempDir(), "tray-token")}
	// Nothing saved: nothing to copy, and the person is told why.
	if _, err := s.Lines(context.Background()); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("Lines = %v, want an error saying the daemon is not running", err)
	}
	// A saved token is copied unchecked.
	data, _ := json.Marshal(savedToken{ID: "tok-7", Secret: "la_sk_test-7"})
	if err := os.WriteFile(s.TokenFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := s.Lines(context.Background())
	if err != nil || !strings.Contains(out, "la_sk_test-7") {
		t.Errorf("Lines = %q, %v; want the saved token", out, err)
	}
}

// fixedURL reports the default address, as a client of a daemon at
// 127.0.0.1:8787 would.
type fixedURL struct{ *control.Client }

func (fixedURL) BaseURL() string { return "http://127.0.0.1:8787" }
