// Package notify turns the daemon's account events into desktop
// notifications: it coalesces bursts, never says the same transition twice,
// follows the user's per-kind switches and writes the words (see Compose).
// The tray process feeds it the control API's event stream with Handle and
// runs Serve; BeeepSender delivers the messages to the desktop.
package notify

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// Sender shows one notification on the desktop.
type Sender interface {
	Send(title, body string) error
}

// Options tunes a Notifier. Every field is optional.
type Options struct {
	// Window is how long a burst is collected, from its first event,
	// before it is announced as one. Default 1s.
	Window time.Duration
	// MaxAge: events older than this when handled (a replay after the
	// event stream reconnected, or after the tray started) update what the
	// Notifier knows but are not announced. Default 2m.
	MaxAge time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Location is the zone times are written in ("back at 14:32").
	// Default time.Local.
	Location *time.Location
	// Home is replaced by "~" in account directories shown in login
	// hints. Default os.UserHomeDir(); "-" disables the replacement.
	Home string
	// Logger receives send failures. Default slog.Default().
	Logger *slog.Logger
}

// Notifier collects events, decides what is news and hands the words to a
// Sender. Handle may be called from any goroutine; Serve must run for
// anything to be sent.
type Notifier struct {
	send   Sender
	window time.Duration
	maxAge time.Duration
	now    func() time.Time
	loc    *time.Location
	home   string
	log    *slog.Logger
	kick   chan struct{}

	mu       sync.Mutex
	notify   bool
	kinds    config.Notifications
	pending  []event.Event
	accounts []control.Account
	cooling  map[coolKey]coolState
	login    map[string]time.Time // accounts known to need a login, since
	pool     poolState
}

type coolKey struct{ account, model string }

type coolState struct {
	cooling bool
	until   time.Time
	at      time.Time // of the event that set this state
}

type poolState struct {
	known     bool
	exhausted bool
	at        time.Time
	notified  bool // all_exhausted was announced; recovered may be
}

// New returns a Notifier sending through s, with every kind of notification
// switched on (as config.Default has it) until SetPrefs says otherwise.
func New(s Sender, opts Options) *Notifier {
	n := &Notifier{
		send:    s,
		window:  opts.Window,
		maxAge:  opts.MaxAge,
		now:     opts.Now,
		loc:     opts.Location,
		home:    opts.Home,
		log:     opts.Logger,
		kick:    make(chan struct{}, 1),
		notify:  true,
		kinds:   config.Default().Notifications,
		cooling: map[coolKey]coolState{},
		login:   map[string]time.Time{},
	}
	if n.window <= 0 {
		n.window = time.Second
	}
	if n.maxAge <= 0 {
		n.maxAge = 2 * time.Minute
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.loc == nil {
		n.loc = time.Local
	}
	if n.home == "" {
		n.home, _ = os.UserHomeDir()
	}
	if n.home == "-" {
		n.home = ""
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	n.log = n.log.With("component", "notify")
	return n
}

// SetPrefs applies the user's switches: notify is the master switch
// (config.Config.Notify), kinds the per-kind ones. recovered follows
// kinds.AllExhausted. They apply to bursts announced from now on.
func (n *Notifier) SetPrefs(notify bool, kinds config.Notifications) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notify, n.kinds = notify, kinds
}

// Handle takes one event from the daemon with the latest account snapshot.
// An event that repeats what is already known (the same cooldown, a login
// already reported, a replay older than the last change) is dropped; the
// rest join the current burst. An event without At is stamped now; nil
// accounts keeps the previous snapshot.
func (n *Notifier) Handle(e event.Event, accounts []control.Account) {
	now := n.now()
	if e.At.IsZero() {
		e.At = now
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if accounts != nil {
		n.accounts = n.shorten(accounts)
	}
	if !n.track(e) || now.Sub(e.At) > n.maxAge {
		return
	}
	n.pending = append(n.pending, e)
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// track updates what is known from e and reports whether e is news.
func (n *Notifier) track(e event.Event) bool {
	switch e.Type {
	case event.CooldownStarted, event.CooldownEnded:
		k := coolKey{e.Account, strings.ToLower(e.Model)}
		st, ok := n.cooling[k]
		if ok && e.At.Before(st.at) {
			return false // older than what we know: a replay
		}
		started := e.Type == event.CooldownStarted
		var until time.Time
		if e.Until != nil {
			until = *e.Until
		}
		if ok && st.cooling == started && (!started || st.until.Equal(until)) {
			return false
		}
		n.cooling[k] = coolState{cooling: started, until: until, at: e.At}
		if started && e.Model == "" {
			delete(n.login, e.Account) // a limit means the login works
		}
		return true
	case event.NeedsLogin:
		if _, ok := n.login[e.Account]; ok {
			return false
		}
		n.login[e.Account] = e.At
		return true
	case event.Refreshed:
		if since, ok := n.login[e.Account]; ok && !e.At.Before(since) {
			delete(n.login, e.Account)
		}
		return false
	case event.AllExhausted, event.Recovered:
		p := &n.pool
		if p.known && e.At.Before(p.at) {
			return false
		}
		exhausted := e.Type == event.AllExhausted
		if p.known && p.exhausted == exhausted {
			return false
		}
		p.known, p.exhausted, p.at = true, exhausted, e.At
		return true
	}
	return false
}

// shorten copies accounts with the home directory written as "~".
func (n *Notifier) shorten(accounts []control.Account) []control.Account {
	out := make([]control.Account, len(accounts))
	copy(out, accounts)
	if n.home == "" {
		return out
	}
	for i, a := range out {
		if rest, ok := strings.CutPrefix(a.Dir, n.home); ok && (rest == "" || rest[0] == '/' || rest[0] == filepath.Separator) {
			out[i].Dir = "~" + rest
		}
	}
	return out
}

// Serve announces each burst Window after its first event, until ctx ends;
// then it announces what is pending and returns nil. Run one Serve per
// Notifier.
func (n *Notifier) Serve(ctx context.Context) error {
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			n.flush()
			return nil
		case <-n.kick:
			if fire == nil {
				timer = time.NewTimer(n.window)
				fire = timer.C
			}
		case <-fire:
			timer, fire = nil, nil
			n.flush()
		}
	}
}

// flush announces the pending burst.
func (n *Notifier) flush() {
	n.mu.Lock()
	batch := n.pending
	n.pending = nil
	var keep []event.Event
	for _, e := range reduce(batch) {
		on := n.notify
		switch e.Type {
		case event.CooldownStarted:
			on = on && n.kinds.CooldownStarted
		case event.CooldownEnded:
			on = on && n.kinds.CooldownEnded
		case event.NeedsLogin:
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
	accounts, loc := n.accounts, n.loc
	n.mu.Unlock()
	for _, m := range Compose(keep, accounts, loc) {
		if err := n.send.Send(m.Title, m.Body); err != nil {
			n.log.Warn("desktop notification failed", "title", m.Title, "err", err)
		}
	}
}
