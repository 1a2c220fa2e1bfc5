package words

import (
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

func TestTildeAndLoginCommand(t *testing.T) {
	home := "/home/ana"
	tests := []struct {
		dir, tilde, login string
	}{
		{"/home/ana/.claude", "~/.claude", "claude /login"},
		{"/home/ana/.claude/", "~/.claude", "claude /login"},
		{"~/.claude", "~/.claude", "claude /login"},
		{"/home/ana/.claude-work", "~/.claude-work", "CLAUDE_CONFIG_DIR=~/.claude-work claude /login"},
		{"/home/ana/My Claude", "~/My Claude", "CLAUDE_CONFIG_DIR=~/'My Claude' claude /login"},
		{"/srv/claude's", "/srv/claude's", `CLAUDE_CONFIG_DIR='/srv/claude'\''s' claude /login`},
		{"/home/anabel/.claude", "/home/anabel/.claude", "CLAUDE_CONFIG_DIR=/home/anabel/.claude claude /login"},
		{TokenDir, TokenDir, "claude setup-token"},
		{"", "", "claude setup-token"},
	}
	for _, tt := range tests {
		if got := Tilde(tt.dir, home); got != tt.tilde {
			t.Errorf("Tilde(%q) = %q, want %q", tt.dir, got, tt.tilde)
		}
		if got := LoginCommand(tt.dir, home); got != tt.login {
			t.Errorf("LoginCommand(%q) = %q, want %q", tt.dir, got, tt.login)
		}
	}
}

func TestWindows(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	reset := now.Add(2*time.Hour + 13*time.Minute)
	past := now.Add(-time.Minute)
	tests := []struct {
		name, got, want string
	}{
		{"percent", Percent(control.Window{Utilization: 0.42, ResetsAt: &reset}), "42%"},
		{"percent over", Percent(control.Window{Utilization: 1.3}), "100%"},
		{"percent unknown", Percent(control.Window{}), ""},
		{"percent zero but known", Percent(control.Window{ResetsAt: &reset}), "0%"},
		{"resets", Resets(&reset, now), "resets in 2 h 13 min"},
		{"resets soon", Resets(ptr(now.Add(30*time.Second)), now), "resets in under a minute"},
		{"reset passed", Resets(&past, now), "resets now"},
		{"reset unknown", Resets(nil, now), ""},
		{"token renews", TokenExpiry(ptr(now.Add(3*time.Hour)), now), "token renews in 3 h"},
		{"token expired", TokenExpiry(ptr(now.Add(-5*time.Minute)), now), "token expired 5 min ago"},
		{"no token expiry", TokenExpiry(nil, now), ""},
		{"limit 5h", Limit("five_hour", ""), "5-hour limit"},
		{"limit 7d", Limit("seven_day", "whatever"), "weekly limit"},
		{"limit opus", Limit("seven_day_opus", ""), "weekly Opus limit"},
		{"limit reason", Limit("", "overloaded."), "overloaded"},
		{"limit nothing", Limit("", ""), "rate limit"},
		{"limit model bucket", Limit("seven_day_oi", ""), "weekly model limit"},
		{"limit model bucket with reason", Limit("seven_day_oi", "usage limit"), "usage limit"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func ptr(t time.Time) *time.Time { return &t }

func TestState(t *testing.T) {
	now := time.Date(2026, 3, 4, 13, 23, 0, 0, time.UTC)
	until := time.Date(2026, 3, 4, 14, 32, 0, 0, time.UTC)
	retry := now.Add(42 * time.Minute)
	tests := []struct {
		a    control.Account
		want string
	}{
		{control.Account{State: control.StateAvailable}, "available"},
		{control.Account{State: control.StateCooling, CooldownUntil: &until, Reason: "5-hour limit"}, "cooling until 14:32 (5-hour limit)"},
		{control.Account{State: control.StateNeedsLogin, Dir: "/home/ana/.claude-side"}, "needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"},
		{control.Account{State: control.StateNeedsLogin, Dir: TokenDir}, "needs a new token — run: claude setup-token"},
		{control.Account{State: control.StateError, Reason: "can't reach the token endpoint (platform.claude.com): no such host", RetryAt: &retry},
			"error: can't reach the token endpoint (platform.claude.com): no such host — trying again at 14:05"},
		{control.Account{State: control.StateError, LastError: "no credentials found\nin ~/.claude-x"}, "error: no credentials found in ~/.claude-x"},
		{control.Account{State: control.StateDisabled}, "disabled"},
		{control.Account{}, "not in use yet"},
	}
	for _, tt := range tests {
		if got := State(tt.a, now, "/home/ana"); got != tt.want {
			t.Errorf("State(%s) = %q, want %q", tt.a.State, got, tt.want)
		}
	}
}

func TestUsageAndPool(t *testing.T) {
	now := time.Date(2026, 3, 4, 13, 23, 0, 0, time.UTC)
	reset := now.Add(time.Hour)
	a := control.Account{Subscription: "max", RateLimitTier: "default_claude_max_20x",
		FiveHour: control.Window{Utilization: 0.42, ResetsAt: &reset}, SevenDay: control.Window{Utilization: 0.18, ResetsAt: &reset},
		ModelCooldowns: map[string]time.Time{"opus": now.Add(48 * time.Hour), "haiku": now.Add(-time.Hour)}}
	if got, want := Usage(a, now), "Max 20x · 5h 42% · 7d 18% · Opus limited until Fri 13:23"; got != want {
		t.Errorf("Usage = %q, want %q", got, want)
	}
	if got := Usage(control.Account{}, now); got != "" {
		t.Errorf("Usage of nothing known = %q, want empty", got)
	}
	accts := []control.Account{{State: control.StateAvailable}, {State: control.StateCooling}, {State: control.StateDisabled}}
	for _, tt := range []struct {
		accts []control.Account
		want  string
	}{
		{accts, "1 of 2 accounts available"},
		{accts[:1], "1 of 1 account available"},
		{accts[2:], "every account is disabled"},
		{nil, "no accounts yet"},
	} {
		if got := Pool(tt.accts); got != tt.want {
			t.Errorf("Pool = %q, want %q", got, tt.want)
		}
	}
	if got := List([]string{"a", "b", "c"}); got != "a, b and c" {
		t.Errorf("List = %q", got)
	}
	if got := Sentence("cooling until 14:32"); got != "Cooling until 14:32" {
		t.Errorf("Sentence = %q", got)
	}
}
