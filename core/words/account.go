package words

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// Tilde writes dir with the home directory home as "~" ("~/.claude-work"),
// as the configuration keeps it. A dir already starting with "~", one
// outside home, and any dir when home is "" are returned cleaned but
// otherwise unchanged.
func Tilde(dir, home string) string {
	if dir == "" || strings.HasPrefix(dir, "~") {
		return dir
	}
	dir = filepath.Clean(dir)
	if home == "" {
		return dir
	}
	home = filepath.Clean(home)
	if dir == home {
		return "~"
	}
	if rest, ok := strings.CutPrefix(dir, home+string(filepath.Separator)); ok {
		return "~/" + filepath.ToSlash(rest)
	}
	return dir
}

// TokenDir is what the daemon reports as the directory of an account that
// is a long-lived token from `claude setup-token` rather than a folder.
const TokenDir = "(token)"

// LoginCommand is the shell command that logs an account in again: plain
// `claude /login` for the default ~/.claude, `CLAUDE_CONFIG_DIR=<dir>
// claude /login` for another folder, `claude setup-token` for an account
// that is a token.
func LoginCommand(dir, home string) string {
	if dir == "" || dir == TokenDir {
		return "claude setup-token"
	}
	d := strings.TrimRight(Tilde(dir, home), `/\`)
	if d == "~/.claude" || d == `~\.claude` {
		return "claude /login"
	}
	return "CLAUDE_CONFIG_DIR=" + ShellWord(d) + " claude /login"
}

// ShellWord quotes s for a POSIX shell when it needs it, leaving a leading
// "~/" outside the quotes so that it still expands.
func ShellWord(s string) string {
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("~/._-+:@%,=", r)) {
			safe = false
			break
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

// Known reports whether a usage window was ever heard of.
func Known(w control.Window) bool { return w.AsOf != nil || w.ResetsAt != nil || w.Utilization != 0 }

// Fraction is how full a usage bar is drawn: the utilization clamped to
// [0, 1] (the daemon may report more than 1).
func Fraction(u float64) float64 {
	switch {
	case math.IsNaN(u) || u < 0:
		return 0
	case u > 1:
		return 1
	}
	return u
}

// Percent writes a usage window's utilization: "42%", "100%" at or over
// the limit; "" when nothing is known of the window yet.
func Percent(w control.Window) string {
	if !Known(w) {
		return ""
	}
	return strconv.Itoa(int(math.Round(Fraction(w.Utilization)*100))) + "%"
}

// Resets says when a usage window resets: "resets in 2 h 13 min"; "resets
// now" once that time passed; "" when it is not known.
func Resets(at *time.Time, now time.Time) string {
	if at == nil || at.IsZero() {
		return ""
	}
	if !at.After(now) {
		return "resets now"
	}
	return "resets " + In(*at, now)
}

// TokenExpiry says when an account's access token expires: "token renews
// in 3 h" (the daemon refreshes it before then), "token expired 5 min
// ago"; "" for a long-lived token or when unknown.
func TokenExpiry(exp *time.Time, now time.Time) string {
	if exp == nil || exp.IsZero() {
		return ""
	}
	if !exp.After(now) {
		return "token expired " + Ago(*exp, now)
	}
	return "token renews " + In(*exp, now)
}

// Model names a model family for a person: "Opus"; an unknown family is
// returned as it is.
func Model(family string) string {
	switch f := strings.ToLower(family); f {
	case "opus", "sonnet", "haiku":
		return strings.ToUpper(f[:1]) + f[1:]
	}
	return family
}

// Limit names the limit behind a cooldown from its window ("five_hour",
// "seven_day", "seven_day_opus") and, when the window says nothing, its
// reason: "5-hour limit", "weekly limit", "weekly Opus limit"; the
// per-model weekly bucket that names no model ("seven_day_oi") without a
// reason is a "weekly model limit".
func Limit(window, reason string) string {
	switch window {
	case "five_hour":
		return "5-hour limit"
	case "seven_day":
		return "weekly limit"
	}
	if f, ok := strings.CutPrefix(window, "seven_day_"); ok && f != "oi" && f != "" {
		return "weekly " + Model(f) + " limit"
	}
	if r := strings.TrimSuffix(strings.TrimSpace(reason), "."); r != "" {
		return r
	}
	if strings.HasPrefix(window, "seven_day_") {
		return "weekly model limit"
	}
	return "rate limit"
}

// ModelLimits lists the model families blocked on an otherwise available
// account, in name order: "Opus limited until Mon 09:00".
func ModelLimits(m map[string]time.Time, now time.Time) []string {
	var out []string
	for _, fam := range slices.Sorted(maps.Keys(m)) {
		if until := m[fam]; until.After(now) {
			out = append(out, Model(fam)+" limited until "+Clock(until, now))
		}
	}
	return out
}

// Usage is what is known of an available account at a glance: "Max 20x ·
// 5h 42% · 7d 18%", with model limits after it; "" when nothing is.
func Usage(a control.Account, now time.Time) string {
	var parts []string
	if p := Plan(a.Subscription, a.RateLimitTier); p != "" {
		parts = append(parts, p)
	}
	if p := Percent(a.FiveHour); p != "" {
		parts = append(parts, "5h "+p)
	}
	if p := Percent(a.SevenDay); p != "" {
		parts = append(parts, "7d "+p)
	}
	parts = append(parts, ModelLimits(a.ModelCooldowns, now)...)
	return strings.Join(parts, " · ")
}

// maxDetail bounds an error message inside a State, briefDetail inside a
// Brief.
const (
	maxDetail   = 120
	briefDetail = 60
)

// State says in a few words what an account is doing, for a menu line, a
// table or a row: "available", "cooling until 14:32 (5-hour limit)",
// "needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login",
// "error: can't reach the token endpoint … — trying again at 14:05",
// "disabled". Times are in now's location; home is written as "~".
func State(a control.Account, now time.Time, home string) string {
	return state(a, now, home, maxDetail)
}

// Brief is State with an error message cut shorter, for a menu line.
func Brief(a control.Account, now time.Time, home string) string {
	return state(a, now, home, briefDetail)
}

func state(a control.Account, now time.Time, home string, detail int) string {
	switch a.State {
	case control.StateAvailable:
		return "available"
	case control.StateCooling:
		s := "cooling"
		if a.CooldownUntil != nil {
			s += " until " + Clock(*a.CooldownUntil, now)
		}
		if r := strings.TrimSuffix(strings.TrimSpace(a.Reason), "."); r != "" {
			s += " (" + r + ")"
		}
		return s
	case control.StateNeedsLogin:
		if a.Dir == "" || a.Dir == TokenDir {
			return "needs a new token — run: claude setup-token"
		}
		return "needs login — run: " + LoginCommand(a.Dir, home)
	case control.StateError:
		msg := strings.TrimSpace(a.Reason)
		if msg == "" {
			msg = strings.TrimSpace(a.LastError)
		}
		s := "error"
		if msg != "" {
			s += ": " + Shorten(OneLine(msg), detail)
		}
		if a.RetryAt != nil {
			if a.RetryAt.After(now) {
				s += " — trying again " + At(*a.RetryAt, now)
			} else {
				s += " — trying again now"
			}
		}
		return s
	case control.StateDisabled:
		return "disabled"
	case "":
		return "not in use yet"
	}
	return strings.ReplaceAll(a.State, "_", " ")
}

// Sentence starts s with a capital letter, for a line of its own.
func Sentence(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// Pool says how many accounts take requests: "2 of 3 accounts available",
// "no accounts yet", "every account is disabled".
func Pool(accounts []control.Account) string {
	avail, enabled := Counts(accounts)
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

// Counts returns how many accounts are available and how many are enabled.
func Counts(accounts []control.Account) (avail, enabled int) {
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

// FirstBack returns the cooling account that comes back first, and false
// when none is cooling.
func FirstBack(accounts []control.Account) (control.Account, bool) {
	var first control.Account
	found := false
	for _, a := range accounts {
		if a.State != control.StateCooling || a.CooldownUntil == nil {
			continue
		}
		if !found || a.CooldownUntil.Before(*first.CooldownUntil) {
			first, found = a, true
		}
	}
	return first, found
}

// Count writes n things: "1 request", "12 requests".
func Count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

// List joins names for a sentence: "a", "a and b", "a, b and c".
func List(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// OneLine joins the lines of s with spaces.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Shorten cuts s to at most n runes, marking the cut with "…".
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
