// Package notify turns what the daemon does into desktop notifications.
//
// A Notifier follows the desktop app's live.Model (Follow is a
// live.Watcher): it coalesces bursts of account events, never says the
// same transition twice, follows the user's switches and writes the words
// (see Compose). Notifications that matter stay on the screen until
// dismissed (all accounts spent, a login needed, the daemon gone without
// saying so) and are closed by themselves once they no longer hold. Good
// news arriving within a few seconds is one notification. "Needs a new
// login" offers Log in again and Open settings where the platform has
// notification actions; a login that ends within three days is told once
// a day, offering Log in again.
//
// Run Serve for anything to be sent; Desktop delivers the messages on
// this platform.
package notify

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/words"
)

// Options tunes a Notifier. Every field is optional.
type Options struct {
	// OpenSettings opens the settings window at an account. When set, a
	// "needs a new login" notification offers Open settings (where the
	// platform has actions), which calls it with the account, on a
	// goroutine of the Sender: hand UI work to the UI thread. Nil: no
	// action.
	OpenSettings func(account string)
	// LogIn logs an account in again (a login run by the daemon, in the
	// browser). When set, "needs a new login" and "login expires in …"
	// offer Log in again (where the platform has actions), which calls it
	// with the account on a goroutine of the Sender. Nil: no such action.
	LogIn func(account string)
	// Memory remembers on which day each account's coming login end was
	// told, so that it is told once a day across restarts of the app
	// (fyne.Preferences is one). Nil: remembered while the app runs.
	Memory Memory
	// Window is how long a burst of bad news (a limit hit, an account
	// failing or needing a login, all accounts spent, the daemon gone) is
	// collected, from its first event, before it is announced as one.
	// Default 1s.
	Window time.Duration
	// Settle is how long good news (a cooldown ended, an error cleared, a
	// login completed, the pool recovered) waits for more good news: it is
	// announced once none came for Settle, or MaxDelay after the first.
	// Defaults 3s and 10s.
	Settle, MaxDelay time.Duration
	// MaxAge: events older than this when followed (after the event
	// stream resumed) update what the Notifier knows but are not
	// announced. Default 2m.
	MaxAge time.Duration
	// Now is the clock: events without a time are stamped with it and the
	// windows above are measured with it. Default time.Now.
	Now func() time.Time
	// Location is the zone times are written in ("back at 14:32").
	// Default time.Local.
	Location *time.Location
	// Home is written as "~" in login commands. Default os.UserHomeDir();
	// "-" disables it.
	Home string
	// Logger receives send failures. Default slog.Default().
	Logger *slog.Logger
}

// Memory keeps small strings by key between runs of the app.
type Memory interface {
	String(key string) string
	SetString(key, value string)
}

// LoginWarning is how long before an account's login ends (its
// refreshTokenExpiresAt) the Notifier starts telling, once a day.
const LoginWarning = 3 * 24 * time.Hour

// newAccount is how soon after an account first shows up a login to it
// counts as adding it ("work was added") rather than logging in again.
const newAccount = time.Minute

// Notifier decides what is news and hands the words to a Sender. Create it
// with New, feed it with Follow and run Serve.
//
// Switches: the configuration's notify is the master switch for all of it.
// The per-kind switches (config.Notifications) apply as follows:
// cooldown_started to limits hit and to accounts failing (error),
// cooldown_ended to cooldowns ended and errors cleared, needs_login to
// logins needed, completed, failed and about to end, and to accounts added
// by a login, all_exhausted to all accounts spent and to the pool
// recovering (told only when its exhaustion was), billing_extra to
// accounts billing extra usage (once per account and window), and
// token_budget_reached to client tokens that spent their budget (once per
// token and window). "MaxRouter stopped unexpectedly" is about the daemon
// rather than an account and has no switch of its own. Until the configuration was read every switch is
// on, as config.Default has them.
type Notifier struct {
	send Sender
	o    Options
	log  *slog.Logger
	kick chan struct{}

	mu         sync.Mutex
	notify     bool
	kinds      config.Notifications
	accounts   []control.Account
	connected  bool // in the last State followed
	allowExtra bool // extra_usage = "allow": billing extra does not move requests

	// What is waiting to be announced, and since when (by the clock).
	pending             []event.Event
	firstBad            time.Time
	firstGood, lastGood time.Time
	down                time.Time // the daemon went away unannounced; zero: it did not

	// What is known, to tell news from repeats.
	cooling map[coolKey]flag
	login   map[string]flag // on: needs a login
	failing map[string]flag // on: in the error state
	billing map[string]flag // on: billing extra usage, until the window's reset
	budgets map[string]flag // by client token ID: spent its budget, until its window ends
	pool    poolState
	// seen is when each account first showed up while connected; zero for
	// those there when the Notifier connected.
	seen map[string]time.Time
	// ending is the day (2006-01-02, in Location) each account's coming
	// login end was last told, when Memory is nil.
	ending map[string]string

	// Urgent notifications on the screen, by what they say: "pool",
	// "daemon", "login:<account>". Serve closes them when that is over
	// (see resolve).
	open     map[string]uint32
	resolved []string // keys whose notification is to be closed
}

type coolKey struct{ account, model string }

// flag is a yes/no state known from the event at at (zero: not from an
// event).
type flag struct {
	on    bool
	until time.Time // of a cooldown
	at    time.Time
}

type poolState struct {
	known     bool
	exhausted bool
	at        time.Time
	notified  bool // all_exhausted was announced; recovered may be
}

// New returns a Notifier sending through s. Every kind of notification is
// switched on until Follow brings the configuration.
func New(s Sender, opts Options) *Notifier {
	if opts.Window <= 0 {
		opts.Window = time.Second
	}
	if opts.Settle <= 0 {
		opts.Settle = 3 * time.Second
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 10 * time.Second
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Home == "" {
		opts.Home, _ = os.UserHomeDir()
	}
	if opts.Home == "-" {
		opts.Home = ""
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{
		send:    s,
		o:       opts,
		log:     log.With("component", "notify"),
		kick:    make(chan struct{}, 1),
		notify:  true,
		kinds:   config.Default().Notifications,
		cooling: map[coolKey]flag{},
		login:   map[string]flag{},
		failing: map[string]flag{},
		billing: map[string]flag{},
		budgets: map[string]flag{},
		seen:    map[string]time.Time{},
		ending:  map[string]string{},
		open:    map[string]uint32{},
	}
}

// Follow takes a new State of the daemon and the events behind it; it is a
// live.Watcher and returns at once. An event that repeats what is already
// known (the same cooldown, a login already reported) is dropped; the rest
// join the burst to announce. The daemon going from connected to not
// connected without having said it was stopping is announced too, unless
// it is back within Window; once it is back that notification is closed.
// An EventReset (events were lost), and connecting, forget whatever the
// accounts show to be over, and close the notifications that said it.
func (n *Notifier) Follow(s live.State, events []control.Event) {
	now := n.o.Now()
	n.mu.Lock()
	defer n.wake()
	defer n.mu.Unlock()
	if s.HasConfig() {
		n.notify, n.kinds = s.Config.Notify, s.Config.Notifications
		n.allowExtra = s.Config.ExtraUsage == config.ExtraAllow
	}
	n.accounts = s.Accounts
	was := n.connected
	n.connected = s.Connected
	if s.Connected {
		for _, a := range s.Accounts {
			if _, ok := n.seen[a.Name]; !ok {
				first := now
				if !was {
					first = time.Time{} // there before: not new
				}
				n.seen[a.Name] = first
			}
		}
	}
	switch {
	case was && !s.Connected && !s.Stopped:
		n.down = now
	case !was && s.Connected:
		n.down = time.Time{} // back within the window: say nothing
		n.resolve("daemon")
	}
	reset := false
	for _, e := range events {
		if e.Type == control.EventReset {
			reset = true
			continue
		}
		if e.At.IsZero() {
			e.At = now
		}
		e, news := n.track(e, now)
		if !news || now.Sub(e.At) > n.o.MaxAge {
			continue
		}
		n.queue(e, now)
	}
	if reset || (s.Connected && !was) {
		n.forgetOver(s.Accounts)
	}
	if s.Connected {
		n.loginsEnding(s.Accounts, now)
	}
}

// queue adds e to the burst to announce; n.mu is held.
func (n *Notifier) queue(e event.Event, now time.Time) {
	n.pending = append(n.pending, e)
	if good(e.Type) {
		if n.firstGood.IsZero() {
			n.firstGood = now
		}
		n.lastGood = now
	} else if n.firstBad.IsZero() {
		n.firstBad = now
	}
}

// loginsEnding queues, once a day per account, a reminder for every
// account whose login ends within LoginWarning (and that does not need a
// login already); n.mu is held.
func (n *Notifier) loginsEnding(accounts []control.Account, now time.Time) {
	day := now.In(n.o.Location).Format("2006-01-02")
	for _, a := range accounts {
		if a.LoginExpiresAt == nil || a.State == control.StateNeedsLogin || a.State == control.StateDisabled {
			continue
		}
		if left := a.LoginExpiresAt.Sub(now); left <= 0 || left > LoginWarning {
			continue
		}
		key := "notify.login-ending." + a.Name
		told := n.ending[a.Name]
		if n.o.Memory != nil {
			told = n.o.Memory.String(key)
		}
		if told == day {
			continue
		}
		n.ending[a.Name] = day
		if n.o.Memory != nil {
			n.o.Memory.SetString(key, day)
		}
		until := *a.LoginExpiresAt
		n.queue(event.Event{Type: loginEnding, Account: a.Name, Until: &until, At: now}, now)
	}
}

// good reports whether t is good news, which waits for more (Settle).
func good(t event.Type) bool {
	switch t {
	case event.CooldownEnded, event.ErrorCleared, event.LoginCompleted, accountAdded, event.Recovered:
		return true
	}
	return false
}

// wake tells Serve that something changed.
func (n *Notifier) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// track updates what is known from e and reports whether e is news, and
// what the news is: a login completed to an account that showed up a
// moment ago adds it. An event older than the one that set what is known
// is a replay.
func (n *Notifier) track(e event.Event, now time.Time) (event.Event, bool) {
	switch e.Type {
	case event.CooldownStarted, event.CooldownEnded:
		k := coolKey{e.Account, strings.ToLower(e.Model)}
		st, ok := n.cooling[k]
		if ok && e.At.Before(st.at) {
			return e, false
		}
		started := e.Type == event.CooldownStarted
		var until time.Time
		if e.Until != nil {
			until = *e.Until
		}
		if ok && st.on == started && (!started || st.until.Equal(until)) {
			return e, false
		}
		n.cooling[k] = flag{on: started, until: until, at: e.At}
		return e, true
	case event.NeedsLogin, event.LoginCompleted:
		needs := e.Type == event.NeedsLogin
		was, known := n.login[e.Account]
		if e.Email != "" && known && !was.on && e.At.After(was.at) {
			// A login through the daemon (it says as whom) to an account
			// that did not need one, such as one whose login ends soon.
			n.login[e.Account] = flag{at: e.At}
			return e, true
		}
		if !n.set(n.login, e, needs) {
			return e, false
		}
		if !needs {
			n.resolve("login:" + e.Account)
			if first := n.seen[e.Account]; !was.on && !first.IsZero() && now.Sub(first) <= newAccount {
				e.Type = accountAdded
			}
		}
		return e, true
	case event.LoginFailed:
		return e, true // each login fails once
	case event.BillingExtra:
		st, ok := n.billing[e.Account]
		var until time.Time
		if e.Until != nil {
			until = *e.Until
		}
		if ok && (e.At.Before(st.at) || st.on && st.until.Equal(until)) {
			return e, false
		}
		n.billing[e.Account] = flag{on: true, until: until, at: e.At}
		return e, true
	case event.TokenBudgetReached:
		// The daemon says it once per window; a stream that resumes may
		// say it again.
		key := e.Token
		if key == "" {
			key = e.Label
		}
		var until time.Time
		if e.Until != nil {
			until = *e.Until
		}
		st, ok := n.budgets[key]
		if ok && (e.At.Before(st.at) || st.until.Equal(until)) {
			return e, false
		}
		n.budgets[key] = flag{on: true, until: until, at: e.At}
		return e, true
	case event.Error, event.ErrorCleared:
		return e, n.set(n.failing, e, e.Type == event.Error)
	case event.AllExhausted, event.Recovered:
		p := &n.pool
		if p.known && e.At.Before(p.at) {
			return e, false
		}
		exhausted := e.Type == event.AllExhausted
		if p.known && p.exhausted == exhausted {
			return e, false
		}
		p.known, p.exhausted, p.at = true, exhausted, e.At
		if !exhausted {
			n.resolve("pool")
		}
		return e, true
	}
	return e, false
}

// set records that e's account is (on) or is no longer in the state m
// follows, and reports whether that is news.
func (n *Notifier) set(m map[string]flag, e event.Event, on bool) bool {
	st, ok := m[e.Account]
	if ok && (e.At.Before(st.at) || st.on == on) {
		return false
	}
	m[e.Account] = flag{on: on, at: e.At}
	return true
}

// forgetOver forgets the cooldowns, logins needed, errors and exhaustion
// that accounts (a fresh snapshot) show to be over, so that they are news
// when they come again, and has the notifications that said them closed.
// It never learns a new bad state from a snapshot: the event saying it may
// still be on its way, and must not be taken for a repeat.
func (n *Notifier) forgetOver(accounts []control.Account) {
	byName := map[string]control.Account{}
	anyAvailable := false
	for _, a := range accounts {
		byName[a.Name] = a
		anyAvailable = anyAvailable || a.State == control.StateAvailable
	}
	for k, st := range n.cooling {
		a, ok := byName[k.account]
		still := ok && (k.model == "" && a.State == control.StateCooling || k.model != "" && hasModelCooldown(a, k.model))
		if st.on && !still {
			delete(n.cooling, k)
		}
	}
	for name, st := range n.login {
		if a, ok := byName[name]; st.on && (!ok || a.State != control.StateNeedsLogin) {
			delete(n.login, name)
			n.resolve("login:" + name)
		}
	}
	for name, st := range n.failing {
		if a, ok := byName[name]; st.on && (!ok || a.State != control.StateError) {
			delete(n.failing, name)
		}
	}
	for name := range n.billing {
		if a, ok := byName[name]; !ok || !a.BillingExtra {
			delete(n.billing, name)
		}
	}
	if n.pool.exhausted && anyAvailable {
		n.pool = poolState{}
		n.resolve("pool")
	}
}

// resolve has the urgent notification about key closed, if one is shown;
// n.mu is held.
func (n *Notifier) resolve(key string) {
	n.resolved = append(n.resolved, key)
}

// Serve announces bursts as their windows close and closes urgent
// notifications that no longer hold, until ctx ends; then it announces
// what is pending and returns nil. Run one Serve per Notifier.
func (n *Notifier) Serve(ctx context.Context) error {
	for {
		n.closeResolved()
		n.mu.Lock()
		due, ok := n.due()
		n.mu.Unlock()
		var fire <-chan time.Time
		var timer *time.Timer
		if ok {
			wait := due.Sub(n.o.Now())
			if wait <= 0 {
				n.flush(false)
				continue
			}
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			n.flush(true)
			n.closeResolved()
			return nil
		case <-n.kick:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// due is when the next announcement is due; ok is false when nothing
// waits. n.mu is held.
func (n *Notifier) due() (at time.Time, ok bool) {
	add := func(t time.Time) {
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	if !n.firstBad.IsZero() {
		add(n.firstBad.Add(n.o.Window))
	}
	if !n.down.IsZero() {
		add(n.down.Add(n.o.Window))
	}
	if !n.firstGood.IsZero() {
		add(n.lastGood.Add(n.o.Settle))
		add(n.firstGood.Add(n.o.MaxDelay))
	}
	return at, ok
}

// flush announces the pending events, and the daemon gone when its window
// has closed (or final is set).
func (n *Notifier) flush(final bool) {
	now := n.o.Now()
	n.mu.Lock()
	batch := n.pending
	n.pending = nil
	n.firstBad, n.firstGood, n.lastGood = time.Time{}, time.Time{}, time.Time{}
	var msgs []Message
	if !n.down.IsZero() && (final || !now.Before(n.down.Add(n.o.Window))) {
		n.down = time.Time{}
		if n.notify {
			msgs = append(msgs, stopped())
		}
	}
	var keep []event.Event
	for _, e := range reduce(batch) {
		on := n.notify
		switch e.Type {
		case event.CooldownStarted, event.Error:
			on = on && n.kinds.CooldownStarted
		case event.BillingExtra:
			on = on && n.kinds.BillingExtra
		case event.TokenBudgetReached:
			on = on && n.kinds.TokenBudgetReached
		case event.CooldownEnded, event.ErrorCleared:
			on = on && n.kinds.CooldownEnded
		case event.NeedsLogin, event.LoginCompleted, accountAdded, event.LoginFailed, loginEnding:
			on = on && n.kinds.NeedsLogin
		case event.AllExhausted:
			on = on && n.kinds.AllExhausted
			n.pool.notified = on
		case event.Recovered:
			on = on && n.kinds.AllExhausted && n.pool.notified
			n.pool.notified = false
		}
		if on {
			keep = append(keep, e)
		}
	}
	c := composer{accounts: n.accounts, loc: n.o.Location, home: n.o.Home, allowExtra: n.allowExtra}
	msgs = append(msgs, c.compose(keep)...)
	n.mu.Unlock()
	for _, m := range msgs {
		n.dress(&m)
		id, err := n.send.Send(m)
		if err != nil {
			n.log.Warn("desktop notification failed", "title", m.Title, "err", err)
			continue
		}
		if m.Urgent && id != 0 {
			n.mu.Lock()
			for _, k := range keys(m) {
				n.open[k] = id
			}
			n.mu.Unlock()
		}
	}
}

// dress makes the messages that matter urgent and gives "needs a new
// login" its Log in again and Open settings actions, and "login expires"
// its Log in again.
func (n *Notifier) dress(m *Message) {
	switch m.kind {
	case kindExhausted, kindStopped, kindLogin:
		m.Urgent = true
	}
	if len(m.accounts) == 0 {
		return
	}
	account := m.accounts[0]
	logIn := func() {
		if in := n.o.LogIn; in != nil && n.canLogIn(account) {
			m.Actions = append(m.Actions, Action{Key: "log-in", Label: "Log in again", Do: func() { in(account) }})
		}
	}
	switch m.kind {
	case kindLogin:
		logIn()
		if open := n.o.OpenSettings; open != nil {
			m.Actions = append(m.Actions, Action{Key: "open-settings", Label: "Open settings", Do: func() { open(account) }})
		}
	case kindEnding:
		logIn()
	}
}

// canLogIn reports whether the daemon can log the account in again: it
// is a Claude Code folder, not a token from `claude setup-token`.
func (n *Notifier) canLogIn(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range n.accounts {
		if a.Name == name {
			return a.Dir != "" && a.Dir != words.TokenDir
		}
	}
	return false
}

// keys are what an urgent message says, for resolve.
func keys(m Message) []string {
	switch m.kind {
	case kindExhausted:
		return []string{"pool"}
	case kindStopped:
		return []string{"daemon"}
	case kindLogin:
		out := make([]string, len(m.accounts))
		for i, a := range m.accounts {
			out[i] = "login:" + a
		}
		return out
	}
	return nil
}

// closeResolved closes the urgent notifications whose every subject was
// resolved.
func (n *Notifier) closeResolved() {
	n.mu.Lock()
	var ids []uint32
	for _, k := range n.resolved {
		id, ok := n.open[k]
		if !ok {
			continue
		}
		delete(n.open, k)
		shared := false
		for _, other := range n.open {
			shared = shared || other == id
		}
		if !shared {
			ids = append(ids, id)
		}
	}
	n.resolved = nil
	n.mu.Unlock()
	for _, id := range ids {
		if err := n.send.Close(id); err != nil {
			n.log.Debug("closing a notification", "id", id, "err", err) // the user may have dismissed it
		}
	}
}
