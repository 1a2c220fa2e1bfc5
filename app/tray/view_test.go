package tray

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/control"
)

func TestIconFor(t *testing.T) {
	avail := control.Account{State: control.StateAvailable}
	cooling := control.Account{State: control.StateCooling}
	login := control.Account{State: control.StateNeedsLogin}
	failing := control.Account{State: control.StateError}
	off := control.Account{State: control.StateDisabled}
	up := func(accts ...control.Account) live.State {
		return live.State{Tried: true, Connected: true, Accounts: accts}
	}
	paused := up(avail)
	paused.Status.Paused = true
	tests := []struct {
		name string
		s    live.State
		want Icon
	}{
		{"connecting", live.State{}, Connecting},
		{"down", live.State{Tried: true}, Down},
		{"paused", paused, Paused},
		{"no accounts", up(), NoAccounts},
		{"all disabled", up(off), NoAccounts},
		{"all available", up(avail, avail, off), AllAvailable},
		{"some cooling", up(avail, cooling), SomeCooling},
		{"one needs login", up(avail, login), NeedsLogin},
		{"one failing", up(avail, failing), NeedsLogin},
		{"none available, some cooling", up(cooling, login), NoneAvailable},
		{"none available, all need the person", up(login, failing), NeedsLogin},
	}
	for _, tt := range tests {
		if got := IconFor(tt.s); got != tt.want {
			t.Errorf("%s: IconFor = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTitleAndTooltip(t *testing.T) {
	now := time.Date(2026, 3, 4, 13, 23, 0, 0, time.UTC)
	back := now.Add(42 * time.Minute)
	cooling := control.Account{Name: "work", State: control.StateCooling, CooldownUntil: &back}
	up := live.State{Tried: true, Connected: true, Accounts: []control.Account{cooling}}
	paused := up
	paused.Status.Paused = true
	tests := []struct {
		name           string
		s              live.State
		title, tooltip string
	}{
		{"none available", up, "MaxRouter — 0 of 1 account available", "MaxRouter — 0 of 1 account available\nFirst back at 14:05 (work)"},
		{"paused", paused, "MaxRouter — paused (0 of 1 account available)", "MaxRouter — paused (0 of 1 account available)\nClients get an error until you choose Resume routing."},
		{"down", live.State{Tried: true}, "MaxRouter — daemon not running", "MaxRouter — daemon not running\nClients get errors until you choose Start MaxRouter."},
		{"stopped", live.State{Tried: true, Stopped: true}, "MaxRouter — stopped", "MaxRouter — stopped\nClients get errors until you choose Start MaxRouter."},
	}
	for _, tt := range tests {
		if got := Title(tt.s); got != tt.title {
			t.Errorf("%s: Title = %q, want %q", tt.name, got, tt.title)
		}
		if got := Tooltip(tt.s, now); got != tt.tooltip {
			t.Errorf("%s: Tooltip = %q, want %q", tt.name, got, tt.tooltip)
		}
	}
}

func TestAccountLine(t *testing.T) {
	now := time.Date(2026, 3, 4, 13, 23, 0, 0, time.UTC)
	in := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	retry := now.Add(42 * time.Minute)
	tests := []struct {
		name  string
		a     control.Account
		logIn bool
		want  string
	}{
		{"nothing known", control.Account{Name: "work", State: control.StateAvailable}, true, "✓ work    available"},
		{"quota of an idle account", control.Account{Name: "work", State: control.StateAvailable, Subscription: "max", RateLimitTier: "default_claude_max_20x",
			FiveHour: control.Window{Utilization: 0.24, ResetsAt: in(2*time.Hour + 10*time.Minute), AsOf: in(-time.Minute)},
			SevenDay: control.Window{Utilization: 0.18, ResetsAt: in(4 * 24 * time.Hour), AsOf: in(-time.Minute)}}, true,
			"✓ work    Max 20x · 5h 24%, resets in 2 h 10 min · 7d 18%, resets in 4 days"},
		{"window not started", control.Account{Name: "work", State: control.StateAvailable, FiveHour: control.Window{AsOf: in(-time.Minute)}}, true,
			"✓ work    5h 0%"},
		{"billing extra, login ending", control.Account{Name: "work", State: control.StateAvailable, Subscription: "pro",
			BillingExtra: true, LoginExpiresAt: in(2*24*time.Hour + time.Hour),
			FiveHour: control.Window{Utilization: 1.02, ResetsAt: in(30 * time.Minute)}}, true,
			"✓ work    Pro · billing extra usage · login expires in 2 days · 5h 100%, resets in 30 min"},
		{"cooling", control.Account{Name: "home", State: control.StateCooling, CooldownUntil: in(47 * time.Minute), Reason: "5-hour limit",
			SevenDay: control.Window{Utilization: 0.61, ResetsAt: in(2 * 24 * time.Hour)}}, true,
			"⏸ home    cooling until 14:10 (5-hour limit) · 7d 61%, resets in 2 days"},
		{"needs login", control.Account{Name: "side", Dir: "/home/ana/.claude-side", State: control.StateNeedsLogin}, true,
			"⚠ side    needs login — click to log in again"},
		{"needs login, no login action", control.Account{Name: "side", Dir: "/home/ana/.claude-side", State: control.StateNeedsLogin}, false,
			"⚠ side    needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"},
		{"needs a token", control.Account{Name: "ci", Dir: "(token)", State: control.StateNeedsLogin}, true,
			"⚠ ci    needs a new token — run: claude setup-token"},
		{"error", control.Account{Name: "work", State: control.StateError, Reason: "can't reach the token endpoint (platform.claude.com): " + strings.Repeat("x", 200), RetryAt: &retry}, true,
			"⚠ work    error: can't reach the token endpoint (platform.claude.com): xxxxx… — trying again at 14:05"},
		{"disabled", control.Account{Name: "off", State: control.StateDisabled}, true, "○ off    disabled"},
	}
	for _, tt := range tests {
		if got := AccountLine(tt.a, now, "/home/ana", tt.logIn); got != tt.want {
			t.Errorf("%s: AccountLine =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

func TestProblem(t *testing.T) {
	for _, tt := range []struct {
		s    live.State
		want string
	}{
		{live.State{Tried: true, Problem: control.ErrUnreachable}, "The MaxRouter daemon is not running."},
		{live.State{Tried: true, Problem: control.ErrUnauthorized}, "The daemon refused this app's control secret (is it using another data directory?)."},
		{live.State{Tried: true, Problem: errors.New("strange\nthings")}, "Cannot talk to the daemon: strange things"},
		{live.State{Tried: true, Stopped: true}, "MaxRouter was stopped."},
	} {
		if got := Problem(tt.s); got != tt.want {
			t.Errorf("Problem = %q, want %q", got, tt.want)
		}
	}
}
