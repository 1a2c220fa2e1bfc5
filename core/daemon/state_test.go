package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/wait"
)

// threeAccounts writes a config with accounts spent, dead and ok, all
// logged in, and scripts the fake so that spent is at its 5-hour limit and
// dead's token is rejected (with no way to refresh it).
func threeAccounts(t *testing.T, h *harness) {
	t.Helper()
	exp := time.Now().Add(8 * time.Hour)
	writeCreds(t, filepath.Join(h.home, ".claude-spent"), tok("spent"), "sk-ant-ort01-test-spent", exp)
	writeCreds(t, filepath.Join(h.home, ".claude-dead"), tok("dead"), "", exp)
	writeCreds(t, filepath.Join(h.home, ".claude-ok"), tok("ok"), "sk-ant-ort01-test-ok", exp)
	os.MkdirAll(filepath.Dir(h.cfg), 0o700)
	os.WriteFile(h.cfg, []byte(`strategy = "priority"
[[account]]
name = "spent"
dir = "~/.claude-spent"
[[account]]
name = "dead"
dir = "~/.claude-dead"
[[account]]
name = "ok"
dir = "~/.claude-ok"
`), 0o600)
	h.fake.On(tok("spent"), anthropictest.RateLimited(time.Now().Add(3*time.Hour)))
	h.fake.On(tok("dead"), anthropictest.Unauthorized)
}

func (h *harness) snapshots(t *testing.T) map[string]control.Account {
	t.Helper()
	accts, err := h.client.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]control.Account{}
	for _, a := range accts {
		out[a.Name] = a
	}
	return out
}

// A configuration change keeps what the daemon knows about every account
// whose credentials source did not change (finding 2).
func TestConfigChangeKeepsAccountState(t *testing.T) {
	h := start(t, func(h *harness) { threeAccounts(t, h) })
	secret := h.issue(t)
	if resp := h.post(t, secret, body); resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 from ok", resp.StatusCode)
	}
	wait.For(t, "dead to need a login", func() bool { return h.snapshots(t)["dead"].State == control.StateNeedsLogin })
	before := h.snapshots(t)
	if before["spent"].State != control.StateCooling || before["spent"].FiveHour.Utilization == 0 {
		t.Fatalf("spent = %+v, want cooling with its 5-hour use learnt", before["spent"])
	}

	for _, change := range []struct {
		name string
		edit func(*control.Config)
	}{
		{"token_url", func(c *control.Config) { c.TokenURL = "https://token.invalid/v1/oauth/token" }},
		{"upstream", func(c *control.Config) { c.Upstream = h.up.URL + "/" }},
		{"refresh_before", func(c *control.Config) { c.RefreshBefore = config.Duration(10 * time.Minute) }},
		{"strategy and an account disabled and enabled", func(c *control.Config) { c.Strategy = "round-robin" }},
		{"rename", func(c *control.Config) { c.Accounts[0].Name = "spent2" }},
	} {
		t.Run(change.name, func(t *testing.T) {
			if err := h.client.UpdateConfig(context.Background(), func(c *control.Config) error {
				change.edit(c)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			now := h.snapshots(t)
			spent := now["spent"]
			if _, renamed := now["spent2"]; renamed {
				spent = now["spent2"]
			}
			if spent.State != control.StateCooling || !spent.CooldownUntil.Equal(*before["spent"].CooldownUntil) ||
				spent.Requests != before["spent"].Requests || spent.FiveHour.Utilization != before["spent"].FiveHour.Utilization {
				t.Errorf("spent = %+v, want it as before: %+v", spent, before["spent"])
			}
			if now["dead"].State != control.StateNeedsLogin || now["dead"].Reason != before["dead"].Reason {
				t.Errorf("dead = %+v, want needs_login as before", now["dead"])
			}
			if now["ok"].Requests != before["ok"].Requests {
				t.Errorf("ok requests = %d, want %d kept", now["ok"].Requests, before["ok"].Requests)
			}
		})
	}
	// And the spent account is still skipped: only ok is asked.
	n := len(h.fake.Tokens())
	h.post(t, secret, body)
	h.post(t, secret, body)
	if got := h.fake.Tokens()[n:]; fmt.Sprint(got) != fmt.Sprint([]string{tok("ok"), tok("ok")}) {
		t.Errorf("upstream tokens after the changes = %v, want ok only", got)
	}
}

// A change made elsewhere is never overwritten by a client holding an old
// revision: not a tray change, not a hand edit with or without a HUP
// (finding 1).
func TestConfigRevisions(t *testing.T) {
	h := start(t, func(h *harness) { threeAccounts(t, h) })
	ctx := context.Background()
	next := h.follow(t)
	window, rev, err := h.client.Config(ctx) // the settings window reads it
	if err != nil {
		t.Fatal(err)
	}

	// The tray changes the strategy.
	if err := h.client.UpdateConfig(ctx, func(c *control.Config) error { c.Strategy = "headroom"; return nil }); err != nil {
		t.Fatal(err)
	}
	e := next()
	if e.Type != event.ConfigChanged || e.Revision == "" || e.Revision == rev {
		t.Errorf("event = %+v, want config_changed with a new revision", e)
	}
	// The window applies a cooldown change on its old copy: refused, with
	// the tray's change in the answer.
	window.Cooldown = config.Duration(5 * time.Minute)
	_, err = h.client.PutConfig(ctx, window, rev)
	var stale *control.StaleError
	if !errors.As(err, &stale) || stale.Config.Strategy != "headroom" || stale.Revision != e.Revision {
		t.Fatalf("PutConfig on the old revision = %v, want a StaleError with strategy headroom at %s", err, e.Revision)
	}
	if saved, _ := config.Load(h.cfg); saved.Strategy != "headroom" || saved.Cooldown == window.Cooldown {
		t.Errorf("file = strategy %s cooldown %s, want the tray's change alone", saved.Strategy, saved.Cooldown)
	}

	// A hand edit, then HUP (Reload): a new revision, announced.
	// edit sets the strategy line of the file as a person would.
	edit := func(line string) {
		t.Helper()
		data, _ := os.ReadFile(h.cfg)
		re := regexp.MustCompile(`(?m)^strategy = .*$`)
		if !re.Match(data) {
			t.Fatalf("config has no strategy line:\n%s", data)
		}
		os.WriteFile(h.cfg, re.ReplaceAll(data, []byte(line)), 0o600)
	}
	edit(`strategy = "least-used"`)
	if err := h.d.Reload(); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Type != event.ConfigChanged || e.Revision == stale.Revision {
		t.Errorf("event after the hand edit = %+v, want config_changed with a new revision", e)
	}
	_, err = h.client.PutConfig(ctx, stale.Config, stale.Revision)
	if !errors.Is(err, control.ErrStale) {
		t.Errorf("PutConfig on the revision before the hand edit = %v, want stale", err)
	}

	// A hand edit without HUP is not lost either: it is applied first.
	cfg, rev, _ := h.client.Config(ctx)
	edit(`strategy = "priority"`)
	cfg.Cooldown = config.Duration(7 * time.Minute)
	_, err = h.client.PutConfig(ctx, cfg, rev)
	if !errors.As(err, &stale) || stale.Config.Strategy != "priority" {
		t.Fatalf("PutConfig after an unreloaded hand edit = %v, want stale with the edit", err)
	}
	if got := h.d.pool.Strategy(); got != "priority" {
		t.Errorf("strategy = %q, want the hand edit applied", got)
	}
	// A hand edit that does not parse refuses changes and is kept.
	edit(`strategy = `)
	broken, _ := os.ReadFile(h.cfg)
	_, err = h.client.PutConfig(ctx, stale.Config, stale.Revision)
	if err == nil || !strings.Contains(err.Error(), "changed by hand") || !strings.Contains(err.Error(), h.cfg) {
		t.Errorf("PutConfig over a broken hand edit = %v, want an error naming the file", err)
	}
	if now, _ := os.ReadFile(h.cfg); string(now) != string(broken) {
		t.Error("the broken hand edit was overwritten")
	}
}

// A refresh that fails for another reason than a dead login puts the
// account in the error state with a readable reason: it is no longer
// "available", the pool says all_exhausted, and clients are not told
// every account is at its limit (finding 3).
func TestRefreshNetworkFailureIsAnError(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("old"), "sk-ant-ort01-test-old", time.Now().Add(-time.Minute))
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		// Nothing listens on port 1 of the loopback.
		os.WriteFile(h.cfg, []byte("token_url = \"http://127.0.0.1:1/v1/oauth/token\"\n[[account]]\nname = \"main\"\ndir = \"~/.claude\"\n"), 0o600)
	})
	next := h.followAll(t) // the daemon checks idle tokens as it starts
	resp, data := h.send(t, "POST", "/v1/messages", h.issue(t), body)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(data), "at its limit") || !strings.Contains(string(data), "token endpoint") {
		t.Errorf("answer = %d %s, want 503 saying the token endpoint could not be reached", resp.StatusCode, data)
	}
	got := []event.Type{next().Type, next().Type}
	if want := []event.Type{event.Error, event.AllExhausted}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	s := h.snapshots(t)["main"]
	if s.State != control.StateError || !strings.Contains(s.Reason, "can't reach the token endpoint") || s.RetryAt == nil {
		t.Errorf("main = %+v, want error saying the token endpoint cannot be reached, with a retry time", s)
	}
	resp, data = h.send(t, "POST", "/v1/messages", h.issue(t), body)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(data), "at its limit") {
		t.Errorf("next answer = %d %s, want 503 that does not blame limits", resp.StatusCode, data)
	}
}

// With one account's token endpoint hanging, requests go to the other
// account at once instead of waiting for the refresh (issue 12, finding 1);
// the stuck account goes to the error state once the refresh times out.
func TestHangingTokenEndpointStallsNothing(t *testing.T) {
	hang := make(chan struct{})
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(hang)
		tokenSrv.Close()
	})
	h := start(t, func(h *harness) {
		h.hc = &http.Client{Timeout: time.Second}
		writeCreds(t, filepath.Join(h.home, ".claude-stuck"), tok("stuck"), "sk-ant-ort01-test-stuck", time.Now().Add(-time.Minute))
		writeCreds(t, filepath.Join(h.home, ".claude-ok"), tok("ok"), "sk-ant-ort01-test-ok", time.Now().Add(8*time.Hour))
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		os.WriteFile(h.cfg, []byte(fmt.Sprintf("strategy = \"priority\"\ntoken_url = %q\n[[account]]\nname = \"stuck\"\ndir = \"~/.claude-stuck\"\n[[account]]\nname = \"ok\"\ndir = \"~/.claude-ok\"\n", tokenSrv.URL)), 0o600)
	})
	secret := h.issue(t)
	for i := range 5 {
		start := time.Now()
		resp := h.post(t, secret, body)
		if took := time.Since(start); resp.StatusCode != 200 || took > 500*time.Millisecond {
			t.Errorf("request %d: status %d after %v, want 200 at once from ok", i, resp.StatusCode, took)
		}
	}
	for _, tk := range h.fake.Tokens() {
		if tk != tok("ok") {
			t.Errorf("upstream got %q, want only ok's token (stuck's is expired)", tk)
		}
	}
	wait.For(t, "stuck to be in the error state", func() bool { return h.snapshots(t)["stuck"].State == control.StateError })
	if s := h.snapshots(t)["stuck"]; !strings.Contains(s.Reason, "did not answer in time") {
		t.Errorf("stuck = %+v, want a reason saying the token endpoint did not answer", s)
	}
}

// A daemon asked to stop says so on the event stream before it goes, so
// the desktop app can tell a stop from a crash.
func TestStopIsAnnounced(t *testing.T) {
	h := start(t, nil)
	next := h.follow(t)
	h.cancel()
	if e := next(); e.Type != event.Stopping {
		t.Errorf("last event = %+v, want stopping", e)
	}
}

// Accounts that serve no request still show a dead login or a failing
// refresh soon after the daemon starts, not "available".
func TestIdleAccountsAreChecked(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude-dead"), tok("dead"), "", time.Now().Add(-time.Hour))
		writeCreds(t, filepath.Join(h.home, ".claude-flaky"), tok("flaky"), "sk-ant-ort01-test-flaky", time.Now().Add(-time.Minute))
		writeCreds(t, filepath.Join(h.home, ".claude-ok"), tok("ok"), "sk-ant-ort01-test-ok", time.Now().Add(8*time.Hour))
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		os.WriteFile(h.cfg, []byte("token_url = \"http://127.0.0.1:1/v1/oauth/token\"\n"+
			"[[account]]\nname = \"ok\"\ndir = \"~/.claude-ok\"\n"+
			"[[account]]\nname = \"dead\"\ndir = \"~/.claude-dead\"\n"+
			"[[account]]\nname = \"flaky\"\ndir = \"~/.claude-flaky\"\n"), 0o600)
	})
	wait.For(t, "dead to need a login and flaky to fail", func() bool {
		s := h.snapshots(t)
		return s["dead"].State == control.StateNeedsLogin && s["flaky"].State == control.StateError
	})
	if s := h.snapshots(t)["ok"]; s.State != control.StateAvailable {
		t.Errorf("ok = %+v, want available", s)
	}
	if n := len(h.fake.Received()); n != 0 {
		t.Errorf("the upstream got %d requests, want none: no request was sent", n)
	}
}
