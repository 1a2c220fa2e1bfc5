package settings

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// This file holds the window's view decisions as pure functions: what a
// row and the banner say, what changed between two configurations, where
// a validation error is shown, how a typed value parses. They take
// everything they need as arguments (the clock and the home directory
// included) and are tested without a window. Words for daemon state
// (states, times, countdowns, plans, login commands) come from core/words.

// level is how a row's state is coloured.
type level int

const (
	levelGood    level = iota // available
	levelWait                 // cooling: comes back by itself
	levelBad                  // needs the person: login, error
	levelOff                  // disabled by the person
	levelUnknown              // not known, or not live: the daemon is away
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

// rowStatus is what an account row says about its account.
type rowStatus struct {
	// Text is the state in a sentence: "Cooling until 14:32 (5-hour
	// limit)", "Error: … — trying again at 14:05".
	Text string
	// Detail follows the state, greyed: "token renews in 3 h   ·   12
	// requests   ·   usage checked 2 min ago".
	Detail string
	Level  level
	// Command is the shell command that logs the account in again, shown
	// as text to select and copy ("" when the account needs none).
	Command string
	// Action names the button that asks the daemon to try the account
	// again ("Reset cooldown", "Check again"); "" for none.
	Action string
	// Notes are what the person should know beside the state, shown in
	// the warning colour: "billing extra usage", "login expires in 3
	// days".
	Notes string
	// LogIn offers Log in again: the account needs a login, or its login
	// ends within a week, and the daemon can log it in (a folder, not a
	// token).
	LogIn bool
}

// rowInput is everything a row's status depends on.
type rowInput struct {
	Row         draftAccount
	BaseEnabled bool // the daemon's configuration has the account enabled
	InBase      bool // the daemon's configuration has the account
	Snap        control.Account
	Known       bool // Snap is the daemon's snapshot of the account
	Read        bool // the accounts were read from the daemon at least once
	Live        bool // the daemon answers now: Snap is current, not last known
}

// accountStatus says what a row shows about its account: what the person
// changed and has not applied first, then the daemon's state. While the
// daemon is away the last known state is shown as such, with no action.
func accountStatus(in rowInput, now time.Time, home string) rowStatus {
	r, snap := in.Row, in.Snap
	switch {
	case !r.Enabled && in.InBase && in.BaseEnabled:
		return rowStatus{Text: "Will be disabled when you press Apply", Level: levelOff}
	case !r.Enabled:
		return rowStatus{Text: "Disabled — not used for requests", Level: levelOff}
	case r.Orig == "":
		return rowStatus{Text: "New — used once you press Apply", Level: levelUnknown}
	case !in.Known && !in.Read:
		return rowStatus{Text: "Waiting for MaxRouter…", Level: levelUnknown}
	case !in.Known:
		return rowStatus{Text: "Not reported by MaxRouter", Level: levelUnknown}
	case snap.State == control.StateDisabled:
		return rowStatus{Text: "Will be used again when you press Apply", Level: levelUnknown}
	}
	st := rowStatus{Text: words.State(snap, now, home), Level: stateLevel(snap.State)}
	switch snap.State {
	case control.StateAvailable:
		st.Text = strings.Join(append([]string{st.Text}, words.ModelLimits(snap.ModelCooldowns, now)...), " · ")
	case control.StateNeedsLogin:
		st.Command = words.LoginCommand(snap.Dir, home)
		if rest, ok := strings.CutSuffix(st.Text, " "+st.Command); ok {
			st.Text = rest // the command has a line of its own
		}
		if in.Live && canLogIn(snap) {
			st.Text = strings.Replace(st.Text, "— run:", "— log in again, or run:", 1)
		}
	}
	if !in.Live {
		st.Text, st.Level = "Last known: "+st.Text, levelUnknown
		return st
	}
	st.Text = words.Sentence(st.Text)
	switch snap.State {
	case control.StateCooling:
		st.Action = "Reset cooldown"
	case control.StateNeedsLogin, control.StateError:
		st.Action = "Check again"
	}
	notes := words.Notes(snap, now)
	st.Notes = strings.Join(notes, " · ")
	st.LogIn = canLogIn(snap) && (snap.State == control.StateNeedsLogin || words.LoginExpiry(snap.LoginExpiresAt, now) != "")
	var details []string
	if t := words.TokenExpiry(snap.TokenExpiresAt, now); t != "" {
		details = append(details, t)
	}
	if snap.Requests > 0 {
		details = append(details, words.Count(snap.Requests, "request"))
	}
	if c := words.Checked(snap, now); c != "" {
		details = append(details, c)
	}
	st.Detail = strings.Join(details, "   ·   ")
	return st
}

// canLogIn reports whether the daemon can log the account in again: it is
// a Claude Code folder, not a token from `claude setup-token`.
func canLogIn(a control.Account) bool { return a.Dir != "" && a.Dir != words.TokenDir }

// bannerView is what the banner over the tabs shows about the daemon.
type bannerView struct {
	Show bool
	Text string
	// Notice marks a banner that warns rather than alarms (routing paused).
	Notice bool
	// Start offers the Start MaxRouter button; Busy greys it out while
	// the daemon is being started.
	Start, Busy bool
}

// bannerInput is everything the banner depends on.
type bannerInput struct {
	Connected, Tried, Stopped bool
	Paused                    bool // routing is paused (while connected)
	Problem                   error
	CanStart                  bool  // the window can start the daemon
	Starting                  bool  // it is starting it
	StartErr                  error // why the last start failed
	BaseURL                   string
	Stale                     bool // the window shows what was read before
}

// banner says why the daemon cannot be used and what to do: nothing while
// it answers and routes (or before the first attempt to reach it).
func banner(in bannerInput) bannerView {
	switch {
	case in.Connected && in.Paused:
		return bannerView{Show: true, Notice: true, Text: "Routing is paused: MaxRouter refuses requests until you resume it from the tray menu."}
	case in.Connected || !in.Tried:
		return bannerView{}
	}
	v := bannerView{Show: true, Start: in.CanStart}
	switch {
	case errors.Is(in.Problem, control.ErrUnauthorized):
		return bannerView{Show: true, Text: "MaxRouter answers at " + in.BaseURL + " but refused this window's key: it uses another data directory."}
	case in.Starting:
		v.Text, v.Busy = "Starting MaxRouter…", true
		return v
	case in.Stopped:
		v.Text = "MaxRouter was stopped: nothing answers at " + in.BaseURL + ", so requests fail until it runs again."
	default:
		v.Text = "MaxRouter is not running: nothing answers at " + in.BaseURL + ", so requests fail until it runs again."
	}
	if in.Stale {
		v.Text += " The accounts below are as last seen."
	}
	if in.StartErr != nil {
		v.Text += " Starting it failed: " + in.StartErr.Error()
	}
	if !in.CanStart {
		v.Text += " Start it from the tray menu."
	}
	return v
}

// changes says what differs between two of the daemon's configurations,
// in the window's words, for "meanwhile …": "the strategy was changed to
// Priority", "side was disabled". Fields the window does not show are
// summed up as "other settings were changed".
func changes(old, next control.Config) []string {
	var out []string
	if old.Strategy != next.Strategy {
		out = append(out, "the strategy was changed to "+words.Strategy(next.Strategy))
	}
	if old.Cooldown != next.Cooldown {
		out = append(out, "the fallback cooldown was changed to "+durationInput(time.Duration(next.Cooldown)))
	}
	if old.SessionAffinity != next.SessionAffinity {
		out = append(out, "session affinity was turned "+onOff(next.SessionAffinity))
	}
	if listenPort(old.Listen) != listenPort(next.Listen) {
		out = append(out, "the port was changed to "+listenPort(next.Listen))
	}
	if old.Notify != next.Notify {
		out = append(out, "notifications were turned "+onOff(next.Notify))
	} else if old.Notifications != next.Notifications {
		out = append(out, "the notification switches were changed")
	}
	out = append(out, accountChanges(old.Accounts, next.Accounts)...)
	o, n := old, next
	o.Strategy, o.Cooldown, o.SessionAffinity, o.Listen, o.Notify, o.Notifications, o.Accounts = "", 0, false, "", false, config.Notifications{}, nil
	n.Strategy, n.Cooldown, n.SessionAffinity, n.Listen, n.Notify, n.Notifications, n.Accounts = "", 0, false, "", false, config.Notifications{}, nil
	if !reflect.DeepEqual(o, n) || (listenPort(old.Listen) == listenPort(next.Listen) && old.Listen != next.Listen) {
		out = append(out, "other settings were changed")
	}
	return out
}

// accountChanges says how the account list changed: "work-2 was added",
// "side was removed", "side was disabled", "the order of the accounts was
// changed".
func accountChanges(old, next []config.Account) []string {
	var out []string
	has := func(list []config.Account, name string) (config.Account, bool) {
		for _, a := range list {
			if a.Name == name {
				return a, true
			}
		}
		return config.Account{}, false
	}
	var common []string
	for _, a := range next {
		o, ok := has(old, a.Name)
		switch {
		case !ok:
			out = append(out, a.Name+" was added")
			continue
		case o.IsEnabled() && !a.IsEnabled():
			out = append(out, a.Name+" was disabled")
		case !o.IsEnabled() && a.IsEnabled():
			out = append(out, a.Name+" was enabled")
		}
		if o.Dir != a.Dir || o.Token != a.Token {
			out = append(out, a.Name+" got another login")
		}
		common = append(common, a.Name)
	}
	var oldCommon []string
	for _, a := range old {
		if _, ok := has(next, a.Name); !ok {
			out = append(out, a.Name+" was removed")
		} else {
			oldCommon = append(oldCommon, a.Name)
		}
	}
	if !slices.Equal(common, oldCommon) {
		out = append(out, "the order of the accounts was changed")
	}
	return out
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// staleText is the summary after Apply found the configuration changed
// since the window read it: what changed, and that the edits wait.
func staleText(changed []string) string {
	what := "the configuration was changed elsewhere"
	if len(changed) > 0 {
		what = words.List(changed)
	}
	return "Not applied: meanwhile " + what + ". Your edits are kept: press Apply again."
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
		return strings.TrimRight(filepath.ToSlash(words.Tilde(config.ExpandHome(s, home), home)), "/")
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
	return words.Sentence(msg)
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
		b.WriteString(words.List(tabs))
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

// tokenStatus says whether a client token is usable: "Active", "Expires in
// 3 days", "Spent until 17:05" (its budget), "Expired", "Revoked".
func tokenStatus(t control.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "Revoked"
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return "Expired"
	}
	if spent, _ := words.Spent(t, now); spent {
		return words.Sentence(words.TokenStatus(t, now))
	}
	if t.ExpiresAt != nil {
		return "Expires " + words.In(*t.ExpiresAt, now)
	}
	return "Active"
}

// The fields of a client token's limits, as the issue and Limits dialogs
// name them.
const (
	fieldMaxRequests   = "Max requests"
	fieldMaxTokens     = "Max tokens"
	fieldMaxCacheReads = "Max cache reads"
	fieldWindow        = "Window"
)

// windowChoices are the windows offered for a token's limits; any other
// duration control.ParsePeriod reads may be typed.
var windowChoices = []string{"5h", "1d", "7d"}

// limitsInput is a client token's limits as typed: counts as
// control.ParseCount reads them ("" or "none": no limit), the window as
// control.ParsePeriod does.
type limitsInput struct {
	Requests, Tokens, CacheReads, Per string
}

// inputOf writes l as the dialog's fields show it: "" for no limit, the
// default window when none is set.
func inputOf(l control.Limits) limitsInput {
	count := func(n int64) string {
		if n <= 0 {
			return ""
		}
		return words.Amount(n)
	}
	per := l.Per
	if per == 0 {
		per = control.DefaultPer
	}
	return limitsInput{count(l.MaxRequests), count(l.MaxTokens), count(l.MaxCacheReads), per.String()}
}

// checkCount is the validator of a count field: "" is no limit.
func checkCount(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	_, err := control.ParseCount(s)
	return err
}

// checkWindow is the validator of the window field.
func checkWindow(s string) error {
	_, err := control.ParsePeriod(s)
	return err
}

// limits reads the fields, with control.ParseCount and
// control.ParsePeriod as the command line does; an error names the field.
// The window counts only when a limit is set: without one it is left out.
func (in limitsInput) limits() (control.Limits, error) {
	var l control.Limits
	for _, f := range [...]struct {
		name, v string
		dst     *int64
	}{{fieldMaxRequests, in.Requests, &l.MaxRequests}, {fieldMaxTokens, in.Tokens, &l.MaxTokens}, {fieldMaxCacheReads, in.CacheReads, &l.MaxCacheReads}} {
		if strings.TrimSpace(f.v) == "" {
			continue
		}
		n, err := control.ParseCount(f.v)
		if err != nil {
			return control.Limits{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = n
	}
	if !l.Limited() {
		return control.Limits{}, nil
	}
	p, err := control.ParsePeriod(in.Per)
	if err != nil {
		return control.Limits{}, fmt.Errorf("%s: %w", fieldWindow, err)
	}
	l.Per = p
	return l, nil
}

// limitsUpdate is the change that takes a token from limits old to next:
// only what differs (a maximum of 0 removes it; the window is sent only
// while a limit is left).
func limitsUpdate(old, next control.Limits) control.TokenUpdate {
	var u control.TokenUpdate
	for _, f := range [...]struct {
		old, next int64
		dst       **int64
	}{{old.MaxRequests, next.MaxRequests, &u.MaxRequests}, {old.MaxTokens, next.MaxTokens, &u.MaxTokens}, {old.MaxCacheReads, next.MaxCacheReads, &u.MaxCacheReads}} {
		if n := f.next; n != f.old {
			*f.dst = &n
		}
	}
	if next.Limited() && next.Per != old.Per {
		per := next.Per
		u.Per = &per
	}
	return u
}

// keepExpiry is the Limits dialog's first expiry choice: leave it as it
// is.
const keepExpiry = "Keep"

// expiryChoices are the expiry choices of a token's Limits dialog: keep
// it ("Keep: expires 7 Apr 2026", "Keep: never expires"), then the
// lifetimes of ttlChoices, counted from now.
func expiryChoices(t control.Token, now time.Time) []string {
	keep := keepExpiry + ": never expires"
	if t.ExpiresAt != nil {
		keep = keepExpiry + ": expires " + dateText(*t.ExpiresAt, now)
	}
	out := []string{keep}
	for _, c := range ttlChoices {
		out = append(out, c.Label)
	}
	return out
}

// expiryUpdate puts the expiry chosen in the Limits dialog into u: none
// for Keep (or Never expires on a token that never expires), otherwise
// the lifetime from now.
func expiryUpdate(u *control.TokenUpdate, t control.Token, choice string, now time.Time) {
	if strings.HasPrefix(choice, keepExpiry) {
		return
	}
	switch ttl := ttlFor(choice); {
	case ttl == 0 && t.ExpiresAt != nil:
		u.NeverExpires = true
	case ttl > 0:
		exp := now.Add(ttl)
		u.ExpiresAt = &exp
	}
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

// strategies are the routing strategies in the order the window offers
// them (config values; words.Strategy names them), with one line saying
// what each does.
var strategies = []struct{ Value, Help string }{
	{"round-robin", "Take turns"},
	{"priority", "Use the first account in the list until it is spent"},
	{"least-used", "Prefer the account with the fewest requests in flight"},
	{"headroom", "Prefer the account with the most of its 5-hour and 7-day limits left"},
}

// strategyValue is the config value for a strategy's name in the window
// ("" for an unknown one).
func strategyValue(label string) string {
	for _, s := range strategies {
		if words.Strategy(s.Value) == label {
			return s.Value
		}
	}
	return ""
}

// accountName matches the names the configuration accepts.
var accountName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// loginNameProblem says why name cannot be a new account's, for Add
// account's "Log in with Claude": "" when it can. taken are the names in
// use (in the list, or the daemon's).
func loginNameProblem(name string, taken []string) string {
	switch {
	case name == "":
		return "Give the account a name"
	case !accountName.MatchString(name) || strings.Trim(name, ".") == "":
		return "A name may hold letters, digits, “-”, “_” and “.”"
	case slices.Contains(taken, name):
		return name + " is an account already: choose another name, or use Log in again on its row"
	}
	return ""
}

// newLoginName proposes a name for an account added by a login: "claude",
// then "claude-2", … past the names taken.
func newLoginName(taken []string) string { return defaultName("claude", taken) }

// foundText says what a Claude Code folder found on this computer holds,
// for Add account: its plan, its token and, in its last week, when the
// login ends ("Max 20x · token renews in 3 h · login expires in 2 days"),
// and whether it can be used as it is.
func foundText(dc control.DirCheck, now time.Time) (string, bool) {
	var parts []string
	if plan := words.Plan(dc.Subscription, dc.RateLimitTier); plan != "" {
		parts = append(parts, plan)
	}
	ok := true
	switch {
	case strings.TrimSpace(dc.Problem) != "":
		parts = append(parts, strings.TrimSpace(dc.Problem))
		ok = false
	case dc.LoginExpiresAt != nil && !dc.LoginExpiresAt.After(now):
		parts = append(parts, words.LoginExpiry(dc.LoginExpiresAt, now))
		ok = false
	case dc.ExpiresAt != nil && !dc.ExpiresAt.After(now) && dc.CanRefresh:
		parts = append(parts, "token expired "+words.Ago(*dc.ExpiresAt, now)+", renewed when used")
	case dc.ExpiresAt != nil:
		parts = append(parts, words.TokenExpiry(dc.ExpiresAt, now))
	case !dc.CanRefresh:
		parts = append(parts, "long-lived token")
	}
	if e := words.LoginExpiry(dc.LoginExpiresAt, now); ok && e != "" {
		parts = append(parts, e)
	}
	return strings.Join(parts, " · "), ok
}

// loginDoneText says how a login through the daemon ended, for the line
// beside Apply: "Added personal: logged in as ana@example.com (Max 20x).",
// "Logged in to work again as ana@example.com.", with what the daemon
// noted (another email than before).
func loginDoneText(l control.Login, isNew bool) string {
	as := ""
	if l.Email != "" {
		as = " as " + l.Email
	}
	if plan := words.Plan(l.Subscription, l.RateLimitTier); plan != "" {
		as += " (" + plan + ")"
	}
	s := "Logged in to " + l.Account + " again" + as + "."
	if isNew {
		s = "Added " + l.Account + ": logged in" + as + ". It takes requests now."
	}
	if r := strings.TrimSuffix(strings.TrimSpace(l.Reason), "."); r != "" {
		s += " " + words.Sentence(r) + "."
	}
	return s
}

// modelGroup is one Claude model and the OpenAI model names sent to it.
type modelGroup struct {
	Claude string
	Names  []string
}

// modelGroups groups a [models] table by Claude model, both in name
// order.
func modelGroups(models map[string]string) []modelGroup {
	by := map[string][]string{}
	for name, claude := range models {
		by[claude] = append(by[claude], name)
	}
	out := make([]modelGroup, 0, len(by))
	for _, claude := range slices.Sorted(maps.Keys(by)) {
		names := by[claude]
		slices.Sort(names)
		out = append(out, modelGroup{claude, names})
	}
	return out
}

// modelsWhere says where the [models] table is changed.
func modelsWhere(file string) string {
	where := "the configuration file"
	if file != "" {
		where = file
	}
	return "Read-only here: change it under the config key [models] in " + where + ", then restart MaxRouter (or send it SIGHUP)."
}

// ClaudeApplied says what "Set up Claude Code" did, as a notification's
// title and body (the Proxy tab joins them): that Claude Code goes through
// MaxRouter now, or already did, and where the file's old content is.
func ClaudeApplied(res setup.ClaudeResult, home string) (title, body string) {
	file := words.Tilde(res.Settings, home)
	if !res.Changed {
		return "Claude Code goes through MaxRouter already", file + " is set up; nothing changed."
	}
	body = "Wrote its address and a client token into " + file + "."
	if res.Backup != "" {
		body += " The file as it was is saved next to it."
	}
	return "Claude Code goes through MaxRouter now", body + " Start a new claude session to use it."
}

// ClaudeUndone says what Undo of the Claude Code setup did.
func ClaudeUndone(res setup.ClaudeUndone, home string) (title, body string) {
	file := words.Tilde(res.Settings, home)
	switch {
	case res.Restored != "":
		body = "Restored " + file + " as it was."
	case res.KeysRemoved:
		body = "Removed MaxRouter's two keys from " + file + " (it changed since; the backup is kept)."
	default:
		body = "Removed " + file + " (there was none before)."
	}
	return "Claude Code no longer goes through MaxRouter", body + " Its client token is revoked."
}
