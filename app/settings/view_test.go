package settings

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

func TestAccountStatus(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 19, 0, 0, time.Local)
	in := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	row := draftAccount{Orig: "work", Name: "work", Dir: "~/.claude-work", Enabled: true}
	live := func(snap control.Account) rowInput {
		return rowInput{Row: row, BaseEnabled: true, InBase: true, Snap: snap, Known: true, Read: true, Live: true}
	}
	tests := []struct {
		name string
		in   rowInput
		want rowStatus
	}{
		{"available", live(control.Account{State: control.StateAvailable, Requests: 12, TokenExpiresAt: in(3 * time.Hour)}),
			rowStatus{Text: "Available", Detail: "token renews in 3 h   ·   12 requests", Level: levelGood}},
		{"available with a model limit", live(control.Account{State: control.StateAvailable,
			ModelCooldowns: map[string]time.Time{"opus": now.Add(26 * time.Hour)}}),
			rowStatus{Text: "Available · Opus limited until tomorrow 14:19", Level: levelGood}},
		{"cooling", live(control.Account{State: control.StateCooling, CooldownUntil: in(2*time.Hour + 13*time.Minute), Reason: "5-hour limit", Requests: 1}),
			rowStatus{Text: "Cooling until 14:32 (5-hour limit)", Detail: "1 request", Level: levelWait, Action: "Reset cooldown"}},
		{"needs login", live(control.Account{State: control.StateNeedsLogin, Dir: "/home/ada/.claude-side"}),
			rowStatus{Text: "Needs login — log in again, or run:", Level: levelBad, Command: "CLAUDE_CONFIG_DIR=~/.claude-side claude /login", Action: "Check again", LogIn: true}},
		{"billing extra, login ending", live(control.Account{State: control.StateAvailable, Dir: "~/.claude-work", BillingExtra: true, LoginExpiresAt: in(2*24*time.Hour + time.Hour)}),
			rowStatus{Text: "Available", Level: levelGood, Notes: "billing extra usage · login expires in 2 days", LogIn: true}},
		{"login ending in more than a week", live(control.Account{State: control.StateAvailable, Dir: "~/.claude-work", LoginExpiresAt: in(9 * 24 * time.Hour)}),
			rowStatus{Text: "Available", Level: levelGood}},
		{"needs a token", live(control.Account{State: control.StateNeedsLogin, Dir: "(token)"}),
			rowStatus{Text: "Needs a new token — run:", Level: levelBad, Command: "claude setup-token", Action: "Check again"}},
		{"error", live(control.Account{State: control.StateError, Reason: "the token endpoint answered 503", RetryAt: in(46 * time.Minute)}),
			rowStatus{Text: "Error: the token endpoint answered 503 — trying again at 13:05", Level: levelBad, Action: "Check again"}},
		{"disabled by the daemon, enabled here", live(control.Account{State: control.StateDisabled}),
			rowStatus{Text: "Will be used again when you press Apply", Level: levelUnknown}},
		{"disabled here", rowInput{Row: draftAccount{Orig: "work", Name: "work"}, BaseEnabled: true, InBase: true, Known: true, Live: true},
			rowStatus{Text: "Will be disabled when you press Apply", Level: levelOff}},
		{"disabled", rowInput{Row: draftAccount{Orig: "work", Name: "work"}, InBase: true, Known: true, Live: true},
			rowStatus{Text: "Disabled — not used for requests", Level: levelOff}},
		{"added here", rowInput{Row: draftAccount{Name: "new", Enabled: true}, Read: true, Live: true},
			rowStatus{Text: "New — used once you press Apply", Level: levelUnknown}},
		{"not read yet", rowInput{Row: row, InBase: true, BaseEnabled: true},
			rowStatus{Text: "Waiting for MaxRouter…", Level: levelUnknown}},
		{"not reported", rowInput{Row: row, InBase: true, BaseEnabled: true, Read: true, Live: true},
			rowStatus{Text: "Not reported by MaxRouter", Level: levelUnknown}},
		{"daemon away", rowInput{Row: row, BaseEnabled: true, InBase: true, Known: true, Read: true,
			Snap: control.Account{State: control.StateCooling, CooldownUntil: in(time.Hour), Requests: 3}},
			rowStatus{Text: "Last known: cooling until 13:19", Level: levelUnknown}},
		{"daemon away, needs login", rowInput{Row: row, BaseEnabled: true, InBase: true, Known: true, Read: true,
			Snap: control.Account{State: control.StateNeedsLogin, Dir: "~/.claude"}},
			rowStatus{Text: "Last known: needs login — run:", Level: levelUnknown, Command: "claude /login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accountStatus(tt.in, now, "/home/ada"); got != tt.want {
				t.Errorf("accountStatus =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestBanner(t *testing.T) {
	const url = "http://127.0.0.1:8787"
	down := fmt.Errorf("%w: connection refused", control.ErrUnreachable)
	tests := []struct {
		name string
		in   bannerInput
		want bannerView
	}{
		{"connected", bannerInput{Connected: true, Tried: true, CanStart: true}, bannerView{}},
		{"paused", bannerInput{Connected: true, Tried: true, Paused: true, CanStart: true}, bannerView{Show: true, Notice: true,
			Text: "Routing is paused: MaxRouter refuses requests until you resume it from the tray menu."}},
		{"connecting", bannerInput{CanStart: true}, bannerView{}},
		{"crashed", bannerInput{Tried: true, Problem: down, CanStart: true, BaseURL: url, Stale: true}, bannerView{Show: true, Start: true,
			Text: "MaxRouter is not running: nothing answers at " + url + ", so requests fail until it runs again. The accounts below are as last seen."}},
		{"stopped", bannerInput{Tried: true, Stopped: true, Problem: down, CanStart: true, BaseURL: url}, bannerView{Show: true, Start: true,
			Text: "MaxRouter was stopped: nothing answers at " + url + ", so requests fail until it runs again."}},
		{"cannot start", bannerInput{Tried: true, Problem: down, BaseURL: url}, bannerView{Show: true,
			Text: "MaxRouter is not running: nothing answers at " + url + ", so requests fail until it runs again. Start it from the tray menu."}},
		{"starting", bannerInput{Tried: true, Problem: down, CanStart: true, Starting: true, BaseURL: url}, bannerView{Show: true, Start: true, Busy: true,
			Text: "Starting MaxRouter…"}},
		{"start failed", bannerInput{Tried: true, Problem: down, CanStart: true, StartErr: errors.New("no service manager"), BaseURL: url}, bannerView{Show: true, Start: true,
			Text: "MaxRouter is not running: nothing answers at " + url + ", so requests fail until it runs again. Starting it failed: no service manager"}},
		{"another data directory", bannerInput{Tried: true, Problem: &control.APIError{Status: 401}, CanStart: true, BaseURL: url}, bannerView{Show: true,
			Text: "MaxRouter answers at " + url + " but refused this window's key: it uses another data directory."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := banner(tt.in); got != tt.want {
				t.Errorf("banner =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	base := fixtureConfig()
	tests := []struct {
		name string
		edit func(*control.Config)
		want string
	}{
		{"nothing", func(*control.Config) {}, ""},
		{"strategy", func(c *control.Config) { c.Strategy = "priority" }, "the strategy was changed to Priority"},
		{"cooldown and affinity", func(c *control.Config) {
			c.Cooldown = config.Duration(5 * time.Minute)
			c.SessionAffinity = false
		}, "the fallback cooldown was changed to 5m; session affinity was turned off"},
		{"port", func(c *control.Config) { c.Listen = "127.0.0.1:9000" }, "the port was changed to 9000"},
		{"host only", func(c *control.Config) { c.Listen = "0.0.0.0:8787" }, "other settings were changed"},
		{"notifications", func(c *control.Config) { c.Notify = false }, "notifications were turned off"},
		{"notification kind", func(c *control.Config) { c.Notifications.NeedsLogin = false }, "the notification switches were changed"},
		{"upstream", func(c *control.Config) { c.Upstream = "http://127.0.0.1:9" }, "other settings were changed"},
		{"accounts", func(c *control.Config) {
			c.Accounts = []config.Account{c.Accounts[1], c.Accounts[0], {Name: "extra", Dir: "~/.claude-extra"}, c.Accounts[3]}
			c.Accounts[1].Enabled = ptr(false)
			c.Accounts[3].Dir = "~/.claude-team2"
		}, "work was disabled; extra was added; team got another login; side was removed; the order of the accounts was changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := fixtureConfig()
			next.Accounts = append([]config.Account(nil), next.Accounts...)
			tt.edit(&next)
			if got := strings.Join(changes(base, next), "; "); got != tt.want {
				t.Errorf("changes = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStaleText(t *testing.T) {
	for _, tt := range []struct {
		changed []string
		want    string
	}{
		{[]string{"the strategy was changed to Priority"}, "Not applied: meanwhile the strategy was changed to Priority. Your edits are kept: press Apply again."},
		{[]string{"a", "b", "c"}, "Not applied: meanwhile a, b and c. Your edits are kept: press Apply again."},
		{nil, "Not applied: meanwhile the configuration was changed elsewhere. Your edits are kept: press Apply again."},
	} {
		if got := staleText(tt.changed); got != tt.want {
			t.Errorf("staleText(%q) = %q, want %q", tt.changed, got, tt.want)
		}
	}
}

func TestStateLevel(t *testing.T) {
	tests := map[string]level{
		control.StateAvailable:  levelGood,
		control.StateCooling:    levelWait,
		control.StateNeedsLogin: levelBad,
		control.StateError:      levelBad,
		control.StateDisabled:   levelOff,
		"":                      levelUnknown,
	}
	for state, want := range tests {
		if got := stateLevel(state); got != want {
			t.Errorf("stateLevel(%q) = %v, want %v", state, got, want)
		}
	}
}

func TestFieldTarget(t *testing.T) {
	tests := []struct {
		field  string
		target string
		index  int
	}{
		{"listen", targetListen, -1},
		{"strategy", targetStrategy, -1},
		{"cooldown", targetCooldown, -1},
		{"accounts[0].name", targetAccount, 0},
		{"accounts[12].dir", targetAccount, 12},
		{"accounts[1]", targetAccount, 1},
		{"accounts[2].token", targetAccount, 2},
		{"notifications.needs_login", targetNotify, -1},
		{"notify", targetNotify, -1},
		{"upstream", targetGeneral, -1},
		{"data_dir", targetGeneral, -1},
		{"environment", targetGeneral, -1},
		{"accounts[x].name", targetGeneral, -1},
		{"accountsx[1]", targetGeneral, -1},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			target, index := fieldTarget(tt.field)
			if target != tt.target || index != tt.index {
				t.Errorf("fieldTarget(%q) = %q, %d; want %q, %d", tt.field, target, index, tt.target, tt.index)
			}
		})
	}
}

func TestFieldMessage(t *testing.T) {
	tests := []struct{ field, msg, want string }{
		{"accounts[0].name", "name is required", "Name is required"},
		{"accounts[0].dir", `dir "x" must be absolute or start with ~/`, `Dir "x" must be absolute or start with ~/`},
		{"accounts[0].dir", "no such directory", "Folder: no such directory"},
		{"accounts[0].token", "token is masked; paste the full token", "Token: token is masked; paste the full token"},
		{"accounts[0]", "set either dir or token, not both", "Set either dir or token, not both"},
	}
	for _, tt := range tests {
		if got := fieldMessage(tt.field, tt.msg); got != tt.want {
			t.Errorf("fieldMessage(%q, %q) = %q, want %q", tt.field, tt.msg, got, tt.want)
		}
	}
}

func TestSummaryText(t *testing.T) {
	fe := func(field string) config.FieldError { return config.FieldError{Field: field, Message: "bad " + field} }
	tests := []struct {
		name   string
		fields []config.FieldError
		want   string
	}{
		{"one tab", []config.FieldError{fe("listen")}, "Not applied: fix the values marked in red on the Proxy tab"},
		{"tabs in order of the fields, once each", []config.FieldError{fe("strategy"), fe("cooldown"), fe("accounts[0].name"), fe("listen")},
			"Not applied: fix the values marked in red on the Routing, Accounts and Proxy tabs"},
		{"fields the window does not edit", []config.FieldError{fe("upstream"), fe("max_body_mb")},
			"Not applied: upstream: bad upstream; max_body_mb: bad max_body_mb"},
		{"both", []config.FieldError{fe("listen"), fe("data_dir")},
			"Not applied: fix the values marked in red on the Proxy tab; data_dir: bad data_dir"},
		{"nothing named", nil, "Not applied: the daemon refused the configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summaryText(tt.fields); got != tt.want {
				t.Errorf("summaryText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in   string
		port int
		ok   bool
	}{
		{"8787", 8787, true}, {" 1 ", 1, true}, {"65535", 65535, true},
		{"0", 0, false}, {"65536", 0, false}, {"abc", 0, false}, {"", 0, false}, {"-1", 0, false}, {"80.5", 0, false},
	}
	for _, tt := range tests {
		port, msg := parsePort(tt.in)
		if port != tt.port || (msg == "") != tt.ok {
			t.Errorf("parsePort(%q) = %d, %q; want %d, ok %v", tt.in, port, msg, tt.port, tt.ok)
		}
	}
}

func TestParseCooldown(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"60s", time.Minute, true}, {"5m", 5 * time.Minute, true}, {"1m30s", 90 * time.Second, true},
		{"60", 0, false}, {"0s", 0, false}, {"-5s", 0, false}, {"soon", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		d, msg := parseCooldown(tt.in)
		if d != tt.want || (msg == "") != tt.ok {
			t.Errorf("parseCooldown(%q) = %v, %q; want %v, ok %v", tt.in, d, msg, tt.want, tt.ok)
		}
	}
}

func TestDurationInput(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{60 * time.Second, "60s"}, {90 * time.Second, "90s"}, {5 * time.Minute, "5m"},
		{150 * time.Second, "2m30s"}, {90 * time.Minute, "1h30m"}, {2 * time.Hour, "2h"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		got := durationInput(tt.in)
		if got != tt.want {
			t.Errorf("durationInput(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.in {
			t.Errorf("durationInput(%v) = %q does not parse back (%v, %v)", tt.in, got, back, err)
		}
	}
}

func TestDefaultName(t *testing.T) {
	tests := []struct {
		dir   string
		taken []string
		want  string
	}{
		{"~/.claude-work", nil, "work"},
		{"/home/ada/.claude-work", nil, "work"},
		{"~/.claude", nil, "default"},
		{"~/.config/claude-team", nil, "team"},
		{"~/.config/claude", nil, "claude"},
		{"/srv/accounts/alice", nil, "alice"},
		{"~/.claude-my work", nil, "my-work"},
		{"~/.claude-work", []string{"work"}, "work-2"},
		{"~/.claude-work", []string{"work", "work-2"}, "work-3"},
		{"~/...", nil, "account"},
	}
	for _, tt := range tests {
		if got := defaultName(tt.dir, tt.taken); got != tt.want {
			t.Errorf("defaultName(%q, %q) = %q, want %q", tt.dir, tt.taken, got, tt.want)
		}
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		name string
		dc   control.DirCheck
		want string
		ok   bool
	}{
		{"max 20x", control.DirCheck{Found: true, Subscription: "max", RateLimitTier: "default_claude_max_20x"}, "Credentials found — Max 20x", true},
		{"pro", control.DirCheck{Found: true, Subscription: "pro"}, "Credentials found — Pro", true},
		{"unknown plan", control.DirCheck{Found: true}, "Credentials found", true},
		{"expired", control.DirCheck{Found: true, Subscription: "pro", Problem: "the token has expired and there is no refresh token: log in again"},
			"Credentials found — Pro, but the token has expired and there is no refresh token: log in again", false},
		{"nothing", control.DirCheck{Problem: "no Claude Code login found here"}, "No credentials found: no Claude Code login found here", false},
		{"nothing, no words", control.DirCheck{}, "No credentials found: no Claude Code login in this folder", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := checkText(tt.dc)
			if got != tt.want || ok != tt.ok {
				t.Errorf("checkText = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSameDir(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"~/.claude-work", "/home/ada/.claude-work", true},
		{"~/.claude-work/", "~/.claude-work", true},
		{"~/.claude-work", "~/.claude-work2", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := sameDir(tt.a, tt.b, "/home/ada"); got != tt.want {
			t.Errorf("sameDir(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestListenHelpers(t *testing.T) {
	tests := []struct {
		listen string
		port   int
		with   string
		url    string
	}{
		{"127.0.0.1:8787", 9000, "127.0.0.1:9000", "http://127.0.0.1:8787"},
		{"0.0.0.0:8787", 9000, "0.0.0.0:9000", "http://127.0.0.1:8787"},
		{"[::1]:8787", 9000, "[::1]:9000", "http://[::1]:8787"},
		{":8787", 9000, ":9000", "http://127.0.0.1:8787"},
		{"nonsense", 9000, "127.0.0.1:9000", ""},
	}
	for _, tt := range tests {
		if got := withPort(tt.listen, tt.port); got != tt.with {
			t.Errorf("withPort(%q, %d) = %q, want %q", tt.listen, tt.port, got, tt.with)
		}
		if got := control.BaseURL(tt.listen); got != tt.url {
			t.Errorf("control.BaseURL(%q) = %q, want %q", tt.listen, got, tt.url)
		}
	}
	if got := listenPort("127.0.0.1:8787"); got != "8787" {
		t.Errorf("listenPort = %q, want 8787", got)
	}
}

func TestTokenStatus(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 19, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name   string
		tok    control.Token
		want   string
		active bool
	}{
		{"active", control.Token{}, "Active", true},
		{"expiring", control.Token{ExpiresAt: at(28 * 24 * time.Hour)}, "Expires in 28 days", true},
		{"expired", control.Token{ExpiresAt: at(-time.Hour)}, "Expired", false},
		{"revoked", control.Token{RevokedAt: at(-time.Hour)}, "Revoked", false},
		{"revoked and expiring", control.Token{RevokedAt: at(-time.Hour), ExpiresAt: at(time.Hour)}, "Revoked", false},
		{"spent", control.Token{ExpiresAt: at(28 * 24 * time.Hour), Limits: control.Limits{MaxRequests: 5, Per: control.DefaultPer},
			Window: &control.TokenWindow{ResetsAt: time.Date(2026, 3, 10, 17, 5, 0, 0, time.UTC), Requests: 5}}, "Spent until 17:05", true},
		{"window over", control.Token{Limits: control.Limits{MaxRequests: 5, Per: control.DefaultPer},
			Window: &control.TokenWindow{ResetsAt: at(-time.Minute).UTC(), Requests: 5}}, "Active", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokenStatus(tt.tok, now); got != tt.want {
				t.Errorf("tokenStatus = %q, want %q", got, tt.want)
			}
			if got := tokenActive(tt.tok, now); got != tt.active {
				t.Errorf("tokenActive = %v, want %v", got, tt.active)
			}
		})
	}
}

func TestStrategies(t *testing.T) {
	if len(strategies) != len(config.Strategies) {
		t.Fatalf("window offers %d strategies, config knows %d", len(strategies), len(config.Strategies))
	}
	for i, v := range config.Strategies {
		if strategies[i].Value != v {
			t.Errorf("strategy %d = %q, want %q", i, strategies[i].Value, v)
		}
		if got := strategyValue(words.Strategy(v)); got != v {
			t.Errorf("strategy %q does not round-trip: %q", v, got)
		}
	}
	if strategyValue("Fastest") != "" {
		t.Error("unknown strategy maps to something")
	}
}

func TestTTLFor(t *testing.T) {
	if got, want := ttlFor("30 days"), 30*24*time.Hour; got != want {
		t.Errorf("ttlFor(30 days) = %v, want %v", got, want)
	}
	if got := ttlFor("Never expires"); got != 0 {
		t.Errorf("ttlFor(Never expires) = %v, want 0", got)
	}
}

func TestLoginNameProblem(t *testing.T) {
	taken := []string{"work", "side"}
	for _, tt := range []struct{ name, want string }{
		{"personal", ""},
		{"claude-2", ""},
		{"", "Give the account a name"},
		{"per sonal", "A name may hold letters, digits, “-”, “_” and “.”"},
		{"..", "A name may hold letters, digits, “-”, “_” and “.”"},
		{"work", "work is an account already: choose another name, or use Log in again on its row"},
	} {
		if got := loginNameProblem(tt.name, taken); got != tt.want {
			t.Errorf("loginNameProblem(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got, want := newLoginName([]string{"claude", "work"}), "claude-2"; got != want {
		t.Errorf("newLoginName = %q, want %q", got, want)
	}
}

func TestFoundText(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	in := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tt := range []struct {
		name string
		dc   control.DirCheck
		want string
		ok   bool
	}{
		{"renews", control.DirCheck{Found: true, Subscription: "max", RateLimitTier: "default_claude_max_5x", ExpiresAt: in(3 * time.Hour), CanRefresh: true}, "Max 5x · token renews in 3 h", true},
		{"expired, refreshable", control.DirCheck{Found: true, Subscription: "pro", ExpiresAt: in(-2 * time.Hour), CanRefresh: true}, "Pro · token expired 2 h ago, renewed when used", true},
		{"dead", control.DirCheck{Found: true, ExpiresAt: in(-time.Hour), Problem: "the token has expired and there is no refresh token: log in again"}, "the token has expired and there is no refresh token: log in again", false},
		{"setup token", control.DirCheck{Found: true}, "long-lived token", true},
		{"login ends soon", control.DirCheck{Found: true, Subscription: "pro", ExpiresAt: in(3 * time.Hour), CanRefresh: true, LoginExpiresAt: in(50 * time.Hour)}, "Pro · token renews in 3 h · login expires in 2 days", true},
		{"login far from its end", control.DirCheck{Found: true, ExpiresAt: in(3 * time.Hour), CanRefresh: true, LoginExpiresAt: in(20 * 24 * time.Hour)}, "token renews in 3 h", true},
		{"login ended", control.DirCheck{Found: true, ExpiresAt: in(3 * time.Hour), CanRefresh: true, LoginExpiresAt: in(-time.Hour)}, "login expired", false},
	} {
		got, ok := foundText(tt.dc, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: foundText = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLoginDoneText(t *testing.T) {
	for _, tt := range []struct {
		l     control.Login
		isNew bool
		want  string
	}{
		{control.Login{Account: "new", Email: "ana@example.com", Subscription: "max", RateLimitTier: "default_claude_max_20x"}, true,
			"Added new: logged in as ana@example.com (Max 20x). It takes requests now."},
		{control.Login{Account: "new"}, true, "Added new: logged in. It takes requests now."},
		{control.Login{Account: "work", Email: "ana@example.com"}, false, "Logged in to work again as ana@example.com."},
		{control.Login{Account: "work", Email: "bob@example.com", Reason: "logged in as bob@example.com; the account was ana@example.com"}, false,
			"Logged in to work again as bob@example.com. Logged in as bob@example.com; the account was ana@example.com."},
	} {
		if got := loginDoneText(tt.l, tt.isNew); got != tt.want {
			t.Errorf("loginDoneText = %q, want %q", got, tt.want)
		}
	}
}

func TestModelGroups(t *testing.T) {
	got := modelGroups(map[string]string{"o3": "claude-opus-4-5", "gpt-4o": "claude-sonnet-4-5", "gpt-4": "claude-sonnet-4-5"})
	want := []modelGroup{{"claude-opus-4-5", []string{"o3"}}, {"claude-sonnet-4-5", []string{"gpt-4", "gpt-4o"}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("modelGroups = %v, want %v", got, want)
	}
	if got, want := modelsWhere(""), "Read-only here: change it under the config key [models] in the configuration file, then restart MaxRouter (or send it SIGHUP)."; got != want {
		t.Errorf("modelsWhere = %q, want %q", got, want)
	}
}

func TestClaudeTexts(t *testing.T) {
	const file, home = "/home/ada/.claude/settings.json", "/home/ada"
	pair := func(title, body string) [2]string { return [2]string{title, body} }
	for _, tt := range []struct {
		name      string
		got, want [2]string
	}{
		{"applied", pair(ClaudeApplied(setup.ClaudeResult{Settings: file, Changed: true, Backup: file + ".maxrouter-backup-x"}, home)),
			[2]string{"Claude Code goes through MaxRouter now", "Wrote its address and a client token into ~/.claude/settings.json. The file as it was is saved next to it. Start a new claude session to use it."}},
		{"already", pair(ClaudeApplied(setup.ClaudeResult{Settings: file}, home)),
			[2]string{"Claude Code goes through MaxRouter already", "~/.claude/settings.json is set up; nothing changed."}},
		{"restored", pair(ClaudeUndone(setup.ClaudeUndone{Settings: file, Restored: file + ".maxrouter-backup-x"}, home)),
			[2]string{"Claude Code no longer goes through MaxRouter", "Restored ~/.claude/settings.json as it was. Its client token is revoked."}},
		{"keys removed", pair(ClaudeUndone(setup.ClaudeUndone{Settings: file, KeysRemoved: true}, home)),
			[2]string{"Claude Code no longer goes through MaxRouter", "Removed MaxRouter's two keys from ~/.claude/settings.json (it changed since; the backup is kept). Its client token is revoked."}},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
