package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/quota"
	"github.com/maxrouter/maxrouter/core/wait"
)

// profileCreds writes a Claude Code credentials file whose token may read
// its usage (user:profile), with a key of Claude Code's beside the login.
func profileCreds(t *testing.T, dir, access, refresh string, expires time.Time, scopes string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	list, _ := json.Marshal(strings.Fields(scopes))
	body := fmt.Sprintf(`{"claudeAiOauth":{"accessToken":%q,"refreshToken":%q,"expiresAt":%d,"refreshTokenExpiresAt":%d,"scopes":%s,"subscriptionType":"max"},"mcpOAuth":{"srv":{"token":"keep-me"}}}`,
		access, refresh, expires.UnixMilli(), time.Now().Add(5*24*time.Hour).UnixMilli(), list)
	if err := os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// oauthConfig writes a configuration that logs in at the fake, with the
// given accounts (name, dir pairs) and extra lines.
func oauthConfig(t *testing.T, h *harness, extra string, accounts ...string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "authorize_url = %q\ntoken_url = %q\n%s\n", h.up.URL+anthropictest.AuthorizePath, h.up.URL+anthropictest.TokenPath, extra)
	for i := 0; i+1 < len(accounts); i += 2 {
		fmt.Fprintf(&b, "[[account]]\nname = %q\ndir = %q\n", accounts[i], accounts[i+1])
	}
	os.MkdirAll(filepath.Dir(h.cfg), 0o700)
	if err := os.WriteFile(h.cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// approve opens a login's authorize URL as a browser would and returns
// the page it ends on.
func approve(t *testing.T, l control.Login) string {
	t.Helper()
	resp, err := http.Get(l.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return string(page)
}

// wait waits for the login to end and returns it.
func (h *harness) wait(t *testing.T, id string) control.Login {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := h.client.WaitLogin(ctx, id, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("waiting for login %s: %v (last seen %+v)", id, err, l)
	}
	return l
}

// until reads events until one of type typ and returns those read.
func until(t *testing.T, next func() event.Event, typ event.Type) []event.Event {
	t.Helper()
	var got []event.Event
	for {
		e := next()
		got = append(got, e)
		if e.Type == typ {
			return got
		}
	}
}

func count(events []event.Event, typ event.Type) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// A login through the daemon to a new name adds the account (a revisioned
// configuration change), writes its folder in Claude Code's shape, and the
// account serves requests at once.
func TestLoginAddsAnAccount(t *testing.T) {
	logs := &logBuffer{}
	h := start(t, func(h *harness) {
		oauthConfig(t, h, "")
		h.log = logs
	})
	h.fake.LoginAs(anthropictest.Identity{Email: "new@example.test", Organization: "New org", OrganizationType: "claude_max", RateLimitTier: "default_claude_max_5x"})
	next := h.follow(t)
	_, rev, _ := h.client.Config(context.Background())
	l, err := h.client.StartLogin(context.Background(), control.LoginRequest{Account: "fresh"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(h.cfg), "accounts", "fresh")
	if l.Status != control.LoginPending || !l.NewAccount || l.Dir != dir || l.ExpiresAt.Sub(time.Now()) < 9*time.Minute {
		t.Errorf("login = %+v, want a new account pending for 10 minutes in %s", l, dir)
	}
	if page := approve(t, l); !strings.Contains(page, "logged in as new@example.test") {
		t.Errorf("browser page = %q", page)
	}
	done := h.wait(t, l.ID)
	if done.Status != control.LoginCompleted || done.Email != "new@example.test" || done.Subscription != "max" || done.RateLimitTier != "default_claude_max_5x" {
		t.Errorf("login = %+v, want completed as new@example.test on Max 5x", done)
	}
	events := until(t, next, event.LoginCompleted)
	if e := events[len(events)-1]; e.Account != "fresh" || e.Email != "new@example.test" {
		t.Errorf("login_completed = %+v", e)
	}
	if count(events, event.ConfigChanged) != 1 {
		t.Errorf("events = %+v, want one config_changed before login_completed", events)
	}
	cfg, newRev, _ := h.client.Config(context.Background())
	if newRev == rev || len(cfg.Accounts) != 1 || cfg.Accounts[0] != (config.Account{Name: "fresh", Dir: "~/.config/maxrouter/accounts/fresh"}) {
		t.Errorf("config at %s (was %s) = %+v, want the account added", newRev, rev, cfg.Accounts)
	}
	if saved, err := config.Load(h.cfg); err != nil || len(saved.Accounts) != 1 {
		t.Errorf("saved config = %+v, %v; want the account in the file", saved.Accounts, err)
	}
	path := filepath.Join(dir, ".credentials.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Login struct {
			Access       string   `json:"accessToken"`
			Refresh      string   `json:"refreshToken"`
			ExpiresAt    int64    `json:"expiresAt"`
			Scopes       []string `json:"scopes"`
			Subscription string   `json:"subscriptionType"`
			Tier         string   `json:"rateLimitTier"`
		} `json:"claudeAiOauth"`
	}
	json.Unmarshal(data, &file)
	if f := file.Login; !strings.HasPrefix(f.Access, "sk-ant-oat01-fake-login-") || f.Refresh == "" || f.ExpiresAt < time.Now().Add(7*time.Hour).UnixMilli() ||
		strings.Join(f.Scopes, " ") != "org:create_api_key user:profile user:inference" || f.Subscription != "max" || f.Tier != "default_claude_max_5x" {
		t.Errorf("credentials file = %s, want Claude Code's shape with the new login", data)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
				t.Errorf("mode of %s = %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	s := h.snapshots(t)["fresh"]
	if s.State != control.StateAvailable || s.Email != "new@example.test" || s.Organization != "New org" {
		t.Errorf("snapshot = %+v, want available as new@example.test", s)
	}
	if resp := h.post(t, h.issue(t), body); resp.StatusCode != 200 {
		t.Fatalf("request on the new account: status %d", resp.StatusCode)
	}
	if got := h.fake.Tokens(); len(got) != 1 || got[0] != file.Login.Access {
		t.Errorf("upstream tokens = %v, want the new login's", got)
	}
	// Its quota is read at once: a new account shows where it stands.
	wait.For(t, "the new account's quota", func() bool { return h.fake.UsageCalls(file.Login.Access) > 0 })
	// Nothing secret reached the log: not the tokens, the code, the state
	// or the verifier (which the URL hides behind its challenge).
	state := mustQuery(t, l.AuthorizeURL).Get("state")
	for _, secret := range []string{file.Login.Access, file.Login.Refresh, "fakecode-", state} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the daemon's log holds a secret (%.20s…)", secret)
		}
	}
	if !strings.Contains(logs.String(), "login completed") {
		t.Errorf("the log does not say the login completed:\n%s", logs.String())
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

// Logging in again to an account that needs a login rewrites only its
// login, keeps every other key of the file, clears needs_login, and says
// so once.
func TestReloginClearsNeedsLogin(t *testing.T) {
	dir := ""
	h := start(t, func(h *harness) {
		dir = filepath.Join(h.home, ".claude-main")
		// Expired and without a refresh token: dead at start.
		profileCreds(t, dir, tok("dead"), "", time.Now().Add(-time.Hour), "user:inference user:profile")
		oauthConfig(t, h, "", "main", "~/.claude-main", "other", "~/.claude-other")
		profileCreds(t, filepath.Join(h.home, ".claude-other"), tok("other"), "r", time.Now().Add(8*time.Hour), "user:inference")
	})
	wait.For(t, "main to need a login", func() bool { return h.snapshots(t)["main"].State == control.StateNeedsLogin })
	next := h.follow(t)
	l, err := h.client.StartLogin(context.Background(), control.LoginRequest{Account: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if l.NewAccount || l.Dir != dir {
		t.Errorf("login = %+v, want the existing account's folder", l)
	}
	approve(t, l)
	if done := h.wait(t, l.ID); done.Status != control.LoginCompleted {
		t.Fatalf("login = %+v, want completed", done)
	}
	if s := h.snapshots(t)["main"]; s.State != control.StateAvailable || s.Reason != "" {
		t.Errorf("main = %+v, want available again", s)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ".credentials.json"))
	if !strings.Contains(string(data), `"mcpOAuth":{"srv":{"token":"keep-me"}}`) || strings.Contains(string(data), tok("dead")) {
		t.Errorf("credentials file = %s, want the new login beside Claude Code's other keys", data)
	}
	// A marker event after the login: nothing announced it twice before.
	h.client.Pause(context.Background())
	events := until(t, next, event.Paused)
	if n := count(events, event.LoginCompleted); n != 1 {
		t.Errorf("events = %+v, want login_completed once, got %d", events, n)
	}
	if resp := h.post(t, h.issue(t), body); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status while paused = %d", resp.StatusCode)
	}
	h.client.Resume(context.Background())
	if resp := h.post(t, h.issue(t), body); resp.StatusCode != 200 {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if got := h.fake.Tokens(); got[len(got)-1] == tok("dead") || got[len(got)-1] == tok("other") {
		t.Errorf("upstream tokens = %v, want main's new login first (priority order)", got)
	}
}

// Logging in again as a different email succeeds, and says so.
func TestReloginAsAnotherEmail(t *testing.T) {
	h := start(t, func(h *harness) {
		profileCreds(t, filepath.Join(h.home, ".claude-main"), tok("main"), "r", time.Now().Add(8*time.Hour), "user:inference user:profile")
		h.fake.SetUsage(tok("main"), anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{Percent: 30}})
		h.fake.SetIdentity(tok("main"), anthropictest.Identity{Email: "old@example.test"})
		oauthConfig(t, h, "", "main", "~/.claude-main")
	})
	wait.For(t, "main's email", func() bool { return h.snapshots(t)["main"].Email == "old@example.test" })
	next := h.follow(t)
	h.fake.LoginAs(anthropictest.Identity{Email: "new@example.test", OrganizationType: "claude_pro"})
	l, _ := h.client.StartLogin(context.Background(), control.LoginRequest{Account: "main"})
	approve(t, l)
	done := h.wait(t, l.ID)
	if done.Status != control.LoginCompleted || !strings.Contains(done.Reason, "the account was old@example.test") {
		t.Errorf("login = %+v, want completed, saying the email changed", done)
	}
	e := until(t, next, event.LoginCompleted)
	if last := e[len(e)-1]; last.Email != "new@example.test" || !strings.Contains(last.Reason, "old@example.test") {
		t.Errorf("login_completed = %+v, want the new email and the old one in the reason", last)
	}
	if s := h.snapshots(t)["main"]; s.Email != "new@example.test" {
		t.Errorf("email = %q, want the new one", s.Email)
	}
}

// The manual login: the page shows code#state, which is pasted back.
func TestManualLoginThroughTheDaemon(t *testing.T) {
	h := start(t, func(h *harness) { oauthConfig(t, h, "") })
	l, err := h.client.StartLogin(context.Background(), control.LoginRequest{Account: "remote", Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(l.AuthorizeURL)
	if got := u.Query().Get("redirect_uri"); got != "https://console.anthropic.com/oauth/code/callback" {
		t.Errorf("redirect_uri = %q, want the manual one", got)
	}
	pasted := anthropictest.PastedCode(approve(t, l))
	if _, err := h.client.LoginCode(context.Background(), l.ID, strings.Split(pasted, "#")[0]+"#wrong"); err == nil {
		t.Error("a code with another state was taken")
	}
	done, err := h.client.LoginCode(context.Background(), l.ID, pasted)
	if err != nil || done.Status != control.LoginCompleted {
		t.Fatalf("LoginCode = %+v, %v; want completed", done, err)
	}
	if s := h.snapshots(t)["remote"]; s.State != control.StateAvailable {
		t.Errorf("remote = %+v, want available", s)
	}
}

func TestLoginFailedEvent(t *testing.T) {
	h := start(t, func(h *harness) { oauthConfig(t, h, "") })
	next := h.follow(t)
	h.fake.DenyNextLogin("access denied by the user")
	l, _ := h.client.StartLogin(context.Background(), control.LoginRequest{Account: "nope"})
	approve(t, l)
	if done := h.wait(t, l.ID); done.Status != control.LoginFailed {
		t.Errorf("login = %+v, want failed", done)
	}
	if e := next(); e.Type != event.LoginFailed || e.Account != "nope" || !strings.Contains(e.Reason, "access denied by the user") {
		t.Errorf("event = %+v, want login_failed with the reason", e)
	}
	if cfg, _, _ := h.client.Config(context.Background()); len(cfg.Accounts) != 0 {
		t.Errorf("accounts = %+v, want none added", cfg.Accounts)
	}
	for _, bad := range []control.LoginRequest{{Account: "a/b"}, {Account: "x", Dir: "relative"}} {
		if _, err := h.client.StartLogin(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("StartLogin(%+v) = %v, want a 400 naming the problem", bad, err)
		}
	}
}

// Every account shows its 5-hour and 7-day use and reset soon after the
// daemon starts, before any request; a setup token says why it shows none.
func TestQuotaForIdleAccounts(t *testing.T) {
	reset := time.Now().Add(2*time.Hour + 10*time.Minute).Truncate(time.Second)
	h := start(t, func(h *harness) {
		profileCreds(t, filepath.Join(h.home, ".claude-a"), tok("a"), "r", time.Now().Add(8*time.Hour), "user:inference user:profile")
		profileCreds(t, filepath.Join(h.home, ".claude-b"), tok("b"), "r", time.Now().Add(8*time.Hour), "user:inference user:profile")
		h.fake.SetUsage(tok("a"), anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{Percent: 24, ResetsAt: reset}, SevenDay: &anthropictest.UsageWindow{Percent: 61, ResetsAt: reset.Add(72 * time.Hour)}})
		h.fake.SetUsageStatus(tok("b"), http.StatusTooManyRequests)
		oauthConfig(t, h, `quota_poll = "5m"`, "a", "~/.claude-a", "b", "~/.claude-b")
		f, _ := os.OpenFile(h.cfg, os.O_APPEND|os.O_WRONLY, 0)
		fmt.Fprintf(f, "[[account]]\nname = \"ci\"\ntoken = %q\n", tok("setup"))
		f.Close()
	})
	started := time.Now()
	wait.For(t, "every account's quota", func() bool {
		s := h.snapshots(t)
		return s["a"].Quota != nil && s["a"].Quota.CheckedAt != nil && s["b"].Quota != nil && s["ci"].Quota != nil
	})
	s := h.snapshots(t)
	a := s["a"]
	if a.FiveHour.Utilization != 0.24 || a.FiveHour.ResetsAt == nil || !a.FiveHour.ResetsAt.Equal(reset) || a.SevenDay.Utilization != 0.61 {
		t.Errorf("a = 5h %+v, 7d %+v; want 24%% resetting at %v, 61%%", a.FiveHour, a.SevenDay, reset)
	}
	if a.LoginExpiresAt == nil || a.LoginExpiresAt.Sub(time.Now()) < 4*24*time.Hour {
		t.Errorf("a's login_expires_at = %v, want the credentials' refreshTokenExpiresAt", a.LoginExpiresAt)
	}
	b := s["b"]
	if b.Quota.Error == "" || b.Quota.NextAt == nil || b.Quota.NextAt.Sub(started) < 9*time.Minute {
		t.Errorf("b's quota = %+v, want the 429 and the next read twice the interval on", b.Quota)
	}
	if s["ci"].Quota.Skipped != quota.NoScope || h.fake.UsageCalls(tok("setup")) != 0 {
		t.Errorf("ci's quota = %+v, want skipped without a call", s["ci"].Quota)
	}
	if got := []int{h.fake.UsageCalls(tok("a")), h.fake.UsageCalls(tok("b"))}; got[0] != 1 || got[1] != 1 {
		t.Errorf("usage calls (a, b) = %v, want one each", got)
	}
	if got := h.fake.Received(); len(got) != 0 {
		t.Errorf("the fake got %d messages, want none: the quota is read without one", len(got))
	}
}

// An answer billed to extra usage marks its account (one event), counts in
// the usage history, and the next requests go to another account.
func TestExtraUsageMarkedAndAvoided(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude-a"), tok("a"), "r", time.Now().Add(8*time.Hour))
		writeCreds(t, filepath.Join(h.home, ".claude-b"), tok("b"), "r", time.Now().Add(8*time.Hour))
		oauthConfig(t, h, `strategy = "priority"`, "a", "~/.claude-a", "b", "~/.claude-b")
		h.fake.On(tok("a"), anthropictest.BilledExtra)
	})
	next := h.follow(t)
	secret := h.issue(t)
	for range 3 {
		if resp := h.post(t, secret, body); resp.StatusCode != 200 {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	}
	if got, want := fmt.Sprint(h.fake.Tokens()), fmt.Sprint([]string{tok("a"), tok("b"), tok("b")}); got != want {
		t.Errorf("upstream tokens = %s, want %s", got, want)
	}
	if e := next(); e.Type != event.BillingExtra || e.Account != "a" {
		t.Errorf("event = %+v, want billing_extra for a", e)
	}
	if s := h.snapshots(t)["a"]; !s.BillingExtra || s.BillingExtraSince == nil {
		t.Errorf("a = %+v, want billing_extra with its start", s)
	}
	u, err := h.client.Usage(context.Background(), time.Now().Add(-time.Hour), control.StepHour)
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]int64{}
	for _, b := range u.Buckets {
		extra[b.Account] += b.ExtraUsageRequests
	}
	if extra["a"] != 1 || extra["b"] != 0 {
		t.Errorf("extra_usage_requests = %v, want a: 1", extra)
	}
	// extra_usage = "allow" uses it like any other.
	err = h.client.UpdateConfig(context.Background(), func(c *control.Config) error { c.ExtraUsage = config.ExtraAllow; return nil })
	if err != nil {
		t.Fatal(err)
	}
	h.post(t, secret, body)
	if got := h.fake.Tokens(); got[len(got)-1] != tok("a") {
		t.Errorf("upstream tokens with allow = %v, want a again (priority)", got)
	}
}

func TestWriteAccounts(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.Local)
	reset, week, login := now.Add(2*time.Hour+10*time.Minute), now.Add(50*time.Hour), now.Add(3*24*time.Hour+time.Hour)
	accts := []control.Account{
		{Name: "work", Dir: "/home/ana/.claude", State: control.StateAvailable, Subscription: "max", RateLimitTier: "default_claude_max_20x", Email: "ana@example.test",
			FiveHour: control.Window{Utilization: 0.24, ResetsAt: &reset, AsOf: &now}, SevenDay: control.Window{Utilization: 0.61, ResetsAt: &week, AsOf: &now},
			BillingExtra: true, LoginExpiresAt: &login},
		{Name: "idle", Dir: "/home/ana/.claude-idle", State: control.StateAvailable, FiveHour: control.Window{AsOf: &now}, SevenDay: control.Window{AsOf: &now}},
		{Name: "ci", Dir: "(token)", State: control.StateAvailable},
	}
	var out strings.Builder
	WriteAccounts(&out, accts, now, "/home/ana")
	want := `  NAME  STATE                                                      PLAN     EMAIL             5H                          7D                      DIRECTORY
  work  available · billing extra usage · login expires in 3 days  Max 20x  ana@example.test  24% · resets in 2 h 10 min  61% · resets in 2 days  ~/.claude
  idle  available                                                  -        -                 0%                          0%                      ~/.claude-idle
  ci    available                                                  -        -                 -                           -                       (token)
`
	if got := out.String(); got != want {
		t.Errorf("table =\n%s\nwant\n%s", got, want)
	}
}

// CheckDir says what a folder holds before it becomes an account: the
// plan, the token, when the login ends, or what is wrong.
func TestCheckDir(t *testing.T) {
	h := start(t, nil)
	now := time.Now()
	write := func(name, body string) string {
		dir := filepath.Join(h.home, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	creds := func(expires, loginEnds time.Time, refresh string) string {
		return fmt.Sprintf(`{"claudeAiOauth":{"accessToken":"sk-ant-oat01-test-x","refreshToken":%q,"expiresAt":%d,"refreshTokenExpiresAt":%d,"subscriptionType":"pro"}}`,
			refresh, expires.UnixMilli(), loginEnds.UnixMilli())
	}
	ends := now.Add(3 * 24 * time.Hour).Truncate(time.Millisecond)
	ok := write(".claude-ok", creds(now.Add(time.Hour), ends, "sk-ant-ort01-test-x"))
	ended := write(".claude-ended", creds(now.Add(-time.Hour), now.Add(-time.Minute), "sk-ant-ort01-test-x"))
	dead := write(".claude-dead", creds(now.Add(-time.Hour), ends, ""))
	empty := filepath.Join(h.home, ".claude-empty")
	os.MkdirAll(empty, 0o700)

	ctx := context.Background()
	got, err := h.client.CheckDir(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Found || got.Subscription != "pro" || !got.CanRefresh || got.LoginExpiresAt == nil || !got.LoginExpiresAt.Equal(ends) || got.Problem != "" {
		t.Errorf("CheckDir(a good login) = %+v, want found, Pro, refreshable, the login's end %v", got, ends)
	}
	for dir, want := range map[string]string{
		ended: "the login has ended: log in again",
		dead:  "the token has expired and there is no refresh token: log in again",
		empty: "no Claude Code login found here",
	} {
		got, err := h.client.CheckDir(ctx, dir)
		if err != nil || !strings.HasPrefix(got.Problem, want) {
			t.Errorf("CheckDir(%s) = %+v, %v; want the problem %q", filepath.Base(dir), got, err, want)
		}
	}
}
