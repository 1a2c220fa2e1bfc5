package tray

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// now is the tests' clock: a Tuesday afternoon, UTC.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func at(hhmm string) *time.Time {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		panic(err)
	}
	v := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	return &v
}

func acct(name, state string) control.Account {
	return control.Account{Name: name, Dir: "~/.claude-" + name, State: state}
}

func TestAccountLine(t *testing.T) {
	tomorrow := now.Add(24 * time.Hour)
	tests := []struct {
		name string
		a    control.Account
		want string
	}{
		{
			name: "available with plan and usage",
			a: control.Account{Name: "work", State: control.StateAvailable, Subscription: "max",
				RateLimitTier: "default_claude_max_20x",
				FiveHour:      control.Window{Utilization: 0.42, ResetsAt: at("15:00")},
				SevenDay:      control.Window{Utilization: 0.175, ResetsAt: &tomorrow}},
			want: "✓ work    Max 20x · 5h 42% · 7d 18%",
		},
		{
			name: "available, nothing known yet",
			a:    control.Account{Name: "new", State: control.StateAvailable},
			want: "✓ new    available",
		},
		{
			name: "available pro, only 5h seen",
			a: control.Account{Name: "p", State: control.StateAvailable, Subscription: "pro",
				FiveHour: control.Window{Utilization: 0, ResetsAt: at("13:00")}},
			want: "✓ p    Pro · 5h 0%",
		},
		{
			name: "available with a model cooldown",
			a: control.Account{Name: "w", State: control.StateAvailable, Subscription: "max",
				ModelCooldowns: map[string]time.Time{"opus": tomorrow, "haiku": now.Add(-time.Minute)}},
			want: "✓ w    Max · opus limited until Wed 12:00",
		},
		{
			name: "cooling with reason",
			a:    control.Account{Name: "personal", State: control.StateCooling, CooldownUntil: at("14:32"), Reason: "5-hour limit"},
			want: "⏸ personal    cooling until 14:32 (5-hour limit)",
		},
		{
			name: "cooling until another day, no reason",
			a:    control.Account{Name: "p", State: control.StateCooling, CooldownUntil: &tomorrow},
			want: "⏸ p    cooling until Wed 12:00",
		},
		{
			name: "cooling, end unknown",
			a:    control.Account{Name: "p", State: control.StateCooling, Reason: "rate limited."},
			want: "⏸ p    cooling (rate limited)",
		},
		{
			name: "needs login",
			a:    control.Account{Name: "side", Dir: "~/.claude-side", State: control.StateNeedsLogin},
			want: "⚠ side    needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login",
		},
		{
			name: "needs login, default dir",
			a:    control.Account{Name: "default", Dir: "~/.claude/", State: control.StateNeedsLogin},
			want: "⚠ default    needs login — run: claude /login",
		},
		{
			name: "needs login, token account",
			a:    control.Account{Name: "tok", State: control.StateNeedsLogin},
			want: "⚠ tok    needs a new token — run: claude setup-token",
		},
		{
			name: "error, multi-line message",
			a:    control.Account{Name: "e", State: control.StateError, LastError: "refresh failed:\n  503"},
			want: "⚠ e    error: refresh failed: 503",
		},
		{
			name: "disabled",
			a:    control.Account{Name: "off", State: control.StateDisabled},
			want: "○ off    disabled",
		},
		{
			name: "unknown state",
			a:    control.Account{Name: "x", State: "warming_up"},
			want: "? x    warming up",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AccountLine(tt.a, now); got != tt.want {
				t.Errorf("AccountLine() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAccountLineLongError(t *testing.T) {
	long := ""
	for range 30 {
		long += "word "
	}
	got := AccountLine(control.Account{Name: "e", State: control.StateError, LastError: long}, now)
	if r := []rune(got); len(r) > len("⚠ e    error: ")+maxDetail || r[len(r)-1] != '…' {
		t.Errorf("AccountLine() = %q, want it cut to %d runes of detail ending in …", got, maxDetail)
	}
}

func TestTitleAndIconState(t *testing.T) {
	tests := []struct {
		name      string
		accounts  []control.Account
		reachable bool
		paused    bool
		title     string
		state     State
	}{
		{"unreachable", []control.Account{acct("a", control.StateAvailable)}, false, false, "MaxRouter — daemon not running", Unreachable},
		{"unreachable wins over paused", []control.Account{acct("a", control.StateAvailable)}, false, true, "MaxRouter — daemon not running", Unreachable},
		{"paused", []control.Account{acct("a", control.StateAvailable), acct("b", control.StateAvailable), acct("c", control.StateCooling)}, true, true,
			"MaxRouter — paused (2 of 3 accounts available)", NoneAvailable},
		{"paused without accounts", nil, true, true, "MaxRouter — paused (no accounts yet)", NoneAvailable},
		{"no accounts", nil, true, false, "MaxRouter — no accounts yet", NoneAvailable},
		{"all available", []control.Account{acct("a", control.StateAvailable), acct("b", control.StateAvailable)}, true, false,
			"MaxRouter — 2 of 2 accounts available", AllAvailable},
		{"some cooling", []control.Account{acct("a", control.StateAvailable), acct("b", control.StateCooling), acct("c", control.StateNeedsLogin)}, true, false,
			"MaxRouter — 1 of 3 accounts available", SomeCooling},
		{"disabled ones do not count", []control.Account{acct("a", control.StateAvailable), acct("b", control.StateDisabled)}, true, false,
			"MaxRouter — 1 of 1 account available", AllAvailable},
		{"none available", []control.Account{acct("a", control.StateCooling), acct("b", control.StateError)}, true, false,
			"MaxRouter — 0 of 2 accounts available", NoneAvailable},
		{"all disabled", []control.Account{acct("a", control.StateDisabled)}, true, false,
			"MaxRouter — every account is disabled", NoneAvailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Title(tt.accounts, tt.reachable, tt.paused); got != tt.title {
				t.Errorf("Title() = %q, want %q", got, tt.title)
			}
			if got := IconState(tt.accounts, tt.reachable, tt.paused); got != tt.state {
				t.Errorf("IconState() = %v, want %v", got, tt.state)
			}
		})
	}
}

func TestTooltip(t *testing.T) {
	cooling := func(name, until string) control.Account {
		a := acct(name, control.StateCooling)
		a.CooldownUntil = at(until)
		return a
	}
	tests := []struct {
		name     string
		accounts []control.Account
		paused   bool
		want     string
	}{
		{"some available: title only", []control.Account{acct("a", control.StateAvailable), cooling("b", "14:00")}, false,
			"MaxRouter — 1 of 2 accounts available"},
		{"none available: soonest recovery", []control.Account{cooling("a", "16:10"), cooling("work", "14:32"), acct("c", control.StateNeedsLogin)}, false,
			"MaxRouter — 0 of 3 accounts available\nFirst back at 14:32 (work)"},
		{"none available, none cooling", []control.Account{acct("c", control.StateNeedsLogin)}, false,
			"MaxRouter — 0 of 1 account available"},
		{"paused: how to resume", []control.Account{acct("a", control.StateAvailable), cooling("b", "14:00")}, true,
			"MaxRouter — paused (1 of 2 accounts available)\nClients get an error until you choose Resume routing."},
		{"paused with none available: how to resume", []control.Account{cooling("work", "14:32")}, true,
			"MaxRouter — paused (0 of 1 account available)\nClients get an error until you choose Resume routing."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tooltip(tt.accounts, true, tt.paused, now); got != tt.want {
				t.Errorf("Tooltip() = %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := Tooltip(nil, false, true, now), "MaxRouter — daemon not running"; got != want {
		t.Errorf("Tooltip(unreachable) = %q, want %q", got, want)
	}
}

func TestTooltipLocation(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	a := acct("work", control.StateCooling)
	a.CooldownUntil = at("14:32") // UTC
	got := Tooltip([]control.Account{a}, true, false, now.In(berlin))
	if want := "MaxRouter — 0 of 1 account available\nFirst back at 15:32 (work)"; got != want {
		t.Errorf("Tooltip() = %q, want %q", got, want)
	}
}

func TestLoginCommand(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"~/.claude", "claude /login"},
		{"~/.claude-side", "CLAUDE_CONFIG_DIR=~/.claude-side claude /login"},
		{"~/Claude Odd", "CLAUDE_CONFIG_DIR=~/'Claude Odd' claude /login"},
		{"/srv/it's", `CLAUDE_CONFIG_DIR='/srv/it'\''s' claude /login`},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			if got := LoginCommand(tt.dir); got != tt.want {
				t.Errorf("LoginCommand(%q) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestShortenHome(t *testing.T) {
	tests := []struct{ dir, home, want string }{
		{"/home/ann/.claude-work", "/home/ann", "~/.claude-work"},
		{"/home/ann", "/home/ann", "~"},
		{"/home/anna/.claude", "/home/ann", "/home/anna/.claude"},
		{"~/.claude", "/home/ann", "~/.claude"},
		{"/home/ann/.claude", "", "/home/ann/.claude"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			if got := shortenHome(tt.dir, tt.home); got != tt.want {
				t.Errorf("shortenHome(%q, %q) = %q, want %q", tt.dir, tt.home, got, tt.want)
			}
		})
	}
}

func TestProblem(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w at x: refused", control.ErrUnreachable), "The MaxRouter daemon is not running."},
		{&control.APIError{Status: 401}, "The daemon refused this app's control secret (is it using another data directory?)."},
		{errors.New("boom\nbang"), "Cannot talk to the daemon: boom bang"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Problem(tt.err); got != tt.want {
				t.Errorf("Problem(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{AllAvailable: "all available", SomeCooling: "some cooling",
		NoneAvailable: "none available", Unreachable: "unreachable", State(9): "State(9)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
