package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/ratelimit"
	"github.com/maxrouter/maxrouter/core/words"
)

// ErrUnknown is returned for an account name the pool does not hold.
var ErrUnknown = errors.New("no such account")

// ExhaustedError is returned by Pick when no account can take the request.
type ExhaustedError struct {
	// Until is the soonest time an account comes back by itself; zero when
	// none will (every account needs a login, is failing or disabled).
	Until time.Time
	// Account is the account that comes back first.
	Account string
	// Cooling is true when that account is cooling down after reaching a
	// limit, false when it is only paused for a moment (throttled,
	// overloaded) or merely tried already by this request.
	Cooling bool
	// Accounts counts the accounts in the pool.
	Accounts int
	// At is when the pool was asked; Error writes times relative to it,
	// in its location.
	At time.Time
	// Problems says, per account that needs a login or is failing, why:
	// "side: needs login — run: …".
	Problems []string
}

// Error says why no account can take the request and, when one rests,
// which comes back first and when, in At's time zone.
func (e *ExhaustedError) Error() string {
	switch {
	case e.Accounts == 0:
		return "no accounts configured"
	case e.Until.IsZero() && len(e.Problems) > 0:
		return "no account can take requests: " + strings.Join(e.Problems, "; ")
	case e.Until.IsZero():
		return "no account can take requests (all need a login, are disabled or failing)"
	case !e.Until.After(e.At):
		return "every available account was tried for this request and none could answer it"
	case e.Cooling:
		return fmt.Sprintf("every account is at its limit; %s is back %s", e.Account, words.Back(e.Until, e.At))
	}
	return fmt.Sprintf("every account is paused for a moment (throttled or overloaded); %s is tried again %s", e.Account, words.In(e.Until, e.At))
}

// Options configure a Pool.
type Options struct {
	// Strategy is a configuration strategy name; "" means round-robin.
	Strategy string
	// Affinity keeps a session on one account while it is available.
	Affinity bool
	// Bus receives account events; nil drops them.
	Bus *event.Bus
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// renewTimeout bounds a token refresh the pool runs in the background (a
// retry of a failing account, or Renew). The credential bounds the refresh
// itself; this only ends the wait.
const renewTimeout = 90 * time.Second

// Pool holds the accounts and picks one per request. Pick and Observe are
// safe for concurrent use and hold no lock across I/O.
type Pool struct {
	now      func() time.Time
	bus      *event.Bus
	log      *slog.Logger
	accounts atomic.Pointer[[]*Account]
	policy   atomic.Pointer[policyBox]
	affinity atomic.Bool
	sessions sessions
	ctx      context.Context // ends with Close: background refreshes
	cancel   context.CancelFunc
	bg       sync.WaitGroup // background refreshes

	// avoidExtra picks an account billed to extra usage only when no
	// other can take the request (config extra_usage = "avoid").
	avoidExtra atomic.Bool

	// emit orders state changes with the events that announce them: each
	// change, its events and the pool check after it happen under emit,
	// so subscribers see events in the order of the changes.
	emit sync.Mutex

	mu        sync.Mutex // guards the fields below
	timer     *time.Timer
	timerAt   time.Time
	exhausted bool
	closed    bool
}

type policyBox struct {
	name string
	p    Policy
}

// NewPool returns an empty pool.
func NewPool(o Options) (*Pool, error) {
	p := &Pool{now: o.Now, bus: o.Bus, log: o.Logger}
	if p.now == nil {
		p.now = time.Now
	}
	if p.bus == nil {
		p.bus = new(event.Bus)
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.log = p.log.With("component", "account")
	if err := p.SetStrategy(o.Strategy); err != nil {
		return nil, err
	}
	p.affinity.Store(o.Affinity)
	p.accounts.Store(new([]*Account))
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

// SetStrategy switches the selection policy; requests in flight keep the
// account they have.
func (p *Pool) SetStrategy(name string) error {
	pol, err := NewPolicy(name)
	if err != nil {
		return err
	}
	if name == "" {
		name = "round-robin"
	}
	p.policy.Store(&policyBox{name, pol})
	return nil
}

// Strategy names the current selection policy.
func (p *Pool) Strategy() string { return p.policy.Load().name }

// SetAffinity turns session affinity on or off.
func (p *Pool) SetAffinity(on bool) {
	p.affinity.Store(on)
	if !on {
		p.sessions.clear()
	}
}

// SetAccounts replaces the accounts, in priority order. Callers pass the
// same *Account (or its Renamed successor) for an account that stays, so
// its state survives; sessions stay with their account by name.
func (p *Pool) SetAccounts(accounts []*Account) {
	cp := append([]*Account(nil), accounts...)
	p.accounts.Store(&cp)
	for _, a := range cp {
		p.arm(a.nextEnd())
	}
	p.change(func(time.Time) {})
}

// Accounts returns the accounts in priority order.
func (p *Pool) Accounts() []*Account { return *p.accounts.Load() }

// Lookup returns the named account, or nil.
func (p *Pool) Lookup(name string) *Account {
	for _, a := range p.Accounts() {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Request says what Pick must respect.
type Request struct {
	// Family is the model family of the request ("opus"), for model-scoped
	// cooldowns; "" matches any.
	Family string
	// Session is the client's session id, for affinity; "" for none.
	Session string
	// Tried lists accounts this request already failed on.
	Tried []*Account
}

func (r *Request) tried(a *Account) bool {
	for _, t := range r.Tried {
		if t == a {
			return true
		}
	}
	return false
}

// Pick chooses an account for r. When none is available it returns an
// *ExhaustedError saying when the first comes back.
func (p *Pool) Pick(r *Request) (*Account, error) {
	now := p.now()
	accounts := p.Accounts()
	// With avoid, accounts within their included limits first: one billed
	// to extra usage only when none is left.
	avoid := p.avoidExtra.Load()
	ok := func(a *Account) bool {
		return a.AvailableFor(now, r.Family) && !r.tried(a) && !(avoid && a.billingExtra(now))
	}
	if a := p.choose(r, accounts, ok, now); a != nil {
		return a, nil
	}
	if avoid && billing(accounts, now) {
		ok := func(a *Account) bool { return a.AvailableFor(now, r.Family) && !r.tried(a) }
		if a := p.choose(r, accounts, ok, now); a != nil {
			return a, nil
		}
	}
	p.change(func(time.Time) {})
	return nil, p.exhaustion(now, r.Family, accounts)
}

// choose picks an account for which ok holds: the session's, or the
// policy's choice.
func (p *Pool) choose(r *Request, accounts []*Account, ok func(*Account) bool, now time.Time) *Account {
	sticky := r.Session != "" && p.affinity.Load()
	if sticky {
		if a := p.sessions.get(r.Session, accounts, now); a != nil && ok(a) {
			return a
		}
	}
	a := p.policy.Load().p.Select(accounts, ok, now)
	if a != nil && sticky {
		p.sessions.put(r.Session, a, now)
	}
	return a
}

// exhaustion describes why nothing is available for family.
func (p *Pool) exhaustion(now time.Time, family string, accounts []*Account) *ExhaustedError {
	e := &ExhaustedError{Accounts: len(accounts), At: now}
	for _, a := range accounts {
		if !a.usable() {
			if !a.disabled.Load() {
				e.Problems = append(e.Problems, a.Name+": "+words.Brief(a.Snapshot(now), now, ""))
			}
			continue
		}
		back, cooling := a.restingUntil(now)
		if family != "" {
			if end := a.modelUntil(family); end.After(back) {
				back, cooling = end, true
			}
		}
		if back.IsZero() {
			back = now // available, merely tried already
		}
		if e.Until.IsZero() || back.Before(e.Until) {
			e.Until, e.Account, e.Cooling = back, a.Name, cooling
		}
	}
	return e
}

// Observe records an upstream answer on a: the windows its headers report
// and, when the verdict says so, a cooldown or pause. family is the
// request's model family.
func (p *Pool) Observe(a *Account, in ratelimit.Info, v ratelimit.Verdict, family string) {
	var at time.Time
	if in.Present || in.OverageInUse {
		at = p.now()
	}
	p.ObserveAt(a, in, v, family, at)
}

// ObserveAt is Observe for an answer received at at (the time its verdict
// was made: the request path has it already).
func (p *Pool) ObserveAt(a *Account, in ratelimit.Info, v ratelimit.Verdict, family string, at time.Time) {
	if in.Present || in.OverageInUse {
		a.observe(in, at)
		p.extra(a, in, at)
	}
	switch v.Kind {
	case ratelimit.Spent, ratelimit.ModelSpent, ratelimit.Throttled, ratelimit.Overloaded:
	default:
		return
	}
	p.change(func(now time.Time) {
		announce := a.rest(v, family, now)
		p.arm(v.Until)
		if announce {
			until := v.Until
			e := event.Event{Type: event.CooldownStarted, Account: a.Name, Until: &until, Reason: v.Reason, Window: v.Window, At: now}
			if v.Kind == ratelimit.ModelSpent {
				e.Model = family
			}
			p.log.Info("cooldown started", "account", a.Name, "until", until.Format(time.RFC3339), "reason", v.Reason)
			p.bus.Publish(e)
		} else if v.Kind != ratelimit.ModelSpent {
			p.log.Debug("account paused", "account", a.Name, "until", v.Until.Format(time.RFC3339), "reason", v.Reason)
		}
	})
}

// NeedsLogin marks a as needing a new login, for reason.
func (p *Pool) NeedsLogin(a *Account, reason string) {
	p.change(func(now time.Time) {
		if !a.needLogin(reason) {
			return
		}
		p.log.Warn("account needs a new login", "account", a.Name, "reason", reason)
		p.bus.Publish(event.Event{Type: event.NeedsLogin, Account: a.Name, Reason: reason, At: now})
	})
}

// Failed puts a into the error state for err: out of rotation, tried
// again by itself after a backoff (30 s, doubling up to 5 min) when it has
// credentials, or when its credentials change (see SetCredential). An
// error wrapping credential.ErrNeedsLogin marks it as needing a login
// instead.
func (p *Pool) Failed(a *Account, err error) {
	if errors.Is(err, credential.ErrNeedsLogin) {
		p.NeedsLogin(a, err.Error())
		return
	}
	p.change(func(now time.Time) {
		entered, retry := a.fail(err, now)
		p.arm(retry)
		if !entered {
			return
		}
		p.log.Warn("account failing", "account", a.Name, "err", err, "retry_at", retry)
		e := event.Event{Type: event.Error, Account: a.Name, Reason: credential.Reason(err), At: now}
		if !retry.IsZero() {
			e.Until = &retry
		}
		p.bus.Publish(e)
	})
}

// NoteError records err as a's last error (an upstream connection that
// failed, say) without taking it out of rotation.
func (p *Pool) NoteError(a *Account, err error) { a.noteError(err) }

// SetCredential gives a (new or re-read) working credentials and puts it
// back into rotation if it needed a login or was failing.
func (p *Pool) SetCredential(a *Account, cred Credential) {
	p.change(func(now time.Time) { p.healed(a, a.heal(cred, now), now) })
}

// Working tells the pool that a's credentials work (a token was fetched or
// refreshed): an account that was failing is back in rotation.
func (p *Pool) Working(a *Account) {
	if !a.failing() {
		return
	}
	p.change(func(now time.Time) {
		if a.failing() {
			p.healed(a, a.heal(nil, now), now)
		}
	})
}

// healed announces that a left the broken state was; p.emit is held.
func (p *Pool) healed(a *Account, was int32, now time.Time) {
	switch was {
	case needsLoginState:
		if a.expecting.Load() {
			return // a login through the daemon: LoggedIn announces it
		}
		p.log.Info("account logged in again", "account", a.Name)
		p.bus.Publish(event.Event{Type: event.LoginCompleted, Account: a.Name, At: now})
	case errorState:
		p.log.Info("account usable again", "account", a.Name)
		p.bus.Publish(event.Event{Type: event.ErrorCleared, Account: a.Name, At: now})
	}
}

// Refreshed announces that a's access token was refreshed; a failing
// account is back in rotation.
func (p *Pool) Refreshed(a *Account) {
	p.bus.Publish(event.Event{Type: event.Refreshed, Account: a.Name, At: p.now()})
	p.Working(a)
}

// Renew refreshes a's token in the background, once at a time per account,
// and records the outcome: Working on success, Failed otherwise (a
// transient failure while the token still works is no failure: the
// credential keeps the token and tries again later). With stale set, the
// upstream rejected that token: it is replaced even if it has not expired.
func (p *Pool) Renew(a *Account, stale string) {
	if !a.startRenewing(p.now()) {
		return
	}
	p.bg.Go(func() {
		defer a.doneRenewing()
		p.renew(a, stale)
	})
}

// RenewDue starts a background refresh (Renew) for every account whose
// token is due for one: idle accounts then keep a fresh token, and a login
// that died while nobody used it shows as such before the next request.
func (p *Pool) RenewDue() {
	for _, a := range p.Accounts() {
		if a.disabled.Load() || a.failing() {
			continue // a failing account is retried on its own schedule
		}
		cred := a.Credential()
		if cred == nil {
			continue
		}
		if _, due, _ := cred.Peek(); due {
			p.Renew(a, "")
		}
	}
}

// renew fetches a's token (refreshing it when due, or replacing stale)
// and records the outcome.
func (p *Pool) renew(a *Account, stale string) {
	cred := a.Credential()
	if cred == nil {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, renewTimeout)
	defer cancel()
	var err error
	var tok credential.Token
	if stale != "" {
		tok, err = cred.Refresh(ctx, stale)
		if err == nil {
			a.replacedWith(tok.Access)
		}
	} else {
		_, err = cred.Token(ctx)
	}
	if err != nil {
		if p.ctx.Err() == nil {
			p.Failed(a, err)
		}
		return
	}
	p.Working(a)
}

// Rejected tells the pool that the upstream rejected a's access token tok
// (401). Unless tok is itself the replacement of a token rejected before,
// a fresh token is fetched in the background (Renew) and Rejected reports
// true: try the account again later. When the replacement is rejected too,
// the login is dead: a needs a new login, and Rejected reports false.
func (p *Pool) Rejected(a *Account, tok string) bool {
	if a.isReplacement(tok) {
		p.NeedsLogin(a, "access token rejected right after a refresh: log in again")
		return false
	}
	p.Renew(a, tok)
	return true
}

// Reset ends the named account's cooldowns and pauses now and, when it is
// failing, tries it again at once (the settings window's Check again).
func (p *Pool) Reset(name string) error {
	a := p.Lookup(name)
	if a == nil {
		return fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	p.change(func(now time.Time) {
		if a.clearRests(now) {
			p.bus.Publish(event.Event{Type: event.CooldownEnded, Account: a.Name, Reason: "reset by hand", At: now})
		}
		if a.retryNow(now) && a.retryDue(now) {
			p.Renew(a, "")
		}
	})
	return nil
}

// Snapshots describes every account, in priority order.
func (p *Pool) Snapshots() []control.Account {
	now := p.now()
	accounts := p.Accounts()
	out := make([]control.Account, len(accounts))
	for i, a := range accounts {
		out[i] = a.Snapshot(now)
	}
	return out
}

// Close stops the timer and the background refreshes, and waits for them.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	p.cancel()
	p.bg.Wait()
}

// arm makes sure the timer fires no later than at. One timer serves every
// account: it fires at the earliest end and re-arms for the next.
func (p *Pool) arm(at time.Time) {
	if at.IsZero() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || (p.timer != nil && !p.timerAt.IsZero() && !at.Before(p.timerAt)) {
		return
	}
	d := at.Sub(p.now())
	p.timerAt = at
	if p.timer == nil {
		p.timer = time.AfterFunc(d, p.tick)
	} else {
		p.timer.Reset(d)
	}
}

// tick ends the rests that are over and announces them, starts the retries
// that are due, and re-arms.
func (p *Pool) tick() {
	p.mu.Lock()
	p.timerAt = time.Time{}
	p.mu.Unlock()
	var next time.Time
	p.change(func(now time.Time) {
		for _, a := range p.Accounts() {
			acct, models := a.ended(now)
			if acct {
				p.log.Info("cooldown ended", "account", a.Name)
				p.bus.Publish(event.Event{Type: event.CooldownEnded, Account: a.Name, At: now})
			}
			for _, m := range models {
				p.bus.Publish(event.Event{Type: event.CooldownEnded, Account: a.Name, Model: m, At: now})
			}
			if a.retryDue(now) {
				p.log.Info("trying a failing account again", "account", a.Name)
				p.Renew(a, "")
			}
			if end := a.nextEnd(); !end.IsZero() && (next.IsZero() || end.Before(next)) {
				next = end
			}
		}
	})
	p.arm(next)
}

// change runs fn, which changes accounts and publishes the events that say
// so, then announces the pool running dry or recovering: all under p.emit,
// so that events go out in the order of the changes they describe.
func (p *Pool) change(fn func(now time.Time)) {
	p.emit.Lock()
	defer p.emit.Unlock()
	now := p.now()
	fn(now)
	p.checkExhausted(now)
}

// checkExhausted announces the pool running dry or recovering; p.emit is
// held.
func (p *Pool) checkExhausted(now time.Time) {
	p.mu.Lock()
	was := p.exhausted
	is := len(p.Accounts()) > 0 && p.exhaustedLocked(now)
	p.exhausted = is
	p.mu.Unlock()
	switch {
	case is && !was:
		e := p.exhaustion(now, "", p.Accounts())
		ev := event.Event{Type: event.AllExhausted, Account: e.Account, Reason: e.Error(), At: now}
		if !e.Until.IsZero() {
			ev.Until = &e.Until
		}
		p.log.Warn("all accounts exhausted", "first_back", e.Account)
		p.bus.Publish(ev)
	case was && !is:
		p.log.Info("pool recovered")
		p.bus.Publish(event.Event{Type: event.Recovered, At: now})
	}
}

// exhaustedLocked reports whether no account can take requests now or
// within a short pause. Model-scoped cooldowns do not count: other models
// still work.
func (p *Pool) exhaustedLocked(now time.Time) bool {
	for _, a := range p.Accounts() {
		if a.Available(now) {
			return false
		}
		if !a.usable() {
			continue
		}
		if _, cooling := a.restingUntil(now); !cooling {
			return false // only briefly paused
		}
	}
	return true
}

// sessions remembers which account a client session used.
type sessions struct {
	mu sync.Mutex
	m  map[string]sessionEntry
}

type sessionEntry struct {
	name string
	last time.Time
}

const (
	maxSessions = 4096
	sessionTTL  = 2 * time.Hour
	// maxSessionID bounds what one session costs: Claude Code's ids are
	// UUIDs (36 bytes). A longer id gets no affinity, so the map holds at
	// most maxSessions × maxSessionID bytes of keys.
	maxSessionID = 128
)

func (s *sessions) get(id string, accounts []*Account, now time.Time) *Account {
	if len(id) > maxSessionID {
		return nil
	}
	s.mu.Lock()
	e, ok := s.m[id]
	if ok {
		s.m[id] = sessionEntry{e.name, now}
	}
	s.mu.Unlock()
	if !ok {
		return nil
	}
	for _, a := range accounts {
		if a.Name == e.name {
			return a
		}
	}
	return nil
}

func (s *sessions) put(id string, a *Account, now time.Time) {
	if len(id) > maxSessionID {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]sessionEntry)
	}
	if len(s.m) >= maxSessions {
		for k, e := range s.m {
			if now.Sub(e.last) > sessionTTL {
				delete(s.m, k)
			}
		}
		if len(s.m) >= maxSessions {
			clear(s.m)
		}
	}
	if _, ok := s.m[id]; !ok {
		id = strings.Clone(id) // keep no part of a larger buffer alive
	}
	s.m[id] = sessionEntry{a.Name, now}
}

func (s *sessions) clear() {
	s.mu.Lock()
	clear(s.m)
	s.mu.Unlock()
}
