// Package account keeps the pool of Claude accounts: which can take a
// request now, which is cooling down until when, which is failing and when
// it is tried again, and which strategy picks among the available ones.
// Cooldowns and retries are data with an end time compared against a
// clock; one timer announces the earliest end.
//
// An Account's state changes only through its own methods; the Pool calls
// them, decides what is worth announcing, and publishes the events.
package account

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// Credential is where an account gets its access token; *credential.Source
// implements it.
type Credential interface {
	// Peek returns the current access token without waiting: due says it
	// should be refreshed (Token would refresh it first), usable that it
	// has not expired and can still be sent.
	Peek() (tok credential.Token, due, usable bool)
	// Token returns a usable access token, refreshing it when it is about
	// to expire.
	Token(ctx context.Context) (credential.Token, error)
	// Refresh replaces the access token stale after the upstream rejected it.
	Refresh(ctx context.Context, stale string) (credential.Token, error)
	// Info describes the credentials (subscription, expiry).
	Info() credential.Info
}

// Broken states: why an enabled account cannot take requests regardless of
// time.
const (
	okState int32 = iota
	needsLoginState
	errorState
)

// Backoff of a failing account: the first retry comes after firstRetry,
// each further one after twice the wait before, up to maxRetry.
const (
	firstRetry = 30 * time.Second
	maxRetry   = 5 * time.Minute
)

// Account is one subscription in the pool. Its availability is read with
// atomics on the request path; the mutex guards the descriptive state that
// snapshots and cooldown bookkeeping touch.
type Account struct {
	// Name and Dir come from the configuration and never change; a
	// renamed account is a new Account that carries the old one's state
	// (see Renamed).
	Name string
	Dir  string

	// Request path: lock-free.
	disabled  atomic.Bool
	broken    atomic.Int32 // okState, needsLoginState, errorState
	notBefore atomic.Int64 // unix nanos before which the account rests (cooldown or pause); 0 = none
	hasModels atomic.Bool  // model-scoped cooldowns exist; check them under mu
	requests  atomic.Int64 // upstream attempts since start
	inflight  atomic.Int64 // requests being served now
	renewing  atomic.Int64 // unix nanos since a background token refresh runs (Pool.Renew); 0 = none
	billing   atomic.Int64 // billing extra usage until (unix nanos; noEnd when unknown); 0 = not
	expecting atomic.Bool  // a login through the daemon is being stored (Pool.ExpectLogin)

	mu        sync.Mutex
	cred      Credential // nil while the credentials cannot be read
	until     time.Time  // end of the current cooldown or pause
	announced bool       // a cooldown_started event was sent for until
	reason    string     // why the account rests or needs a login
	window    string
	lastError string
	replaced  string               // the token a refresh after a rejection produced: if it is rejected too, the login is dead
	retryAt   time.Time            // errorState: when the account is tried again (zero: not by itself)
	backoff   time.Duration        // errorState: the wait before retryAt
	retrying  bool                 // errorState: a retry is under way; its failure doubles the backoff
	models    map[string]time.Time // model family → cooldown end
	modelsAnn map[string]bool      // model cooldowns announced
	fiveHour  ratelimit.Window
	sevenDay  ratelimit.Window

	// What is known beyond the headers (extra.go).
	fiveAt, sevenAt time.Time // when fiveHour and sevenDay were last heard of
	weekly          map[string]ratelimit.Window
	weeklyAt        time.Time // when weekly was read
	extraUsage      *control.ExtraUsage
	quota           *control.Quota
	email, org      string
	extraSince      time.Time // billing extra usage since
	extraAnnounced  time.Time // the window end of the last billing_extra event
	extraAnnAt      time.Time // when it was sent
}

// New returns an enabled account reading its token from cred. A nil cred
// makes an account in the error state with reason err (the daemon tries to
// read its credentials again now and then).
func New(name, dir string, cred Credential, err error) *Account {
	a := &Account{Name: name, Dir: dir, cred: cred}
	if cred == nil {
		a.broken.Store(errorState)
		if err != nil {
			a.lastError = err.Error()
		}
	}
	return a
}

// Renamed returns a new account named name that carries everything a knows
// (credentials, state, cooldowns, counters, learnt windows). Requests still
// in flight on a finish there. Calls on a after Renamed are not carried.
func (a *Account) Renamed(name string) *Account {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := &Account{
		Name: name, Dir: a.Dir, cred: a.cred,
		until: a.until, announced: a.announced, reason: a.reason, window: a.window,
		lastError: a.lastError, retryAt: a.retryAt, backoff: a.backoff,
		fiveHour: a.fiveHour, sevenDay: a.sevenDay,
		fiveAt: a.fiveAt, sevenAt: a.sevenAt, weekly: a.weekly, weeklyAt: a.weeklyAt,
		extraUsage: a.extraUsage, quota: a.quota, email: a.email, org: a.org,
		extraSince: a.extraSince, extraAnnounced: a.extraAnnounced, extraAnnAt: a.extraAnnAt,
	}
	if a.models != nil {
		b.models, b.modelsAnn = map[string]time.Time{}, map[string]bool{}
		for k, v := range a.models {
			b.models[k] = v
		}
		for k, v := range a.modelsAnn {
			b.modelsAnn[k] = v
		}
	}
	b.disabled.Store(a.disabled.Load())
	b.broken.Store(a.broken.Load())
	b.notBefore.Store(a.notBefore.Load())
	b.hasModels.Store(a.hasModels.Load())
	b.requests.Store(a.requests.Load())
	b.billing.Store(a.billing.Load())
	return b
}

// SetEnabled takes the account in or out of rotation.
func (a *Account) SetEnabled(on bool) { a.disabled.Store(!on) }

// Credential returns where the account gets its token, or nil when its
// credentials could not be read.
func (a *Account) Credential() Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cred
}

// Available reports whether the account can take a request at now: enabled,
// holding credentials that work, and not resting. It is the single health
// question strategies ask.
func (a *Account) Available(now time.Time) bool {
	return !a.disabled.Load() && a.broken.Load() == okState && now.UnixNano() >= a.notBefore.Load()
}

// AvailableFor is Available plus the model-scoped cooldowns of family.
func (a *Account) AvailableFor(now time.Time, family string) bool {
	if !a.Available(now) {
		return false
	}
	if family == "" || !a.hasModels.Load() {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	end, ok := a.models[family]
	return !ok || !now.Before(end)
}

// usable reports whether the account is enabled and not broken: it takes
// requests now or after a rest.
func (a *Account) usable() bool {
	return !a.disabled.Load() && a.broken.Load() == okState
}

// Requests reports how many requests were sent upstream on the account.
func (a *Account) Requests() int64 { return a.requests.Load() }

// Begin counts a request sent upstream on the account; call the returned
// function when its answer is done.
func (a *Account) Begin() func() {
	a.requests.Add(1)
	a.inflight.Add(1)
	return func() { a.inflight.Add(-1) }
}

// utilization is the larger of the 5-hour and 7-day fractions still in
// force at now; unknown or reset windows count as empty.
func (a *Account) utilization(now time.Time) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := 0.0
	for _, w := range [...]ratelimit.Window{a.fiveHour, a.sevenDay} {
		if w.HasUtilization && (w.Reset.IsZero() || now.Before(w.Reset)) && w.Utilization > u {
			u = w.Utilization
		}
	}
	return u
}

// observe records what the headers of an answer, received at now, say
// about the windows.
func (a *Account) observe(in ratelimit.Info, now time.Time) {
	if !in.Present {
		return
	}
	a.mu.Lock()
	if merge(&a.fiveHour, in.FiveHour) {
		a.fiveAt = now
	}
	if merge(&a.sevenDay, in.SevenDay) {
		a.sevenAt = now
	}
	a.mu.Unlock()
}

// merge copies what src says into dst and reports whether it said
// anything about the use or the reset.
func merge(dst *ratelimit.Window, src ratelimit.Window) bool {
	if src.HasUtilization {
		dst.Utilization, dst.HasUtilization = src.Utilization, true
	}
	if !src.Reset.IsZero() {
		dst.Reset = src.Reset
	}
	if src.Status != "" {
		dst.Status = src.Status
	}
	return src.HasUtilization || !src.Reset.IsZero()
}

// rest makes the account unavailable until v.Until (never shortening a
// longer rest). It reports whether this starts a cooldown worth announcing.
func (a *Account) rest(v ratelimit.Verdict, family string, now time.Time) (announce bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v.Kind == ratelimit.ModelSpent {
		if a.models == nil {
			a.models, a.modelsAnn = map[string]time.Time{}, map[string]bool{}
		}
		if cur, ok := a.models[family]; ok && !v.Until.After(cur) {
			return false
		}
		a.models[family] = v.Until
		a.hasModels.Store(true)
		announce = !a.modelsAnn[family]
		a.modelsAnn[family] = true
		return announce
	}
	if !v.Until.After(a.until) {
		return false
	}
	wasResting := now.Before(a.until)
	a.until, a.window = v.Until, v.Window
	if a.broken.Load() == okState {
		a.reason = v.Reason
	}
	a.notBefore.Store(v.Until.UnixNano())
	// Short pauses (throttles, overload) are not cooldowns a person needs
	// to hear about; a spent account is.
	if v.Kind == ratelimit.Spent && (!wasResting || !a.announced) {
		a.announced = true
		return true
	}
	return false
}

// ended clears rests that are over at now and reports which announced
// cooldowns ended (account-wide and per model family).
func (a *Account) ended(now time.Time) (account bool, models []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.until.IsZero() && !now.Before(a.until) {
		account = a.announced
		a.until, a.announced, a.window = time.Time{}, false, ""
		if a.broken.Load() == okState {
			a.reason = ""
		}
	}
	for f, end := range a.models {
		if !now.Before(end) {
			if a.modelsAnn[f] {
				models = append(models, f)
			}
			delete(a.models, f)
			delete(a.modelsAnn, f)
		}
	}
	a.hasModels.Store(len(a.models) > 0)
	return account, models
}

// clearRests ends every cooldown and pause now; it reports whether an
// announced cooldown was cut short.
func (a *Account) clearRests(now time.Time) (announced bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	announced = a.announced && now.Before(a.until)
	a.until, a.announced, a.window = time.Time{}, false, ""
	if a.broken.Load() == okState {
		a.reason = ""
	}
	a.models, a.modelsAnn = nil, nil
	a.hasModels.Store(false)
	a.notBefore.Store(0)
	return announced
}

// nextEnd is the earliest future end of any rest or retry wait, or zero.
func (a *Account) nextEnd() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.until
	for _, end := range a.models {
		if next.IsZero() || end.Before(next) {
			next = end
		}
	}
	if !a.retryAt.IsZero() && (next.IsZero() || a.retryAt.Before(next)) {
		next = a.retryAt
	}
	return next
}

// restingUntil reports when a resting account comes back, and whether that
// rest is a real cooldown rather than a short pause.
func (a *Account) restingUntil(now time.Time) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Before(a.until) {
		return a.until, a.announced
	}
	return time.Time{}, false
}

// modelUntil is when family's cooldown ends, or zero.
func (a *Account) modelUntil(family string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.models[family]
}

// needLogin marks the account as needing a new login for reason. It
// reports whether that is news (it did not need one before).
func (a *Account) needLogin(reason string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reason, a.lastError = reason, reason
	a.retryAt, a.backoff, a.retrying = time.Time{}, 0, false
	return a.broken.Swap(needsLoginState) != needsLoginState
}

// fail puts the account in the error state for err: it is tried again
// after a backoff that starts at firstRetry and doubles up to maxRetry. A
// failure while already failing, before the retry is due, only updates
// the message; one at or after the retry (the retry failed) doubles the
// backoff. An account that needs a login stays so. fail reports whether
// the account entered the error state now, and the time of the next retry.
func (a *Account) fail(err error, now time.Time) (entered bool, retry time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastError = credential.Reason(err)
	switch a.broken.Load() {
	case needsLoginState:
		return false, time.Time{}
	case errorState:
		if !a.retrying && now.Before(a.retryAt) {
			return false, a.retryAt
		}
		a.backoff = min(2*a.backoff, maxRetry)
		if a.backoff == 0 {
			a.backoff = firstRetry
		}
	default:
		a.backoff = firstRetry
		entered = true
	}
	a.retryAt, a.retrying = now.Add(a.backoff), false
	if a.cred == nil {
		a.retryAt = time.Time{} // nothing to retry with: a change of its credentials ends it
	}
	a.reason = ""
	a.broken.Store(errorState)
	return entered, a.retryAt
}

// noteError records err (a failed upstream connection, say) without
// changing the account's state.
func (a *Account) noteError(err error) {
	a.mu.Lock()
	a.lastError = err.Error()
	a.mu.Unlock()
}

// retryDue reports whether a failing account with credentials is due to be
// tried again at now. If so the retry is under way: its outcome decides
// what follows (fail doubles the backoff), and a retry that never reports
// is made again after the same backoff.
func (a *Account) retryDue(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.broken.Load() != errorState || a.cred == nil || a.retryAt.IsZero() || now.Before(a.retryAt) {
		return false
	}
	a.retryAt, a.retrying = now.Add(max(a.backoff, firstRetry)), true
	return true
}

// retryNow makes a failing account due for a retry at once (Check again).
func (a *Account) retryNow(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.broken.Load() != errorState || a.cred == nil {
		return false
	}
	a.retryAt = now
	return true
}

// heal puts an account that needed a login or was failing back into
// rotation, with cred when it is not nil; now tells whether a cooldown's
// reason still holds. It reports the broken state it left: okState when it
// was fine, or when it has no credentials to work with.
func (a *Account) heal(cred Credential, now time.Time) (was int32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cred != nil {
		a.cred = cred
	}
	if a.cred == nil {
		return okState // nothing to heal with
	}
	was = a.broken.Swap(okState)
	if was != okState {
		a.lastError = ""
		a.retryAt, a.backoff, a.retrying = time.Time{}, 0, false
		if !now.Before(a.until) {
			a.reason = ""
		}
	}
	return was
}

// failing reports whether the account is in the error state.
func (a *Account) failing() bool { return a.broken.Load() == errorState }

// startRenewing claims the account's one background refresh at now; it
// reports false when one runs already. doneRenewing releases it.
func (a *Account) startRenewing(now time.Time) bool {
	return a.renewing.CompareAndSwap(0, now.UnixNano())
}

func (a *Account) doneRenewing() { a.renewing.Store(0) }

// renewGrace is how long a refresh of an expired token may take before the
// account's snapshot says it is waiting for the token endpoint.
const renewGrace = 5 * time.Second

// replacedWith records tok as the token a refresh after a rejection
// produced.
func (a *Account) replacedWith(tok string) {
	a.mu.Lock()
	a.replaced = tok
	a.mu.Unlock()
}

// isReplacement reports whether tok is the token a refresh after a
// rejection produced: its rejection means the login is dead.
func (a *Account) isReplacement(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.replaced != "" && a.replaced == tok
}

// Snapshot describes the account for the control API.
func (a *Account) Snapshot(now time.Time) control.Account {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := control.Account{
		Name:      a.Name,
		Dir:       a.Dir,
		State:     control.StateAvailable,
		LastError: a.lastError,
		Requests:  a.requests.Load(),
		FiveHour:  wire(a.fiveHour, a.fiveAt, now),
		SevenDay:  wire(a.sevenDay, a.sevenAt, now),
	}
	if a.cred != nil {
		info := a.cred.Info()
		s.Subscription, s.RateLimitTier = info.Subscription, info.RateLimitTier
		if !info.ExpiresAt.IsZero() {
			t := info.ExpiresAt
			s.TokenExpiresAt = &t
		}
		if !info.LoginExpiresAt.IsZero() {
			t := info.LoginExpiresAt
			s.LoginExpiresAt = &t
		}
	}
	a.describeLocked(&s, now)
	switch {
	case a.disabled.Load():
		s.State, s.Reason = control.StateDisabled, "disabled in settings"
	case a.broken.Load() == needsLoginState:
		s.State, s.Reason = control.StateNeedsLogin, a.reason
	case a.broken.Load() == errorState:
		s.State, s.Reason = control.StateError, a.lastError
		if !a.retryAt.IsZero() {
			t := a.retryAt
			s.RetryAt = &t
		}
	default:
		if now.Before(a.until) {
			t := a.until
			s.State, s.CooldownUntil, s.Reason = control.StateCooling, &t, a.reason
		}
		// An expired token whose refresh hangs: it takes no request.
		if since := a.renewing.Load(); since != 0 && a.cred != nil && now.Sub(time.Unix(0, since)) > renewGrace {
			if _, _, usable := a.cred.Peek(); !usable {
				s.State = control.StateError
				s.Reason = fmt.Sprintf("waiting for the token endpoint: no answer for %d s while renewing the expired token", int(now.Sub(time.Unix(0, since)).Seconds()))
			}
		}
	}
	for f, end := range a.models {
		if now.Before(end) {
			if s.ModelCooldowns == nil {
				s.ModelCooldowns = map[string]time.Time{}
			}
			s.ModelCooldowns[f] = end
		}
	}
	return s
}

// wire is a window as the snapshot says it; at is when it was heard of.
func wire(w ratelimit.Window, at, now time.Time) control.Window {
	if !w.Reset.IsZero() && !now.Before(w.Reset) {
		return control.Window{} // the window has reset since we last heard
	}
	out := control.Window{Utilization: w.Utilization}
	if !w.Reset.IsZero() {
		t := w.Reset
		out.ResetsAt = &t
	}
	if !at.IsZero() {
		out.AsOf = &at
	}
	return out
}
