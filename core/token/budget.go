package token

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// A token's budget is counted in fixed windows: a window opens with the
// first request the token sends while none is open, lasts Limits.Per, and
// the first request after its end opens the next. "Spent until 17:05" is
// then one time, the window's end, and a request costs a few atomic
// operations on counters shared by all the token's requests (no lock, no
// allocation but one per window). A window is a small immutable start with
// atomic counters; opening the next one swaps a pointer, so a request never
// counts in a window that another one just replaced.
//
// Requests are counted when admitted (Take), with a compare-and-swap that
// never admits more than MaxRequests. Tokens are charged when an answer
// reports them (Grant.Charge), to the window the request was admitted in;
// a request is refused once its window's tokens reached MaxTokens (or its
// cache reads MaxCacheReads), so requests already in flight can take the
// window past its budget, by at most what they report.

// meter holds a token's current budget window. It is shared by every
// snapshot's entry of one token.
type meter struct {
	cur atomic.Pointer[window] // nil: no window yet
	// saved is the window as the file holds it, to tell whether Flush has
	// anything to write; guarded by Store.mu.
	saved windowState
}

// window is one budget window: its start never changes, its counters only
// grow.
type window struct {
	start      int64 // Unix nanoseconds
	requests   atomic.Int64
	tokens     atomic.Int64 // input, cache writes and output
	cacheReads atomic.Int64
	reached    atomic.Bool // token_budget_reached was told for this window
}

// spent reports whether w used all l allows of any kind.
func (w *window) spent(l control.Limits) bool {
	return l.MaxRequests > 0 && w.requests.Load() >= l.MaxRequests ||
		l.MaxTokens > 0 && w.tokens.Load() >= l.MaxTokens ||
		l.MaxCacheReads > 0 && w.cacheReads.Load() >= l.MaxCacheReads
}

// windowState is a window's value at one moment; the zero value is no
// window.
type windowState struct {
	start, requests, tokens, cacheReads int64
	reached                             bool
}

func (m *meter) state() windowState {
	w := m.cur.Load()
	if w == nil {
		return windowState{}
	}
	return windowState{w.start, w.requests.Load(), w.tokens.Load(), w.cacheReads.Load(), w.reached.Load()}
}

// restore sets the window read from the file.
func (m *meter) restore(st windowState) {
	w := &window{start: st.start}
	w.requests.Store(st.requests)
	w.tokens.Store(st.tokens)
	w.cacheReads.Store(st.cacheReads)
	w.reached.Store(st.reached)
	m.cur.Store(w)
	m.saved = st
}

// open returns the window open at now (Unix nanoseconds) for windows of
// per, opening a new one when none is. A clock that went back keeps the
// current window.
func (m *meter) open(now, per int64) *window {
	for {
		w := m.cur.Load()
		if w != nil && now < w.start+per {
			return w
		}
		next := &window{start: now}
		if m.cur.CompareAndSwap(w, next) {
			return next
		}
	}
}

// window reports e's current window at now, nil when e has no limits or
// no window is open.
func (e *entry) window(now time.Time) *control.TokenWindow {
	l := e.info.Limits
	w := e.meter.cur.Load()
	if !l.Limited() || w == nil || now.UnixNano() >= w.start+int64(l.Per) {
		return nil
	}
	start := time.Unix(0, w.start)
	return &control.TokenWindow{
		Start: start, ResetsAt: start.Add(time.Duration(l.Per)),
		Requests: w.requests.Load(), Tokens: w.tokens.Load(), CacheReadTokens: w.cacheReads.Load(),
	}
}

// Client is a usable client token, as Find returns it: who it is, and the
// budget its requests take from.
type Client struct{ e *entry }

// ID is the token's ID ("" for the zero Client).
func (c Client) ID() string {
	if c.e == nil {
		return ""
	}
	return c.e.info.ID
}

// Label is the token's label.
func (c Client) Label() string {
	if c.e == nil {
		return ""
	}
	return c.e.info.Label
}

// Limits are the token's limits.
func (c Client) Limits() control.Limits {
	if c.e == nil {
		return control.Limits{}
	}
	return c.e.info.Limits
}

// Take admits one request at now against the token's budget and counts
// it: the returned Grant charges the tokens its answer reports. A token
// that has spent its budget in the current window gets a *SpentError and
// nothing is counted. A token without limits is always admitted, and
// counts nothing. Take takes no lock, and allocates only to open a window
// or to refuse.
func (c Client) Take(now time.Time) (Grant, error) {
	if c.e == nil {
		return Grant{}, nil
	}
	l := c.e.info.Limits
	if !l.Limited() {
		return Grant{e: c.e}, nil
	}
	w := c.e.meter.open(now.UnixNano(), int64(l.Per))
	switch {
	case l.MaxTokens > 0 && w.tokens.Load() >= l.MaxTokens:
		return Grant{e: c.e}, c.refuse(w, "tokens", l.MaxTokens)
	case l.MaxCacheReads > 0 && w.cacheReads.Load() >= l.MaxCacheReads:
		return Grant{e: c.e}, c.refuse(w, "cache-read tokens", l.MaxCacheReads)
	case l.MaxRequests <= 0:
		w.requests.Add(1)
		return Grant{e: c.e, w: w}, nil
	}
	for {
		n := w.requests.Load()
		if n >= l.MaxRequests {
			return Grant{e: c.e}, c.refuse(w, "requests", l.MaxRequests)
		}
		if w.requests.CompareAndSwap(n, n+1) {
			// The last request the budget allows: it is spent now.
			reached := n+1 == l.MaxRequests && w.reached.CompareAndSwap(false, true)
			return Grant{e: c.e, w: w, Reached: reached}, nil
		}
	}
}

// refuse is the SpentError of a request refused in w.
func (c Client) refuse(w *window, what string, limit int64) *SpentError {
	l := c.e.info.Limits
	return &SpentError{
		ID: c.e.info.ID, Label: c.e.info.Label, What: what, Limit: limit, Per: l.Per,
		Until: time.Unix(0, w.start+int64(l.Per)),
		// Limits lowered below what the window used already: this
		// refusal is the first word of it.
		Reached: w.reached.CompareAndSwap(false, true),
	}
}

// SpentError refuses a request whose token spent its budget.
type SpentError struct {
	ID, Label string
	// What ran out ("requests", "tokens", "cache-read tokens"), and its
	// limit per Per.
	What  string
	Limit int64
	Per   control.Period
	// Until is when the window ends and the token may send again.
	Until time.Time
	// Reached is set on the one refusal that is the first to find the
	// budget spent in its window when no admission or charge said so
	// before (the limits were lowered, or it overtook the last admission
	// between that one's count and its word): announce it. Per window,
	// one Grant, Charge or SpentError says so, never two.
	Reached bool
}

func (e *SpentError) Error() string {
	return fmt.Sprintf("client token %q spent its %d %s per %v, until %s", e.Label, e.Limit, e.What, e.Per, e.Until.Format(time.RFC3339))
}

// Grant is one admitted request: what it charges its answer's tokens to.
// The zero Grant charges nothing.
type Grant struct {
	e *entry
	w *window // nil: the token has no limits
	// Reached is set when this request was the last one the budget allowed
	// in its window: the budget is spent from now on. It is set on one
	// request per window at most (with Charge's and SpentError's; a
	// refusal racing this request may say it instead).
	Reached bool
}

// Client is the token the request was admitted with.
func (g Grant) Client() Client { return Client{g.e} }

// Metered reports whether the token has limits: whether Charge counts.
func (g Grant) Metered() bool { return g.w != nil }

// Until is when the request's window ends (zero when not Metered).
func (g Grant) Until() time.Time {
	if g.w == nil {
		return time.Time{}
	}
	return time.Unix(0, g.w.start+int64(g.e.info.Limits.Per))
}

// Charge counts tokens (input, cache writes and output) and cacheReads
// that the request's answer reported, in the window it was admitted in,
// and reports whether they spent the budget: true once per window, for
// the charge that first took it to a limit.
func (g Grant) Charge(tokens, cacheReads int64) (reached bool) {
	if g.w == nil || tokens <= 0 && cacheReads <= 0 {
		return false
	}
	l := g.e.info.Limits
	t := g.w.tokens.Add(max(tokens, 0))
	r := g.w.cacheReads.Add(max(cacheReads, 0))
	spent := l.MaxTokens > 0 && t >= l.MaxTokens || l.MaxCacheReads > 0 && r >= l.MaxCacheReads
	return spent && !g.w.reached.Load() && g.w.reached.CompareAndSwap(false, true)
}

// Update changes a token's limits or expiry as u says (see
// control.TokenUpdate), writes the file and returns the token as it is
// now. Limits changed while a window is open keep its counts (the window
// ends at its start plus the new Per), and limits raised above what it
// used make spending them news again (token_budget_reached); removing
// every limit forgets the window. An unknown ID is ErrNotFound; a revoked token, bad limits or an
// expiry in the past are ErrInvalid. If the file cannot be written the
// store is unchanged.
func (s *Store) Update(id string, u control.TokenUpdate) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	i := slices.IndexFunc(old.entries, func(e *entry) bool { return e.info.ID == id })
	if i < 0 {
		return Info{}, fmt.Errorf("changing %q: %w", id, ErrNotFound)
	}
	if s.broken != nil {
		return Info{}, fmt.Errorf("not changing %q: %w", id, s.broken)
	}
	e := old.entries[i]
	if e.info.RevokedAt != nil {
		return Info{}, fmt.Errorf("%w: token %q is revoked", ErrInvalid, id)
	}
	info := clone(e.info)
	limits, err := u.Apply(info.Limits)
	if err != nil {
		return Info{}, fmt.Errorf("%w: token %q: %v", ErrInvalid, id, err)
	}
	info.Limits = limits
	now := s.now()
	switch {
	case u.NeverExpires && u.ExpiresAt != nil:
		return Info{}, fmt.Errorf("%w: token %q: an expiry and never_expires together", ErrInvalid, id)
	case u.NeverExpires:
		info.ExpiresAt = nil
	case u.ExpiresAt != nil:
		if !u.ExpiresAt.After(now) {
			return Info{}, fmt.Errorf("%w: token %q: expiry %s is not in the future (revoke the token to end it now)", ErrInvalid, id, u.ExpiresAt.Format(time.RFC3339))
		}
		exp := u.ExpiresAt.Round(0)
		info.ExpiresAt = &exp
	}
	entries := slices.Clone(old.entries)
	entries[i] = e.with(info)
	next := newSnapshot(entries)
	var forgotten *window
	if !limits.Limited() {
		forgotten = e.meter.cur.Swap(nil)
	}
	if err := save(s.path, next); err != nil {
		if forgotten != nil {
			e.meter.cur.CompareAndSwap(nil, forgotten)
		}
		return Info{}, err
	}
	s.snap.Store(next)
	if w := e.meter.cur.Load(); w != nil && limits.Limited() && !w.spent(limits) {
		// Raised above what the window used: spending it again is news.
		w.reached.Store(false)
	}
	return entries[i].view(now), nil
}
