package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// Message is one desktop notification.
type Message struct {
	Title string
	Body  string
}

// Compose says what a burst of events means to the user, as few messages as
// possible. It is pure: accounts is the latest snapshot (for which accounts
// take over, when the first one comes back and where an account's login
// lives), loc the zone times are written in (nil means time.Local). "Today"
// is the day of the latest event's At.
//
// Within the burst a cooldown that starts and ends again says nothing (and
// likewise all_exhausted followed by recovered); otherwise the last event of
// an account (per model family) or of the pool counts. Several accounts
// hitting their limits make one message; all_exhausted replaces those
// messages, recovered replaces the "available again" ones. refreshed says
// nothing. Compose does not know which kinds the user switched off nor what
// was said before: the Notifier filters for that.
func Compose(events []event.Event, accounts []control.Account, loc *time.Location) []Message {
	if loc == nil {
		loc = time.Local
	}
	c := composer{accounts: accounts, loc: loc}
	for _, e := range events {
		if e.At.After(c.ref) {
			c.ref = e.At
		}
	}
	var pool *event.Event
	var started, ended, logins []event.Event
	for _, e := range reduce(events) {
		switch e.Type {
		case event.AllExhausted, event.Recovered:
			pool = &e
		case event.CooldownStarted:
			started = append(started, e)
		case event.CooldownEnded:
			ended = append(ended, e)
		case event.NeedsLogin:
			logins = append(logins, e)
		}
	}
	var out []Message
	if pool != nil && pool.Type == event.AllExhausted {
		out = append(out, c.exhausted(*pool))
		started = nil // one message saying everything is spent
	}
	if pool != nil && pool.Type == event.Recovered {
		var back []event.Event
		var rest []event.Event
		for _, e := range ended {
			if e.Model == "" {
				back = append(back, e)
			} else {
				rest = append(rest, e)
			}
		}
		out = append(out, c.recovered(back))
		ended = rest
	}
	if len(started) > 0 {
		out = append(out, c.started(started))
	}
	if len(logins) > 0 {
		out = append(out, c.needsLogin(logins))
	}
	if len(ended) > 0 {
		out = append(out, c.ended(ended))
	}
	return out
}

// reduce nets a burst out: per account and model family the last cooldown
// event counts, unless the burst began with the cooldown starting and ended
// with it ending (nothing changed for the user). The pool's
// all_exhausted/recovered pair is treated the same way; needs_login keeps
// its last event per account; refreshed is dropped. The result is in the
// order of each group's last event. reduce is idempotent.
func reduce(events []event.Event) []event.Event {
	type key struct {
		kind    string
		account string
		model   string
	}
	type group struct {
		first, last event.Event
		pos         int
	}
	groups := map[key]*group{}
	var order []key
	for i, e := range events {
		var k key
		switch e.Type {
		case event.CooldownStarted, event.CooldownEnded:
			k = key{"cooldown", e.Account, strings.ToLower(e.Model)}
		case event.NeedsLogin:
			k = key{"login", e.Account, ""}
		case event.AllExhausted, event.Recovered:
			k = key{kind: "pool"}
		default:
			continue
		}
		g, ok := groups[k]
		if !ok {
			g = &group{first: e}
			groups[k] = g
			order = append(order, k)
		}
		g.last, g.pos = e, i
	}
	type item struct {
		e   event.Event
		pos int
	}
	var items []item
	for _, k := range order {
		g := groups[k]
		if (g.first.Type == event.CooldownStarted && g.last.Type == event.CooldownEnded) ||
			(g.first.Type == event.AllExhausted && g.last.Type == event.Recovered) {
			continue
		}
		items = append(items, item{g.last, g.pos})
	}
	slices.SortFunc(items, func(a, b item) int { return a.pos - b.pos })
	out := make([]event.Event, len(items))
	for i, it := range items {
		out[i] = it.e
	}
	return out
}

type composer struct {
	accounts []control.Account
	loc      *time.Location
	ref      time.Time // "now" for deciding whether a time is today
}

func (c composer) started(es []event.Event) Message {
	// fam is the model family when every cooldown is scoped to the same
	// one; then only Opus (say) requests move to other accounts.
	fam := family(es[0])
	for _, e := range es {
		if family(e) != fam {
			fam = ""
		}
	}
	exclude := map[string]bool{}
	for _, e := range es {
		if fam != "" || family(e) == "" {
			exclude[e.Account] = true
		}
	}
	names := unique(es)
	takers := c.takers(exclude, fam)
	var body []string
	if len(es) == 1 {
		e := es[0]
		if e.Until != nil {
			body = append(body, "Back "+c.when(*e.Until)+".")
		}
		body = append(body, goesTo(takers, fam))
		return Message{Title: e.Account + " " + limitPhrase(e), Body: strings.Join(body, " ")}
	}
	if first, ok := soonest(es); ok {
		body = append(body, fmt.Sprintf("The first comes back %s (%s).", c.when(*first.Until), first.Account))
	}
	body = append(body, goesTo(takers, fam))
	var title string
	switch len(names) {
	case 1:
		title = names[0] + " hit several limits"
	case 2:
		title = names[0] + " and " + names[1] + " hit their limits"
	default:
		title = fmt.Sprintf("%d accounts hit their limits: %s", len(names), strings.Join(names, ", "))
	}
	return Message{Title: title, Body: strings.Join(body, " ")}
}

func (c composer) ended(es []event.Event) Message {
	body := c.availability()
	if len(es) == 1 {
		e := es[0]
		if e.Model != "" {
			return Message{Title: e.Account + " can use " + familyName(e.Model) + " again", Body: body}
		}
		return Message{Title: e.Account + " is available again", Body: body}
	}
	names := unique(es)
	var title string
	switch len(names) {
	case 1:
		title = names[0] + " is available again"
	case 2:
		title = names[0] + " and " + names[1] + " are available again"
	default:
		title = fmt.Sprintf("%d accounts are available again: %s", len(names), strings.Join(names, ", "))
	}
	return Message{Title: title, Body: body}
}

func (c composer) needsLogin(es []event.Event) Message {
	if len(es) == 1 {
		return Message{Title: es[0].Account + " needs a new login", Body: c.loginHint(es[0].Account)}
	}
	names := unique(es)
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = n + ": " + strings.TrimPrefix(c.loginHint(n), "Run: ")
	}
	title := names[0] + " and " + names[1] + " need a new login"
	if len(names) > 2 {
		title = fmt.Sprintf("%d accounts need a new login: %s", len(names), strings.Join(names, ", "))
	}
	return Message{Title: title, Body: strings.Join(lines, "\n")}
}

func (c composer) exhausted(e event.Event) Message {
	m := Message{Title: "All accounts are at their limit"}
	until, name := e.Until, e.Account
	if until == nil {
		// The soonest cooldown in the snapshot.
		for _, a := range c.accounts {
			if a.State == control.StateCooling && a.CooldownUntil != nil && (until == nil || a.CooldownUntil.Before(*until)) {
				until, name = a.CooldownUntil, a.Name
			}
		}
	} else if name == "" {
		for _, a := range c.accounts {
			if a.CooldownUntil != nil && a.CooldownUntil.Equal(*until) {
				name = a.Name
				break
			}
		}
	}
	switch {
	case until == nil:
		m.Body = "No account can take requests right now."
	case name == "":
		m.Body = "The first comes back " + c.when(*until) + "."
	default:
		m.Body = fmt.Sprintf("The first comes back %s (%s).", c.when(*until), name)
	}
	return m
}

func (c composer) recovered(back []event.Event) Message {
	m := Message{Title: "MaxRouter is routing again"}
	if names := unique(back); len(names) > 0 {
		verb := " is"
		if len(names) > 1 {
			verb = " are"
		}
		m.Body = list(names) + verb + " available again."
		return m
	}
	if takers := c.takers(nil, ""); len(takers) > 0 {
		m.Body = "Requests go to " + list(takers) + "."
	}
	return m
}

// availability says how many accounts take requests, or "" when the
// snapshot has fewer than two enabled accounts.
func (c composer) availability() string {
	var total, avail int
	for _, a := range c.accounts {
		if a.State == control.StateDisabled {
			continue
		}
		total++
		if a.State == control.StateAvailable {
			avail++
		}
	}
	switch {
	case total < 2:
		return ""
	case avail == total:
		return fmt.Sprintf("All %d accounts are available.", total)
	}
	if avail == 1 {
		return fmt.Sprintf("1 of %d accounts is available.", total)
	}
	return fmt.Sprintf("%d of %d accounts are available.", avail, total)
}

// takers lists the available accounts not in exclude (for family, those
// without a cooldown for that model family).
func (c composer) takers(exclude map[string]bool, family string) []string {
	var out []string
	for _, a := range c.accounts {
		if a.State != control.StateAvailable || exclude[a.Name] {
			continue
		}
		if family != "" && hasModelCooldown(a, family) {
			continue
		}
		out = append(out, a.Name)
	}
	return out
}

func hasModelCooldown(a control.Account, family string) bool {
	for f := range a.ModelCooldowns {
		if strings.EqualFold(f, family) {
			return true
		}
	}
	return false
}

func goesTo(takers []string, family string) string {
	if len(takers) == 0 {
		if family != "" {
			return "No other account is available for " + familyName(family) + "."
		}
		return "No other account is available."
	}
	if family != "" {
		return familyName(family) + " requests now go to " + list(takers) + "."
	}
	return "Requests now go to " + list(takers) + "."
}

// loginHint tells how to log the account in again, from its directory in
// the snapshot.
func (c composer) loginHint(name string) string {
	for _, a := range c.accounts {
		if a.Name != name {
			continue
		}
		if a.Dir == "" {
			return "Run: claude setup-token, then paste the new token in Settings."
		}
		return "Run: " + loginCommand(a.Dir)
	}
	return "Run claude /login with its Claude Code config directory."
}

// loginCommand is the shell command that logs a Claude Code config
// directory in: plain `claude /login` for the default ~/.claude.
func loginCommand(dir string) string {
	switch strings.TrimRight(dir, `/\`) {
	case "~/.claude", `~\.claude`:
		return "claude /login"
	}
	return "CLAUDE_CONFIG_DIR=" + shellWord(dir) + " claude /login"
}

// shellWord quotes s for a POSIX shell when it needs it, leaving a leading
// "~/" outside the quotes so that it still expands.
func shellWord(s string) string {
	safe := func(s string) bool {
		for _, r := range s {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			case strings.ContainsRune("~/._-+:@%,=", r):
			default:
				return false
			}
		}
		return true
	}
	if safe(s) {
		return s
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	if rest, ok := strings.CutPrefix(s, "~/"); ok {
		return "~/" + quote(rest)
	}
	return quote(s)
}

// limitPhrase says what happened to the account: "hit its 5-hour limit".
func limitPhrase(e event.Event) string {
	if f := family(e); f != "" {
		if known(f) {
			return "hit its weekly " + familyName(f) + " limit"
		}
		return "hit its " + f + " weekly limit"
	}
	switch e.Window {
	case "five_hour":
		return "hit its 5-hour limit"
	case "seven_day":
		return "hit its weekly limit"
	}
	if strings.HasPrefix(e.Window, "seven_day_") {
		return "hit its weekly model limit"
	}
	r := strings.TrimSuffix(strings.TrimSpace(e.Reason), ".")
	switch {
	case r == "":
		return "is rate limited"
	case strings.HasSuffix(r, "limit"):
		return "hit its " + r
	}
	return "is " + r
}

// family is the model family a cooldown is scoped to: Model, or the suffix
// of a "seven_day_<family>" window naming a known family; "" when the
// cooldown covers the whole account.
func family(e event.Event) string {
	if e.Model != "" {
		return strings.ToLower(e.Model)
	}
	if f, ok := strings.CutPrefix(e.Window, "seven_day_"); ok && known(f) {
		return f
	}
	return ""
}

func known(f string) bool {
	switch strings.ToLower(f) {
	case "opus", "sonnet", "haiku":
		return true
	}
	return false
}

// familyName writes a model family for a person: "Opus".
func familyName(f string) string {
	if known(f) {
		f = strings.ToLower(f)
		return strings.ToUpper(f[:1]) + f[1:]
	}
	return f
}

// when writes t for a sentence: "at 14:32", "tomorrow at 09:00", "on
// Monday at 09:00", or with a date when it is a week or more away.
func (c composer) when(t time.Time) string {
	t = t.In(c.loc)
	hm := t.Format("15:04")
	if c.ref.IsZero() {
		return "at " + hm
	}
	ref := c.ref.In(c.loc)
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	days := int(day(t).Sub(day(ref)).Hours() / 24)
	switch {
	case days == 0:
		return "at " + hm
	case days == 1:
		return "tomorrow at " + hm
	case days > 1 && days < 7:
		return "on " + t.Format("Monday") + " at " + hm
	}
	return "on " + t.Format("Mon 2 Jan") + " at " + hm
}

func soonest(es []event.Event) (event.Event, bool) {
	var first event.Event
	found := false
	for _, e := range es {
		if e.Until != nil && (!found || e.Until.Before(*first.Until)) {
			first, found = e, true
		}
	}
	return first, found
}

func unique(es []event.Event) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range es {
		if !seen[e.Account] {
			seen[e.Account] = true
			out = append(out, e.Account)
		}
	}
	return out
}

// list joins names for a sentence: "a", "a and b", "a, b and c".
func list(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
