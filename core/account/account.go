// Package account keeps the pool of Claude accounts: which can take a
// request now, which is cooling down until when, and which strategy picks
// among the available ones. Cooldowns are data with an end time compared
// against a clock; one timer announces the earliest end.
package account

import (
	"context"
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

// Account is one subscription in the pool. Its availability is read with
// atomics on the request path; the mutex guards the descriptive state that
// snapshots and cooldown bookkeeping touch.
type Account struct {
	// Name and Dir come from the configuration and never change; a
	// renamed or moved account is a new Account.
	Name string
	Dir  string

	cred Credential // nil while the credentials cannot be read

	// Request path: lock-free.
	disabled  atomic.Bool
	broken    atomic.Int32 // okState, needsLoginState, errorState
	notBefore atomic.Int64 // unix nanos before which the account rests (cooldown or pause); 0 = none
	hasModels atomic.Bool  // model-scoped cooldowns exist; check them under mu
	requests  atomic.Int64 // upstream attempts since start
	inflight  atomic.Int64 // requests being served now

	mu        sync.Mutex
	until     time.Time // end of the current cooldown or pause
	announced bool      // a cooldown_started event was sent for until
	reason    string
	window    string
	lastError string
	models    map[string]time.Time // model family → cooldown end
	modelsAnn map[string]bool      // model cooldowns announced
	fiveHour  ratelimit.Window
	sevenDay  ratelimit.Window
}

// SetEnabled takes the account in or out of rotation.
func (a *Account) SetEnabled(on bool) { a.disabled.Store(!on) }

// New returns an enabled account reading its token from cred. A nil cred
// makes an account in the error state with reason err.
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

// observe records what the headers of an answer say about the windows.
func (a *Account) observe(in ratelimit.Info) {
	if !in.Present {
		return
	}
	a.mu.Lock()
	merge(&a.fiveHour, in.FiveHour)
	merge(&a.sevenDay, in.SevenDay)
	a.mu.Unlock()
}

func merge(dst *ratelimit.Window, src ratelimit.Window) {
	if src.HasUtilization {
		dst.Utilization, dst.HasUtilization = src.Utilization, true
	}
	if !src.Reset.IsZero() {
		dst.Reset = src.Reset
	}
	if src.Status != "" {
		dst.Status = src.Status
	}
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
	a.until, a.reason, a.window = v.Until, v.Reason, v.Window
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
		a.until, a.announced, a.reason, a.window = time.Time{}, false, "", ""
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

// nextEnd is the earliest future end of any rest, or zero.
func (a *Account) nextEnd() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.until
	for _, end := range a.models {
		if next.IsZero() || end.Before(next) {
			next = end
		}
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
		FiveHour:  wire(a.fiveHour, now),
		SevenDay:  wire(a.sevenDay, now),
	}
	if a.cred != nil {
		info := a.cred.Info()
		s.Subscription, s.RateLimitTier = info.Subscription, info.RateLimitTier
		if !info.ExpiresAt.IsZero() {
			t := info.ExpiresAt
			s.TokenExpiresAt = &t
		}
	}
	switch {
	case a.disabled.Load():
		s.State, s.Reason = control.StateDisabled, "disabled in settings"
	case a.broken.Load() == needsLoginState:
		s.State, s.Reason = control.StateNeedsLogin, a.reason
	case a.broken.Load() == errorState:
		s.State, s.Reason = control.StateError, a.lastError
	default:
		if now.Before(a.until) {
			t := a.until
			s.State, s.CooldownUntil, s.Reason = control.StateCooling, &t, a.reason
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

func wire(w ratelimit.Window, now time.Time) control.Window {
	if !w.Reset.IsZero() && !now.Before(w.Reset) {
		return control.Window{} // the window has reset since we last heard
	}
	out := control.Window{Utilization: w.Utilization}
	if !w.Reset.IsZero() {
		t := w.Reset
		out.ResetsAt = &t
	}
	return out
}
