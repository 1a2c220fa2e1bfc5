package settings

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// This file holds the window's view decisions as pure functions: what a
// row says, how a countdown reads, where a validation error is shown. They
// take everything they need as arguments (the clock and the home directory
// included) and are tested without a window.

// level is how a row's state is coloured.
type level int

const (
	levelGood    level = iota // available
	levelWait                 // cooling: comes back by itself
	levelBad                  // needs the person: login, error
	levelOff                  // disabled by the person
	levelUnknown              // not known to the daemon yet
)

// stateLevel classifies an account state for colour and icon.
func stateLevel(state string) level {
	switch state {
	case control.StateAvailable:
		return levelGood
	case control.StateCooling:
		return levelWait
	case control.StateNeedsLogin, control.StateError:
		return levelBad
	case control.StateDisabled:
		return levelOff
	}
	return levelUnknown
}

// stateText says what an account is doing, in a sentence for its row:
// "Available", "Cooling until 14:32 (5-hour limit)", "Needs login — run:
// CLAUDE_CONFIG_DIR=~/.claude-side claude /login".
func stateText(a control.Account, now time.Time, home string) string {
	switch a.State {
	case control.StateAvailable:
		s := "Available"
		if m := modelCooldownText(a.ModelCooldowns, now); m != "" {
			s += " · " + m
		}
		return s
	case control.StateCooling:
		s := "Cooling"
		if a.CooldownUntil != nil {
			s += " until " + clockText(*a.CooldownUntil, now)
		}
		if r := strings.TrimSpace(a.Reason); r != "" {
			s += " (" + r + ")"
		}
		return s
	case control.StateNeedsLogin:
		if a.Dir == "" {
			return "Needs a new token — run: claude setup-token, then put it in the configuration"
		}
		return "Needs login — run: " + loginCommand(a.Dir, home)
	case control.StateError:
		msg := strings.TrimSpace(a.LastError)
		if msg == "" {
			msg = strings.TrimSpace(a.Reason)
		}
		if msg == "" {
			return "Error"
		}
		return "Error: " + msg
	case control.StateDisabled:
		return "Disabled — not used for requests"
	case "":
		return "Not in use yet"
	}
	return a.State
}

// modelCooldownText lists the model families blocked on an otherwise
// available account: "Opus limited until Mon 09:00".
func modelCooldownText(m map[string]time.Time, now time.Time) string {
	var parts []string
	for _, fam := range slices.Sorted(maps.Keys(m)) {
		until := m[fam]
		if !until.After(now) {
			continue
		}
		name := fam
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		parts = append(parts, name+" limited until "+clockText(until, now))
	}
	return strings.Join(parts, ", ")
}

// clockText writes t for a person who knows what time it is (now): "14:32"
// today, "Mon 09:00" within a week, "2 Jan 09:00" later. Both are shown in
// now's location.
func clockText(t, now time.Time) string {
	t = t.In(now.Location())
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	days := int(day(t).Sub(day(now)).Hours() / 24)
	switch {
	case days == 0:
		return t.Format("15:04")
	case days > 0 && days < 7:
		return t.Format("Mon 15:04")
	}
	return t.Format("2 Jan 15:04")
}

// durationText writes a positive span of time coarsely, as a person says
// it: "under a minute", "4 min", "2 h 13 min", "3 h", "1 day 6 h", "3 days".
func durationText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	case d < 48*time.Hour:
		h := int((d - 24*time.Hour) / time.Hour)
		if h == 0 {
			return "1 day"
		}
		return fmt.Sprintf("1 day %d h", h)
	}
	return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
}

// resetText says when a usage window resets: "resets in 2 h 13 min";
// "resets now" once that time passed; "" when it is not known.
func resetText(at *time.Time, now time.Time) string {
	if at == nil || at.IsZero() {
		return ""
	}
	d := at.Sub(now)
	if d <= 0 {
		return "resets now"
	}
	return "resets in " + durationText(d)
}

// tokenText says when an account's access token expires: "token renews in
// 3 h" (the daemon refreshes it before then), "token expired 5 min ago";
// "" for a long-lived token or when unknown.
func tokenText(exp *time.Time, now time.Time) string {
	if exp == nil || exp.IsZero() {
		return ""
	}
	d := exp.Sub(now)
	if d <= 0 {
		if -d < time.Minute {
			return "token expired just now"
		}
		return "token expired " + durationText(-d) + " ago"
	}
	return "token renews in " + durationText(d)
}

// usageFraction is how full a usage bar is drawn: the utilization clamped
// to [0, 1] (the daemon may report more than 1, or nothing sensible).
func usageFraction(u float64) float64 {
	switch {
	case math.IsNaN(u) || u < 0:
		return 0
	case u > 1:
		return 1
	}
	return u
}

// usagePercent is the text on a usage bar: "42%", "100%" (at or over the
// limit); "–" when nothing is known yet.
func usagePercent(w control.Window) string {
	if w.ResetsAt == nil && w.Utilization == 0 {
		return "–"
	}
	return strconv.Itoa(int(math.Round(usageFraction(w.Utilization)*100))) + "%"
}

// tildePath writes dir with home replaced by "~", as the configuration
// keeps it (portable, and short to read). Paths outside home, and any path
// when home is "", are returned cleaned but otherwise unchanged.
func tildePath(dir, home string) string {
	if dir == "" {
		return ""
	}
	if strings.HasPrefix(dir, "~") {
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

// loginCommand is the shell command that logs the Claude Code config
// directory dir in again: plain `claude /login` for the default ~/.claude.
func loginCommand(dir, home string) string {
	d := strings.TrimRight(tildePath(dir, home), `/\`)
	if d == "~/.claude" || d == `~\.claude` {
		return "claude /login"
	}
	return "CLAUDE_CONFIG_DIR=" + shellWord(d) + " claude /login"
}

// shellWord quotes s for a POSIX shell when it needs it, leaving a leading
// "~/" outside the quotes so that it still expands.
func shellWord(s string) string {
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

// defaultName proposes an account name for a Claude Code config directory,
// as config.Discover names them: ~/.claude is "default", ~/.claude-work is
// "work", ~/.config/claude-team is "team"; other directories are named
// after their last element. A name in taken gets a suffix ("work-2").
func defaultName(dir string, taken []string) string {
	base := filepath.Base(filepath.Clean(filepath.FromSlash(dir)))
	var name string
	switch {
	case base == ".claude":
		name = "default"
	case strings.HasPrefix(base, ".claude-") && len(base) > len(".claude-"):
		name = strings.TrimPrefix(base, ".claude-")
	case base == "claude":
		name = "claude"
	case strings.HasPrefix(base, "claude") && strings.TrimLeft(base[len("claude"):], "-_.") != "":
		name = strings.TrimLeft(base[len("claude"):], "-_.")
	default:
		name = strings.TrimLeft(base, ".")
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
	if len(name) > 64 {
		name = name[:64]
	}
	if strings.Trim(name, ".-") == "" {
		name = "account"
	}
	used := map[string]bool{}
	for _, t := range taken {
		used[t] = true
	}
	n := name
	for i := 2; used[n]; i++ {
		suffix := "-" + strconv.Itoa(i)
		n = name[:min(len(name), 64-len(suffix))] + suffix
	}
	return n
}

// checkText says what CheckDir found, for the Add account dialog, and
// whether the directory can be used as it is: "Credentials found — Max
// 20x"; "No credentials found: <problem>".
func checkText(dc control.DirCheck) (string, bool) {
	if !dc.Found {
		p := strings.TrimSpace(dc.Problem)
		if p == "" {
			p = "no Claude Code login in this folder"
		}
		return "No credentials found: " + p, false
	}
	s := "Credentials found"
	if plan := words.Plan(dc.Subscription, dc.RateLimitTier); plan != "" {
		s += " — " + plan
	}
	if p := strings.TrimSpace(dc.Problem); p != "" {
		return s + ", but " + p, false
	}
	return s, true
}

// sameDir reports whether two account directories name the same place,
// comparing their "~" forms.
func sameDir(a, b, home string) bool {
	if a == "" || b == "" {
		return false
	}
	clean := func(s string) string {
		return strings.TrimRight(filepath.ToSlash(tildePath(config.ExpandHome(s, home), home)), "/")
	}
	return clean(a) == clean(b)
}

// Field-error targets: where the window shows a validation message.
const (
	targetGeneral  = ""
	targetListen   = "listen"
	targetStrategy = "strategy"
	targetCooldown = "cooldown"
	targetAccount  = "account"
	targetNotify   = "notify"
)

var accountField = regexp.MustCompile(`^accounts\[(\d+)\](?:\.|$)`)

// fieldTarget maps a config.FieldError's Field to the place in the window
// that shows it: ("account", i) for "accounts[i]" and "accounts[i].x",
// the form field for "listen", "strategy", "cooldown" and the notification
// switches, and ("", -1) for everything the window does not edit, which
// the summary line then spells out.
func fieldTarget(field string) (string, int) {
	if m := accountField.FindStringSubmatch(field); m != nil {
		i, err := strconv.Atoi(m[1])
		if err == nil {
			return targetAccount, i
		}
	}
	switch {
	case field == "listen":
		return targetListen, -1
	case field == "strategy":
		return targetStrategy, -1
	case field == "cooldown":
		return targetCooldown, -1
	case field == "notify" || strings.HasPrefix(field, "notifications"):
		return targetNotify, -1
	}
	return targetGeneral, -1
}

// fieldMessage is what a row shows for an account field error: the
// message, with the field named when it is not obvious from the message
// ("Folder: …", "Token: …").
func fieldMessage(field, msg string) string {
	_, sub, _ := strings.Cut(field, "].")
	switch sub {
	case "dir":
		if !strings.HasPrefix(msg, "dir ") {
			return "Folder: " + msg
		}
	case "token":
		return "Token: " + msg
	}
	return upperFirst(msg)
}

// tabOf names the tab holding a target.
func tabOf(target string) string {
	switch target {
	case targetListen:
		return "Proxy"
	case targetStrategy, targetCooldown:
		return "Routing"
	case targetAccount:
		return "Accounts"
	case targetNotify:
		return "Notifications"
	}
	return ""
}

// summaryText is the line under the tabs after an Apply was refused:
// which tabs hold the marked values, and the messages that have no field
// in the window ("upstream: …").
func summaryText(fields []config.FieldError) string {
	var tabs, general []string
	seen := map[string]bool{}
	for _, f := range fields {
		target, _ := fieldTarget(f.Field)
		tab := tabOf(target)
		if tab == "" {
			general = append(general, f.Field+": "+f.Message)
			continue
		}
		if !seen[tab] {
			seen[tab] = true
			tabs = append(tabs, tab)
		}
	}
	var b strings.Builder
	b.WriteString("Not applied: ")
	if len(tabs) > 0 {
		b.WriteString("fix the values marked in red on the ")
		b.WriteString(joinAnd(tabs))
		if len(tabs) == 1 {
			b.WriteString(" tab")
		} else {
			b.WriteString(" tabs")
		}
		if len(general) > 0 {
			b.WriteString("; ")
		}
	}
	b.WriteString(strings.Join(general, "; "))
	if len(tabs) == 0 && len(general) == 0 {
		b.WriteString("the daemon refused the configuration")
	}
	return b.String()
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parsePort checks the port entry: a whole number from 1 to 65535. The
// message is "" when it is valid.
func parsePort(s string) (int, string) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		if s == "" {
			return 0, "Enter a port number from 1 to 65535"
		}
		return 0, fmt.Sprintf("%q is not a port: enter a number from 1 to 65535", s)
	}
	return n, ""
}

// parseCooldown checks the cooldown entry: a Go duration above zero
// ("60s", "5m", "1m30s"). The message is "" when it is valid.
func parseCooldown(s string) (time.Duration, string) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("%q is not a duration: write it like 60s, 5m or 1m30s", s)
	case d <= 0:
		return 0, "Must be more than 0, such as 60s"
	}
	return d, ""
}

// listenPort returns the port of a listen address, "" when it has none.
func listenPort(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	return port
}

// withPort returns listen with its port replaced, keeping the host
// (127.0.0.1 when listen has none that parses).
func withPort(listen string, port int) string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// baseURLFor is the address clients use for a listen address: an
// unspecified host (0.0.0.0, ::, none) becomes 127.0.0.1. It returns ""
// when listen does not parse.
func baseURLFor(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// tokenStatus says whether a client token is usable: "Active", "Expires in
// 3 days", "Expired", "Revoked".
func tokenStatus(t control.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "Revoked"
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return "Expired"
	case t.ExpiresAt != nil:
		return "Expires in " + durationText(t.ExpiresAt.Sub(now))
	}
	return "Active"
}

// tokenActive reports whether a client token can still be revoked.
func tokenActive(t control.Token, now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now))
}

// dateText writes a token's date: "2 Jan 2026".
func dateText(t time.Time, now time.Time) string {
	return t.In(now.Location()).Format("2 Jan 2006")
}

// ttlChoices are the lifetimes offered when issuing a client token, in
// the order shown; "Never" is 0.
var ttlChoices = []struct {
	Label string
	TTL   time.Duration
}{
	{"Never expires", 0},
	{"1 day", 24 * time.Hour},
	{"7 days", 7 * 24 * time.Hour},
	{"30 days", 30 * 24 * time.Hour},
	{"90 days", 90 * 24 * time.Hour},
	{"1 year", 365 * 24 * time.Hour},
}

// ttlFor returns the lifetime of a ttlChoices label (0 for an unknown one).
func ttlFor(label string) time.Duration {
	for _, c := range ttlChoices {
		if c.Label == label {
			return c.TTL
		}
	}
	return 0
}

// bannerText says why the daemon could not be asked, for the banner at
// the top of the window.
func bannerText(err error, baseURL string) string {
	switch {
	case errors.Is(err, control.ErrUnreachable):
		return "MaxRouter is not running (nothing answers at " + baseURL + "). Start it from the tray menu, then press Retry."
	case errors.Is(err, control.ErrUnauthorized):
		return "The MaxRouter daemon refused this window's key: it uses another data directory. " + err.Error()
	}
	return "The MaxRouter daemon answered with an error: " + err.Error()
}

// durationInput writes a duration for the cooldown entry as a person
// would type it: "60s", "90s", "5m", "1h30m" (time.Duration's String says
// "1m0s").
func durationInput(d time.Duration) string {
	if d <= 0 || d%time.Second != 0 {
		return d.String()
	}
	if d < 2*time.Minute {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	var out string
	if h > 0 {
		out += fmt.Sprintf("%dh", h)
	}
	if m > 0 {
		out += fmt.Sprintf("%dm", m)
	}
	if s > 0 {
		out += fmt.Sprintf("%ds", s)
	}
	return out
}

// strategies describes each routing strategy: its config value, its name
// in the window and one line saying what it does.
var strategies = []struct{ Value, Label, Help string }{
	{"round-robin", "Round-robin", "Take turns"},
	{"priority", "Priority", "Use the first account in the list until it is spent"},
	{"least-used", "Least used", "Prefer the account with the fewest requests in flight"},
	{"headroom", "Most headroom", "Prefer the account with the most of its 5-hour and 7-day limits left"},
}

// strategyLabel is the window's name for a strategy value ("" for an
// unknown one).
func strategyLabel(value string) string {
	for _, s := range strategies {
		if s.Value == value {
			return s.Label
		}
	}
	return ""
}

// strategyValue is the config value for a strategy's name in the window
// ("" for an unknown one).
func strategyValue(label string) string {
	for _, s := range strategies {
		if s.Label == label {
			return s.Value
		}
	}
	return ""
}

// kindValues lists the per-kind notification switches in the order the
// window shows them.
func kindValues(n config.Notifications) [4]bool {
	return [4]bool{n.CooldownStarted, n.CooldownEnded, n.NeedsLogin, n.AllExhausted}
}
