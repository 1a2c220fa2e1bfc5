package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/words"
)

// kind says what a Message is about.
type kind int

const (
	kindNone        kind = iota
	kindExhausted        // all_exhausted: urgent, closed on recovery
	kindLimit            // cooldown_started
	kindError            // error
	kindLogin            // needs_login: urgent, offers Open settings, closed once logged in
	kindBack             // the good news of a burst, in one message
	kindStopped          // the daemon stopped without saying it would: urgent, closed when it is back
	kindBilling          // billing_extra: answers billed to paid extra usage
	kindLoginFailed      // login_failed: a login through the daemon failed
	kindEnding           // loginEnding: a login ends within days; offers Log in again
	kindBudget           // token_budget_reached: client tokens spent their budget
)

// Events the Notifier makes of what it learns, beside the daemon's.
const (
	// accountAdded is a login_completed for an account that showed up
	// with it: a login added it.
	accountAdded event.Type = "maxrouter.account_added"
	// loginEnding says that the account's login ends at Until, within
	// days (see LoginWarning).
	loginEnding event.Type = "maxrouter.login_ending"
)

// maxReason bounds an error message in a notification.
const maxReason = 120

// Compose says what a burst of events means to the user, in as few messages
// as possible. It is pure: accounts is the latest snapshot (for which
// accounts take over, when the first one comes back and where an account's
// login lives), loc the zone times are written in (nil means time.Local),
// home the home directory written as "~" in login commands ("" for none).
// "Today" is the day of the latest event's At.
//
// Within the burst a change that is undone again says nothing (a cooldown
// that starts and ends, all_exhausted followed by recovered, needs_login
// followed by login_completed, error followed by error_cleared); otherwise
// the last event of an account (per model family) or of the pool counts.
// Bad news comes first, one message per kind: all_exhausted (which
// replaces the cooldowns of its burst), limits hit, client tokens that
// spent their budget (token_budget_reached), accounts billing extra usage, accounts failing, logins needed, logins that failed (unless
// a later one in the burst worked), logins about to end. All good news
// (cooldown_ended, error_cleared, login_completed, recovered) is one
// message after them. refreshed and the
// events about routing, configuration and the daemon say nothing. Compose
// does not know which kinds the user switched off nor what was said
// before: the Notifier filters for that.
func Compose(events []event.Event, accounts []control.Account, loc *time.Location, home string) []Message {
	return composer{accounts: accounts, loc: loc, home: home}.compose(events)
}

// compose is Compose, with what the composer knows of the configuration.
func (c composer) compose(events []event.Event) []Message {
	if c.loc == nil {
		c.loc = time.Local
	}
	for _, e := range events {
		if e.At.After(c.ref) {
			c.ref = e.At
		}
	}
	var pool *event.Event
	var started, budgets, billing, failed, logins, loginFailed, ending, good []event.Event
	for _, e := range reduce(events) {
		switch e.Type {
		case event.AllExhausted, event.Recovered:
			pool = &e
		case event.CooldownStarted:
			started = append(started, e)
		case event.TokenBudgetReached:
			budgets = append(budgets, e)
		case event.BillingExtra:
			billing = append(billing, e)
		case event.Error:
			failed = append(failed, e)
		case event.NeedsLogin:
			logins = append(logins, e)
		case event.LoginFailed:
			loginFailed = append(loginFailed, e)
		case loginEnding:
			ending = append(ending, e)
		case event.CooldownEnded, event.ErrorCleared, event.LoginCompleted, accountAdded:
			good = append(good, e)
		}
	}
	// A login that failed and then worked (tried again) is told as working.
	loginFailed = slices.DeleteFunc(loginFailed, func(f event.Event) bool {
		return slices.ContainsFunc(good, func(g event.Event) bool {
			return g.Account == f.Account && (g.Type == event.LoginCompleted || g.Type == accountAdded)
		})
	})
	var out []Message
	recovered := pool != nil && pool.Type == event.Recovered
	if pool != nil && pool.Type == event.AllExhausted {
		out = append(out, c.exhausted(*pool))
		started = nil // one message saying everything is spent
	}
	if len(started) > 0 {
		out = append(out, c.started(started))
	}
	if len(budgets) > 0 {
		out = append(out, c.budgets(budgets))
	}
	if len(billing) > 0 {
		out = append(out, c.billing(billing))
	}
	if len(failed) > 0 {
		out = append(out, c.failed(failed))
	}
	if len(logins) > 0 {
		out = append(out, c.needsLogin(logins))
	}
	if len(loginFailed) > 0 {
		out = append(out, c.loginFailed(loginFailed))
	}
	if len(ending) > 0 {
		out = append(out, c.ending(ending))
	}
	if recovered || len(good) > 0 {
		out = append(out, c.back(good, recovered))
	}
	return out
}

// stopped is the message for a daemon that went away without saying it
// would (a crash, a kill).
func stopped() Message {
	return Message{
		Title: "MaxRouter stopped unexpectedly",
		Body:  "Claude Code and other clients get errors until it is started again.",
		kind:  kindStopped,
	}
}

// reduce nets a burst out: per account and model family the last cooldown
// event counts, unless the burst began with the cooldown starting and ended
// with it ending (nothing changed for the user). The pool's
// all_exhausted/recovered pair, an account's needs_login/login_completed
// and its error/error_cleared are treated the same way. Other events are
// dropped. The result is in the order of each group's last event. reduce
// is idempotent.
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
		case event.NeedsLogin, event.LoginCompleted, accountAdded:
			k = key{"login", e.Account, ""}
		case event.LoginFailed:
			k = key{"login failed", e.Account, ""}
		case event.BillingExtra:
			k = key{"billing", e.Account, ""}
		case event.TokenBudgetReached:
			k = key{"budget", e.Token + "\x00" + e.Label, ""}
		case loginEnding:
			k = key{"ending", e.Account, ""}
		case event.Error, event.ErrorCleared:
			k = key{"error", e.Account, ""}
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
	undone := map[event.Type]event.Type{
		event.CooldownStarted: event.CooldownEnded,
		event.AllExhausted:    event.Recovered,
		event.NeedsLogin:      event.LoginCompleted,
		event.Error:           event.ErrorCleared,
	}
	type item struct {
		e   event.Event
		pos int
	}
	var items []item
	for _, k := range order {
		g := groups[k]
		if undo, ok := undone[g.first.Type]; ok && g.last.Type == undo {
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
	accounts   []control.Account
	loc        *time.Location
	home       string
	allowExtra bool      // extra_usage = "allow"
	ref        time.Time // "now" for deciding whether a time is today
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
	m := Message{kind: kindLimit, accounts: names}
	var body []string
	if len(es) == 1 {
		e := es[0]
		if e.Until != nil {
			body = append(body, "Back "+c.when(*e.Until)+".")
		}
		body = append(body, goesTo(takers, fam))
		m.Title, m.Body = e.Account+" "+limitPhrase(e), strings.Join(body, " ")
		return m
	}
	if first, ok := soonest(es); ok {
		body = append(body, fmt.Sprintf("The first comes back %s (%s).", c.when(*first.Until), first.Account))
	}
	body = append(body, goesTo(takers, fam))
	switch len(names) {
	case 1:
		m.Title = names[0] + " hit several limits"
	case 2:
		m.Title = names[0] + " and " + names[1] + " hit their limits"
	default:
		m.Title = fmt.Sprintf("%d accounts hit their limits: %s", len(names), strings.Join(names, ", "))
	}
	m.Body = strings.Join(body, " ")
	return m
}

func (c composer) failed(es []event.Event) Message {
	names := unique(es)
	exclude := map[string]bool{}
	for _, n := range names {
		exclude[n] = true
	}
	takers := goesTo(c.takers(exclude, ""), "")
	m := Message{kind: kindError, accounts: names}
	if len(es) == 1 {
		e := es[0]
		var body []string
		if r := reason(e); r != "" {
			body = append(body, r+".")
		}
		if e.Until != nil {
			body = append(body, "Trying again "+c.when(*e.Until)+".")
		} else {
			body = append(body, "It is tried again when its credentials change.")
		}
		m.Title, m.Body = e.Account+" can't be used", strings.Join(append(body, takers), " ")
		return m
	}
	var lines []string
	for _, e := range es {
		if r := reason(e); r != "" {
			lines = append(lines, e.Account+": "+r+".")
		}
	}
	m.Title = names[0] + " and " + names[1] + " can't be used"
	if len(names) > 2 {
		m.Title = fmt.Sprintf("%d accounts can't be used: %s", len(names), strings.Join(names, ", "))
	}
	m.Body = strings.Join(append(lines, takers), "\n")
	return m
}

// reason is why an account failed, as one short sentence without its
// period.
func reason(e event.Event) string {
	r := strings.TrimSuffix(words.OneLine(e.Reason), ".")
	return words.Sentence(words.Shorten(r, maxReason))
}

func (c composer) needsLogin(es []event.Event) Message {
	names := unique(es)
	m := Message{kind: kindLogin, accounts: names}
	if len(names) == 1 {
		m.Title, m.Body = names[0]+" needs a new login", c.howToLogIn(names[0])
		return m
	}
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = n + ": " + c.loginCommand(n)
	}
	m.Title = names[0] + " and " + names[1] + " need a new login"
	if len(names) > 2 {
		m.Title = fmt.Sprintf("%d accounts need a new login: %s", len(names), strings.Join(names, ", "))
	}
	m.Body = strings.Join(lines, "\n")
	return m
}

// howToLogIn tells how to log one account in again: from Settings (or the
// notification's button), or with the command.
func (c composer) howToLogIn(name string) string {
	cmd := c.loginCommand(name)
	if strings.HasPrefix(cmd, "claude setup-token") {
		return "Run: " + cmd
	}
	return "Log in again from Settings, or run: " + cmd
}

// loginCommand tells how to log the account in again, from its directory
// in the snapshot.
func (c composer) loginCommand(name string) string {
	for _, a := range c.accounts {
		if a.Name != name {
			continue
		}
		if a.Dir == "" || a.Dir == words.TokenDir {
			return words.LoginCommand(a.Dir, c.home) + ", then paste the new token in Settings."
		}
		return words.LoginCommand(a.Dir, c.home)
	}
	return "claude /login with its Claude Code config directory"
}

func (c composer) exhausted(e event.Event) Message {
	m := Message{Title: "All accounts are at their limit", kind: kindExhausted}
	until, name := e.Until, e.Account
	if until == nil {
		if first, ok := words.FirstBack(c.accounts); ok {
			until, name = first.CooldownUntil, first.Name
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

// back is the good news of a burst in one message: accounts that take
// requests again (a cooldown ended, an error cleared, a login completed),
// accounts a login added, model families usable again, the pool routing
// again.
func (c composer) back(es []event.Event, recovered bool) Message {
	var whole, logged []string // accounts back as a whole; those logged in again
	var added []event.Event    // accounts a login added
	var models []event.Event   // model families back on accounts not back as a whole
	for _, e := range es {
		switch {
		case e.Type == event.CooldownEnded && e.Model != "":
			models = append(models, e)
			continue
		case e.Type == accountAdded:
			added = append(added, e)
			continue
		}
		if !slices.Contains(whole, e.Account) {
			whole = append(whole, e.Account)
		}
		if e.Type == event.LoginCompleted {
			logged = append(logged, e.Account)
		}
	}
	models = slices.DeleteFunc(models, func(e event.Event) bool { return slices.Contains(whole, e.Account) })
	modelBack := func(e event.Event) string { return e.Account + " can use " + words.Model(e.Model) + " again" }
	byName := map[string]event.Event{}
	for _, e := range es {
		byName[e.Account] = e
	}

	m := Message{kind: kindBack, accounts: unique(es)}
	var body []string
	switch {
	case recovered:
		m.Title = "MaxRouter is routing again"
		if avail := slices.DeleteFunc(slices.Clone(whole), func(a string) bool { return slices.Contains(logged, a) }); len(avail) > 0 {
			verb := " is"
			if len(avail) > 1 {
				verb = " are"
			}
			body = append(body, words.List(avail)+verb+" available again.")
		} else if takers := c.takers(nil, ""); len(whole) == 0 && len(added) == 0 && len(takers) > 0 {
			body = append(body, "Requests go to "+words.List(takers)+".")
		}
	case len(es) == 1:
		switch e := es[0]; {
		case e.Type == accountAdded:
			m.Title, added = e.Account+" was added", nil
			if l := c.login(e); l != "" {
				body = append(body, l+".")
			}
			body = append(body, "It takes requests now.")
		case e.Type == event.LoginCompleted:
			m.Title, logged = e.Account+" is logged in again", nil
			if l := c.login(e); l != "" {
				body = append(body, l+".")
			}
		case e.Type == event.ErrorCleared:
			m.Title = e.Account + " works again"
		case e.Model != "":
			m.Title, models = modelBack(e), nil
		default:
			m.Title = e.Account + " is available again"
		}
	case len(whole) == 0 && len(models) == 0:
		names := unique(added)
		m.Title, added = words.List(names)+" were added", nil
		if len(names) > 2 {
			m.Title = fmt.Sprintf("%d accounts were added: %s", len(names), strings.Join(names, ", "))
		}
		for _, name := range names {
			if l := c.login(byName[name]); l != "" {
				body = append(body, name+": "+l+".")
			}
		}
	case len(whole) == 0:
		m.Title, models = modelBack(models[0]), models[1:]
	case len(whole) == 1:
		m.Title = whole[0] + " is available again"
	case len(whole) == 2:
		m.Title = whole[0] + " and " + whole[1] + " are available again"
	default:
		m.Title = fmt.Sprintf("%d accounts are available again: %s", len(whole), strings.Join(whole, ", "))
	}
	for _, e := range added {
		s := e.Account + " was added"
		if l := c.login(e); l != "" {
			s += ": " + strings.ToLower(l[:1]) + l[1:]
		}
		body = append(body, s+".")
	}
	for _, name := range logged {
		body = append(body, name+" is logged in again.")
	}
	for _, e := range models {
		body = append(body, modelBack(e)+".")
	}
	if !recovered {
		if a := c.availability(); a != "" {
			body = append(body, a)
		}
	}
	m.Body = strings.Join(body, " ")
	return m
}

// login says what a completed login is, as a sentence without its period:
// what the daemon noted (another email than before), or as whom it logged
// in, with the plan: "Logged in as ana@example.com (Max 20x)"; "" when
// nothing is known.
func (c composer) login(e event.Event) string {
	if r := strings.TrimSuffix(words.OneLine(e.Reason), "."); r != "" {
		return words.Sentence(words.Shorten(r, maxReason))
	}
	email, plan := e.Email, ""
	for _, a := range c.accounts {
		if a.Name == e.Account {
			if email == "" {
				email = a.Email
			}
			plan = words.Plan(a.Subscription, a.RateLimitTier)
		}
	}
	switch {
	case email != "" && plan != "":
		return "Logged in as " + email + " (" + plan + ")"
	case email != "":
		return "Logged in as " + email
	case plan != "":
		return "Logged in (" + plan + ")"
	}
	return ""
}

// budgets says which client tokens spent their budget and until when their
// requests are refused.
func (c composer) budgets(es []event.Event) Message {
	spent := make([]words.SpentToken, len(es))
	for i, e := range es {
		spent[i] = words.SpentToken{Label: words.TokenName(e.Label, e.Token), Limits: e.Reason, Until: e.Until}
	}
	now := c.ref
	if now.IsZero() { // events without a time: no countdown
		for _, e := range es {
			if e.Until != nil {
				now = *e.Until
				break
			}
		}
	}
	m := Message{kind: kindBudget}
	m.Title, m.Body = words.BudgetReached(spent, now.In(c.loc))
	return m
}

// billing says which accounts Anthropic bills to paid extra usage, until
// when, and where requests go meanwhile.
func (c composer) billing(es []event.Event) Message {
	names := unique(es)
	m := Message{kind: kindBilling, accounts: names}
	verb := " is"
	if len(names) > 1 {
		verb = " are"
	}
	m.Title = words.List(names) + verb + " " + words.BillingExtra
	var body []string
	if len(es) == 1 && es[0].Until != nil {
		body = append(body, "Anthropic bills its answers to paid extra usage until its limit resets "+c.when(*es[0].Until)+".")
	} else if len(es) == 1 {
		body = append(body, "Anthropic bills its answers to paid extra usage.")
	} else {
		body = append(body, "Anthropic bills their answers to paid extra usage.")
	}
	exclude := map[string]bool{}
	for _, n := range names {
		exclude[n] = true
	}
	takers := c.takers(exclude, "")
	switch {
	case c.allowExtra:
		body = append(body, `Requests still go to it as to any other account (extra_usage = "allow").`)
	case len(takers) > 0:
		body = append(body, "Requests go to "+words.List(takers)+" while they have room.")
	default:
		body = append(body, "No other account has room, so requests still go to it.")
	}
	m.Body = strings.Join(body, " ")
	return m
}

// loginFailed says which logins through the daemon failed, and why.
func (c composer) loginFailed(es []event.Event) Message {
	names := unique(es)
	m := Message{kind: kindLoginFailed, accounts: names, Title: "Logging in to " + words.List(names) + " failed"}
	var body []string
	for _, e := range es {
		r := reason(e)
		if r == "" {
			continue
		}
		if len(es) > 1 {
			r = e.Account + ": " + r
		}
		body = append(body, r+".")
	}
	m.Body = strings.Join(append(body, "Try again from Settings."), " ")
	return m
}

// ending reminds that logins end soon and how to keep them.
func (c composer) ending(es []event.Event) Message {
	names := unique(es)
	m := Message{kind: kindEnding, accounts: names}
	if len(es) == 1 {
		e := es[0]
		m.Title = e.Account + "'s " + words.LoginExpiry(e.Until, c.ref.In(c.loc))
		m.Body = "After " + words.Clock(*e.Until, c.ref.In(c.loc)) + " it needs a new login. Log in again now to keep it working."
		return m
	}
	m.Title = fmt.Sprintf("%d logins expire soon: %s", len(names), strings.Join(names, ", "))
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Account+": "+words.LoginExpiry(e.Until, c.ref.In(c.loc))+".")
	}
	m.Body = strings.Join(append(lines, "Log in again from Settings to keep them working."), "\n")
	return m
}

// availability says how many accounts take requests, or "" when the
// snapshot has fewer than two enabled accounts.
func (c composer) availability() string {
	avail, total := words.Counts(c.accounts)
	switch {
	case total < 2:
		return ""
	case avail == total:
		return fmt.Sprintf("All %d accounts are available.", total)
	case avail == 1:
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
			return "No other account is available for " + words.Model(family) + "."
		}
		return "No other account is available."
	}
	if family != "" {
		return words.Model(family) + " requests now go to " + words.List(takers) + "."
	}
	return "Requests now go to " + words.List(takers) + "."
}

// limitPhrase says what happened to the account: "hit its 5-hour limit",
// "hit its weekly Opus limit", "is overloaded".
func limitPhrase(e event.Event) string {
	window := e.Window
	if e.Model != "" {
		window = "seven_day_" + strings.ToLower(e.Model)
	}
	l := words.Limit(window, e.Reason)
	if strings.HasSuffix(l, "limit") {
		return "hit its " + l
	}
	return "is " + l
}

// family is the model family a cooldown is scoped to: Model, or the suffix
// of a "seven_day_<family>" window naming a known family; "" when the
// cooldown covers the whole account.
func family(e event.Event) string {
	if e.Model != "" {
		return strings.ToLower(e.Model)
	}
	if f, ok := strings.CutPrefix(strings.ToLower(e.Window), "seven_day_"); ok && words.Model(f) != f {
		return f // a family words knows
	}
	return ""
}

// when writes t for the end of a sentence: "at 14:32", "tomorrow at
// 09:00", "on Monday at 09:00", "on 19 Mar at 09:00" (see words.At).
func (c composer) when(t time.Time) string {
	if c.ref.IsZero() {
		return "at " + t.In(c.loc).Format("15:04")
	}
	return words.At(t, c.ref.In(c.loc))
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
	var out []string
	for _, e := range es {
		if !slices.Contains(out, e.Account) {
			out = append(out, e.Account)
		}
	}
	return out
}
