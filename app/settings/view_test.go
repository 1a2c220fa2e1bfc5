package settings

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

func TestStateText(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 19, 0, 0, time.UTC)
	until := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name string
		a    control.Account
		want string
	}{
		{"available", control.Account{State: control.StateAvailable}, "Available"},
		{"available with a model limit", control.Account{State: control.StateAvailable,
			ModelCooldowns: map[string]time.Time{"opus": now.Add(26 * time.Hour), "haiku": now.Add(-time.Minute)}},
			"Available · Opus limited until Wed 14:19"},
		{"cooling today", control.Account{State: control.StateCooling, CooldownUntil: until(2*time.Hour + 13*time.Minute), Reason: "5-hour limit"},
			"Cooling until 14:32 (5-hour limit)"},
		{"cooling for days", control.Account{State: control.StateCooling, CooldownUntil: until(3 * 24 * time.Hour), Reason: "7-day limit"},
			"Cooling until Fri 12:19 (7-day limit)"},
		{"cooling far away", control.Account{State: control.StateCooling, CooldownUntil: until(9 * 24 * time.Hour)},
			"Cooling until 19 Mar 12:19"},
		{"cooling without end", control.Account{State: control.StateCooling, Reason: "rate limited"}, "Cooling (rate limited)"},
		{"needs login", control.Account{State: control.StateNeedsLogin, Dir: "~/.claude-side"},
			"Needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"},
		{"needs login, absolute dir under home", control.Account{State: control.StateNeedsLogin, Dir: "/home/ada/.claude-x"},
			"Needs login — run: CLAUDE_CONFIG_DIR=~/.claude-x claude /login"},
		{"needs login, default dir", control.Account{State: control.StateNeedsLogin, Dir: "~/.claude"},
			"Needs login — run: claude /login"},
		{"needs login, dir with a space", control.Account{State: control.StateNeedsLogin, Dir: "~/Claude Work"},
			"Needs login — run: CLAUDE_CONFIG_DIR=~/'Claude Work' claude /login"},
		{"needs a token", control.Account{State: control.StateNeedsLogin},
			"Needs a new token — run: claude setup-token, then put it in the configuration"},
		{"error", control.Account{State: control.StateError, LastError: "credentials file is not JSON"}, "Error: credentials file is not JSON"},
		{"error with reason only", control.Account{State: control.StateError, Reason: "refresh failed"}, "Error: refresh failed"},
		{"error without words", control.Account{State: control.StateError}, "Error"},
		{"disabled", control.Account{State: control.StateDisabled}, "Disabled — not used for requests"},
		{"unknown", control.Account{State: "sleeping"}, "sleeping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stateText(tt.a, now, "/home/ada"); got != tt.want {
				t.Errorf("stateText = %q, want %q", got, tt.want)
			}
		})
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

func TestResetText(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 19, 0, 0, time.UTC)
	tests := []struct {
		in   time.Duration
		want string
	}{
		{2*time.Hour + 13*time.Minute + 40*time.Second, "resets in 2 h 13 min"},
		{4*time.Minute + 59*time.Second, "resets in 4 min"},
		{3 * 24 * time.Hour, "resets in 3 days"},
		{3*24*time.Hour + 11*time.Hour, "resets in 3 days"},
		{3*24*time.Hour + 13*time.Hour, "resets in 4 days"},
		{3 * time.Hour, "resets in 3 h"},
		{30 * time.Second, "resets in under a minute"},
		{time.Hour, "resets in 1 h"},
		{24 * time.Hour, "resets in 1 day"},
		{30 * time.Hour, "resets in 1 day 6 h"},
		{0, "resets now"},
		{-time.Hour, "resets now"},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			at := now.Add(tt.in)
			if got := resetText(&at, now); got != tt.want {
				t.Errorf("resetText(now+%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := resetText(nil, now); got != "" {
		t.Errorf("resetText(nil) = %q, want empty", got)
	}
}

func TestTokenText(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 19, 0, 0, time.UTC)
	tests := []struct {
		in   time.Duration
		want string
	}{
		{3*time.Hour + 30*time.Second, "token renews in 3 h"},
		{40 * time.Minute, "token renews in 40 min"},
		{-5 * time.Minute, "token expired 5 min ago"},
		{-10 * time.Second, "token expired just now"},
	}
	for _, tt := range tests {
		at := now.Add(tt.in)
		if got := tokenText(&at, now); got != tt.want {
			t.Errorf("tokenText(now+%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := tokenText(nil, now); got != "" {
		t.Errorf("tokenText(nil) = %q, want empty (long-lived token)", got)
	}
}

func TestUsageFraction(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0, 0}, {0.42, 0.42}, {1, 1}, {1.7, 1}, {-0.2, 0}, {math.NaN(), 0}, {math.Inf(1), 1},
	}
	for _, tt := range tests {
		if got := usageFraction(tt.in); got != tt.want {
			t.Errorf("usageFraction(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestUsagePercent(t *testing.T) {
	reset := time.Now()
	tests := []struct {
		w    control.Window
		want string
	}{
		{control.Window{}, "–"},
		{control.Window{ResetsAt: &reset}, "0%"},
		{control.Window{Utilization: 0.424}, "42%"},
		{control.Window{Utilization: 1.3, ResetsAt: &reset}, "100%"},
	}
	for _, tt := range tests {
		if got := usagePercent(tt.w); got != tt.want {
			t.Errorf("usagePercent(%+v) = %q, want %q", tt.w, got, tt.want)
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

func TestTildePath(t *testing.T) {
	tests := []struct{ dir, home, want string }{
		{"/home/ada/.claude-work", "/home/ada", "~/.claude-work"},
		{"/home/ada/.claude-work/", "/home/ada", "~/.claude-work"},
		{"/home/ada", "/home/ada", "~"},
		{"/home/adam/.claude", "/home/ada", "/home/adam/.claude"},
		{"/srv/claude", "/home/ada", "/srv/claude"},
		{"~/.claude", "/home/ada", "~/.claude"},
		{"/home/ada/.claude", "", "/home/ada/.claude"},
		{"", "/home/ada", ""},
	}
	for _, tt := range tests {
		if got := tildePath(tt.dir, tt.home); got != tt.want {
			t.Errorf("tildePath(%q, %q) = %q, want %q", tt.dir, tt.home, got, tt.want)
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
		if got := baseURLFor(tt.listen); got != tt.url {
			t.Errorf("baseURLFor(%q) = %q, want %q", tt.listen, got, tt.url)
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
		if got := strategyValue(strategyLabel(v)); got != v {
			t.Errorf("strategy %q does not round-trip: %q", v, got)
		}
	}
	if strategyLabel("fastest") != "" || strategyValue("Fastest") != "" {
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

func TestFormConfig(t *testing.T) {
	base := config.Default()
	base.Listen = "0.0.0.0:8787"
	base.Upstream = "http://127.0.0.1:9/x"
	base.DataDir = "~/data"
	base.Accounts = []config.Account{{Name: "a", Dir: "~/.claude"}}
	off := false
	f := form{
		Strategy: "headroom", Cooldown: 2 * time.Minute, Port: 9000, Affinity: false, Notify: true,
		Notifications: config.Notifications{CooldownStarted: true},
		Accounts:      []config.Account{{Name: "b", Dir: "~/.claude-b", Enabled: &off}, {Name: "a", Dir: "~/.claude"}},
	}
	got := f.config(base)

	want := base
	want.Strategy = "headroom"
	want.Cooldown = config.Duration(2 * time.Minute)
	want.Listen = "0.0.0.0:9000"
	want.SessionAffinity = false
	want.Notifications = config.Notifications{CooldownStarted: true}
	want.Accounts = f.Accounts
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config =\n%+v\nwant\n%+v", got, want)
	}
	*got.Accounts[0].Enabled = true
	if *f.Accounts[0].Enabled {
		t.Error("config shares Enabled with the form")
	}
	if len(base.Accounts) != 1 || base.Accounts[0].Name != "a" {
		t.Error("config changed base")
	}
}

func TestBannerText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w at x: refused", control.ErrUnreachable), "MaxRouter is not running (nothing answers at http://127.0.0.1:8787). Start it from the tray menu, then press Retry."},
		{&control.APIError{Status: 401, Message: "bad secret"}, "The MaxRouter daemon refused this window's key: it uses another data directory. control API: bad secret (401)"},
		{errors.New("boom"), "The MaxRouter daemon answered with an error: boom"},
	}
	for _, tt := range tests {
		if got := bannerText(tt.err, "http://127.0.0.1:8787"); got != tt.want {
			t.Errorf("bannerText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestClockText(t *testing.T) {
	now := time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Minute, "23:30"},
		{2 * time.Hour, "Wed 01:00"},
		{6 * 24 * time.Hour, "Mon 23:00"},
		{7 * 24 * time.Hour, "17 Mar 23:00"},
		{-time.Hour, "22:00"},
	}
	for _, tt := range tests {
		if got := clockText(now.Add(tt.in), now); got != tt.want {
			t.Errorf("clockText(now+%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
