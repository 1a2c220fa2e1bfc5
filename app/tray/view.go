package tray

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// State is what the tray icon shows at a glance.
type State int

// The icon states, from best to worst; Unreachable says nothing about the
// accounts.
const (
	AllAvailable  State = iota // every enabled account takes requests
	SomeCooling                // some enabled accounts are resting or broken, at least one works
	NoneAvailable              // no enabled account takes requests
	Unreachable                // the daemon cannot be reached
)

// String names the state for logs and tests.
func (s State) String() string {
	switch s {
	case AllAvailable:
		return "all available"
	case SomeCooling:
		return "some cooling"
	case NoneAvailable:
		return "none available"
	case Unreachable:
		return "unreachable"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// IconState decides the icon from the account snapshot: disabled accounts
// do not count, and no enabled account at all is NoneAvailable, as is
// paused routing (nothing takes requests).
func IconState(accounts []control.Account, reachable, paused bool) State {
	if !reachable {
		return Unreachable
	}
	if paused {
		return NoneAvailable
	}
	avail, enabled := counts(accounts)
	switch {
	case avail == 0:
		return NoneAvailable
	case avail < enabled:
		return SomeCooling
	}
	return AllAvailable
}

// counts returns how many accounts are available and how many are enabled.
func counts(accounts []control.Account) (avail, enabled int) {
	for _, a := range accounts {
		if a.State == control.StateDisabled {
			continue
		}
		enabled++
		if a.State == control.StateAvailable {
			avail++
		}
	}
	return avail, enabled
}

// Title is the first line of the menu: "MaxRouter — 2 of 3 accounts
// available", "MaxRouter — paused (2 of 3 accounts available)" while
// routing is paused, or "MaxRouter — daemon not running".
func Title(accounts []control.Account, reachable, paused bool) string {
	if !reachable {
		return "MaxRouter — daemon not running"
	}
	if paused {
		return "MaxRouter — paused (" + poolText(accounts) + ")"
	}
	return "MaxRouter — " + poolText(accounts)
}

// poolText says how many accounts take requests: "2 of 3 accounts
// available".
func poolText(accounts []control.Account) string {
	avail, enabled := counts(accounts)
	switch {
	case len(accounts) == 0:
		return "no accounts yet"
	case enabled == 0:
		return "every account is disabled"
	case enabled == 1:
		return fmt.Sprintf("%d of 1 account available", avail)
	}
	return fmt.Sprintf("%d of %d accounts available", avail, enabled)
}

// Tooltip is the text shown when hovering the icon: the title, and when no
// account is available the soonest recovery ("first back at 14:32
// (work)"), or while routing is paused how to resume it. Times are written
// in now's location.
func Tooltip(accounts []control.Account, reachable, paused bool, now time.Time) string {
	title := Title(accounts, reachable, paused)
	if reachable && paused {
		return title + "\nClients get an error until you choose " + LabelResume + "."
	}
	if IconState(accounts, reachable, paused) != NoneAvailable {
		return title
	}
	var first *control.Account
	for i, a := range accounts {
		if a.State != control.StateCooling || a.CooldownUntil == nil {
			continue
		}
		if first == nil || a.CooldownUntil.Before(*first.CooldownUntil) {
			first = &accounts[i]
		}
	}
	if first == nil {
		return title
	}
	return fmt.Sprintf("%s\nFirst back at %s (%s)", title, clock(*first.CooldownUntil, now), first.Name)
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

// AccountLine is one account's menu line:
//
//	✓ work    Max 20x · 5h 42% · 7d 18%
//	⏸ personal    cooling until 14:32 (5-hour limit)
//	⚠ side    needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login
//
// Times are written in now's location; a.Dir is shown as given (the tray
// writes the home directory as "~" before calling it).
func AccountLine(a control.Account, now time.Time) string {
	var mark, detail string
	switch a.State {
	case control.StateAvailable:
		mark = markAvailable
		var parts []string
		if p := words.Plan(a.Subscription, a.RateLimitTier); p != "" {
			parts = append(parts, p)
		}
		if u := usage("5h", a.FiveHour); u != "" {
			parts = append(parts, u)
		}
		if u := usage("7d", a.SevenDay); u != "" {
			parts = append(parts, u)
		}
		for _, m := range modelLimits(a.ModelCooldowns, now) {
			parts = append(parts, m)
		}
		if len(parts) == 0 {
			parts = append(parts, "available")
		}
		detail = strings.Join(parts, " · ")
	case control.StateCooling:
		mark = markCooling
		detail = "cooling"
		if a.CooldownUntil != nil {
			detail += " until " + clock(*a.CooldownUntil, now)
		}
		if r := strings.TrimSuffix(strings.TrimSpace(a.Reason), "."); r != "" {
			detail += " (" + r + ")"
		}
	case control.StateNeedsLogin:
		mark = markProblem
		if a.Dir == "" {
			detail = "needs a new token — run: claude setup-token"
		} else {
			detail = "needs login — run: " + LoginCommand(a.Dir)
		}
	case control.StateError:
		mark = markProblem
		msg := a.LastError
		if msg == "" {
			msg = a.Reason
		}
		detail = "error"
		if msg != "" {
			detail += ": " + shorten(oneLine(msg), maxDetail)
		}
	case control.StateDisabled:
		mark, detail = markDisabled, "disabled"
	default:
		mark, detail = "?", strings.ReplaceAll(a.State, "_", " ")
	}
	return mark + " " + a.Name + lineSep + detail
}

// LoginCommand is the shell command that logs the Claude Code config
// directory dir in again: plain "claude /login" for the default ~/.claude.
func LoginCommand(dir string) string {
	switch strings.TrimRight(dir, `/\`) {
	case "~/.claude", `~\.claude`:
		return "claude /login"
	}
	return "CLAUDE_CONFIG_DIR=" + shellWord(dir) + " claude /login"
}

// shellWord quotes s for a POSIX shell when needed, leaving a leading "~/"
// unquoted so that it still expands.
func shellWord(s string) string {
	safe := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("~/._-+:@%,=", r):
		default:
			safe = false
		}
	}
	if safe {
		return s
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	if rest, ok := strings.CutPrefix(s, "~/"); ok {
		return "~/" + quote(rest)
	}
	return quote(s)
}

// usage is "5h 42%" for a known window, "" for one never seen.
func usage(label string, w control.Window) string {
	if w.ResetsAt == nil && w.Utilization == 0 {
		return ""
	}
	return fmt.Sprintf("%s %d%%", label, int(math.Round(w.Utilization*100)))
}

// modelLimits lists the model families blocked on an otherwise available
// account, in name order: "opus limited until Tue 09:00".
func modelLimits(m map[string]time.Time, now time.Time) []string {
	var out []string
	for family, until := range m {
		if until.After(now) {
			out = append(out, family+" limited until "+clock(until, now))
		}
	}
	slices.Sort(out) // map order is random; keep the line stable
	return out
}

// clock writes t as "14:32" when it falls on now's day, else "Tue 14:32",
// in now's location.
func clock(t, now time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04")
	}
	if t.Sub(now) > 6*24*time.Hour || now.Sub(t) > 6*24*time.Hour {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("Mon 15:04")
}

// shortenHome writes dir with a leading home directory as "~".
func shortenHome(dir, home string) string {
	if home == "" {
		return dir
	}
	rest, ok := strings.CutPrefix(dir, home)
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != filepath.Separator) {
		return dir
	}
	return "~" + filepath.ToSlash(rest)
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
