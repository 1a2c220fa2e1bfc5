package tray

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// This file holds the tray's view decisions as pure functions of the live
// State: which icon, which title, which tooltip, what each account line
// says. The words themselves come from core/words.

// Icon is what the tray icon shows at a glance.
type Icon int

// The icons, from best to worst news; Down, Paused and NoAccounts say
// nothing about limits.
const (
	AllAvailable  Icon = iota // every enabled account takes requests
	SomeCooling               // some enabled accounts rest, at least one works
	NeedsLogin                // an account needs the person: a login or a failing one
	NoneAvailable             // no enabled account takes requests
	Paused                    // routing is paused by the person
	NoAccounts                // no account is configured (or all are disabled)
	Down                      // the daemon cannot be reached
	Connecting                // not known yet
)

// String names the icon for logs and tests.
func (i Icon) String() string {
	switch i {
	case AllAvailable:
		return "all available"
	case SomeCooling:
		return "some cooling"
	case NeedsLogin:
		return "needs login"
	case NoneAvailable:
		return "none available"
	case Paused:
		return "paused"
	case NoAccounts:
		return "no accounts"
	case Down:
		return "daemon down"
	case Connecting:
		return "connecting"
	}
	return fmt.Sprintf("Icon(%d)", int(i))
}

// IconFor decides the icon. An account that needs a login or fails comes
// before cooling ones (it needs the person); no account taking requests at
// all comes before both, unless every account needs the person.
func IconFor(s live.State) Icon {
	switch {
	case !s.Tried:
		return Connecting
	case !s.Connected:
		return Down
	case s.Paused():
		return Paused
	}
	avail, enabled := words.Counts(s.Accounts)
	if enabled == 0 {
		return NoAccounts
	}
	broken, cooling := 0, 0
	for _, a := range s.Accounts {
		switch a.State {
		case control.StateNeedsLogin, control.StateError:
			broken++
		case control.StateCooling:
			cooling++
		}
	}
	switch {
	case avail == 0 && cooling > 0:
		return NoneAvailable
	case broken > 0:
		return NeedsLogin
	case avail == 0:
		return NoneAvailable
	case avail < enabled:
		return SomeCooling
	}
	return AllAvailable
}

// Title is the menu's first line: "MaxRouter — 2 of 3 accounts available",
// "MaxRouter — paused (…)", "MaxRouter — daemon not running",
// "MaxRouter — stopped".
func Title(s live.State) string {
	switch {
	case !s.Tried:
		return "MaxRouter — connecting…"
	case !s.Connected && s.Stopped:
		return "MaxRouter — stopped"
	case !s.Connected:
		return "MaxRouter — daemon not running"
	case s.Paused():
		return "MaxRouter — paused (" + words.Pool(s.Accounts) + ")"
	}
	return "MaxRouter — " + words.Pool(s.Accounts)
}

// Tooltip is the hover text: the title, and what matters next — when the
// first account comes back while none is available, how to resume while
// paused, that clients get errors while the daemon is down.
func Tooltip(s live.State, now time.Time) string {
	title := Title(s)
	switch IconFor(s) {
	case Down:
		return title + "\nClients get errors until you choose " + LabelStart + "."
	case Paused:
		return title + "\nClients get an error until you choose " + LabelResume + "."
	case NoneAvailable:
		if first, ok := words.FirstBack(s.Accounts); ok {
			return title + "\nFirst back " + words.At(*first.CooldownUntil, now) + " (" + first.Name + ")"
		}
	case NeedsLogin:
		return title + "\nAn account needs you: open Settings."
	}
	return title
}

// Problem says why the daemon cannot be used, from the State's Problem.
func Problem(s live.State) string {
	switch {
	case s.Stopped:
		return "MaxRouter was stopped."
	case s.Problem == nil, errors.Is(s.Problem, control.ErrUnreachable):
		return "The MaxRouter daemon is not running."
	case errors.Is(s.Problem, control.ErrUnauthorized):
		return "The daemon refused this app's control secret (is it using another data directory?)."
	}
	return "Cannot talk to the daemon: " + words.Shorten(words.OneLine(s.Problem.Error()), maxDetail)
}

// Account line marks.
const (
	markAvailable = "✓"
	markCooling   = "⏸"
	markProblem   = "⚠"
	markDisabled  = "○"
)

// lineSep separates an account's name from its details in a menu line.
const lineSep = "    "

// maxDetail bounds an error message inside a menu line.
const maxDetail = 90

// AccountLine is one account's menu line: its state, what the person
// should know (billing extra usage, a login about to end), and its 5-hour
// and 7-day use with when each resets:
//
//	✓ work    Max 20x · 5h 42%, resets in 2 h 13 min · 7d 18%, resets in 4 days
//	⏸ personal    cooling until 14:32 (5-hour limit) · 5h 100%, resets in 47 min · 7d 61%, resets in 2 days
//	⚠ side    needs login — click to log in again
//
// logIn says that clicking the line of an account that needs a login logs
// it in again (see CanLogIn); without it the line names the command to
// run. Times are written in now's location, home as "~".
func AccountLine(a control.Account, now time.Time, home string, logIn bool) string {
	mark, detail := markAvailable, words.Brief(a, now, home)
	var parts []string
	switch a.State {
	case control.StateAvailable:
		detail = ""
		if p := words.Plan(a.Subscription, a.RateLimitTier); p != "" {
			parts = append(parts, p)
		}
		parts = append(parts, words.Notes(a, now)...)
		parts = append(parts, windows(a, now)...)
		parts = append(parts, words.ModelLimits(a.ModelCooldowns, now)...)
		if len(parts) == 0 {
			parts = append(parts, "available")
		}
	case control.StateCooling:
		mark = markCooling
		parts = append(parts, words.Notes(a, now)...)
		parts = append(parts, windows(a, now)...)
	case control.StateNeedsLogin:
		mark = markProblem
		if logIn && CanLogIn(a) {
			detail = "needs login — click to log in again"
		}
	case control.StateError:
		mark = markProblem
	case control.StateDisabled:
		mark = markDisabled
	default:
		mark = "?"
	}
	if detail != "" {
		parts = append([]string{detail}, parts...)
	}
	return mark + " " + a.Name + lineSep + strings.Join(parts, " · ")
}

// windows writes what is known of an account's 5-hour and 7-day windows:
// "5h 42%, resets in 2 h 13 min", "7d 18%".
func windows(a control.Account, now time.Time) []string {
	var out []string
	for _, w := range []struct {
		name string
		win  control.Window
	}{{"5h", a.FiveHour}, {"7d", a.SevenDay}} {
		p := words.Percent(w.win)
		if p == "" {
			continue
		}
		s := w.name + " " + p
		if r := words.Resets(w.win.ResetsAt, now); r != "" {
			s += ", " + r
		}
		out = append(out, s)
	}
	return out
}

// CanLogIn reports whether the daemon can log the account in again
// itself: an account that is a Claude Code folder, not a token from
// `claude setup-token`.
func CanLogIn(a control.Account) bool { return a.Dir != "" && a.Dir != words.TokenDir }
