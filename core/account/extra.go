package account

import (
	"math"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/quota"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// What the pool knows of an account beyond availability: its usage as the
// usage endpoint reads it, whose login it is, and whether its answers are
// billed to paid extra usage.

// noEnd marks billing extra usage whose window end is unknown.
const noEnd = math.MaxInt64

// reannounce is how long after a billing_extra event with no known window
// end another one may be sent: the length of the 5-hour window.
const reannounce = 5 * time.Hour

// BillingReason is the Reason of a billing_extra event.
const BillingReason = "its answers are billed to paid extra usage"

// billingExtra reports whether the account's answers are billed to extra
// usage at now. Lock-free: Pick asks it.
func (a *Account) billingExtra(now time.Time) bool {
	v := a.billing.Load()
	return v != 0 && now.UnixNano() < v
}

// billing reports whether any of accounts is billing extra usage at now.
func billing(accounts []*Account, now time.Time) bool {
	for _, a := range accounts {
		if a.billingExtra(now) {
			return true
		}
	}
	return false
}

// extraWindow is when the billing an answer reports ends by itself: when
// the binding window resets (or the 5-hour one), zero when unknown.
func extraWindow(in ratelimit.Info, now time.Time) time.Time {
	for _, t := range []time.Time{in.Reset, in.FiveHour.Reset} {
		if t.After(now) {
			return t
		}
	}
	return time.Time{}
}

// startBilling marks the account billing extra usage from now until the
// window ending at until (zero: unknown) resets. It reports whether that
// is worth announcing: once per window.
func (a *Account) startBilling(until, now time.Time) (announce bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	end := int64(noEnd)
	if !until.IsZero() {
		end = until.UnixNano()
	}
	if a.billingExtra(now) {
		if end > a.billing.Load() {
			a.billing.Store(end)
		}
		return false
	}
	a.extraSince = now
	a.billing.Store(end)
	if until.IsZero() {
		announce = a.extraAnnAt.IsZero() || now.Sub(a.extraAnnAt) >= reannounce
	} else {
		announce = !until.Equal(a.extraAnnounced)
	}
	if announce {
		a.extraAnnounced, a.extraAnnAt = until, now
	}
	return announce
}

// stopBilling ends billing extra usage.
func (a *Account) stopBilling() {
	a.mu.Lock()
	a.billing.Store(0)
	a.extraSince = time.Time{}
	a.mu.Unlock()
}

// extra records that an answer on a said, at now, that it was billed to
// extra usage (on) or that it was not (billing ends), and announces the
// start once per window.
func (p *Pool) extra(a *Account, in ratelimit.Info, now time.Time) {
	if in.OverageInUse == a.billingExtra(now) {
		return
	}
	p.change(func(now time.Time) {
		if !in.OverageInUse {
			if a.billingExtra(now) {
				a.stopBilling()
				p.log.Info("answers no longer billed to extra usage", "account", a.Name)
			}
			return
		}
		until := extraWindow(in, now)
		if !a.startBilling(until, now) {
			return
		}
		p.log.Warn("answers billed to paid extra usage", "account", a.Name, "until", until)
		e := event.Event{Type: event.BillingExtra, Account: a.Name, Reason: BillingReason, At: now}
		if !until.IsZero() {
			e.Until = &until
		}
		p.bus.Publish(e)
	})
}

// SetAvoidExtra chooses whether an account billed to extra usage is picked
// only when no other account can take the request (config extra_usage =
// "avoid"), or like any other ("allow").
func (p *Pool) SetAvoidExtra(on bool) { p.avoidExtra.Store(on) }

// Quota records what the usage endpoint said about a (see quota.Poller).
// A reading older than what the answers' headers said last is ignored for
// the windows the headers give. A reading that says a window is used up
// (100% or more, resetting later) rests the account until it resets, as a
// 429 would, without a request having to find out.
func (p *Pool) Quota(a *Account, r quota.Result) {
	if v, ok := a.setQuota(r, p.now()); ok {
		p.Observe(a, ratelimit.Info{}, v, "")
	}
}

// setQuota records a read of the usage endpoint. It reports a Spent
// verdict when a window the reading gave (and that was taken: newer than
// the headers) is used up and resets after now.
func (a *Account) setQuota(r quota.Result, now time.Time) (spent ratelimit.Verdict, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := &control.Quota{Skipped: r.Skipped}
	if a.quota != nil {
		q.CheckedAt = a.quota.CheckedAt
	}
	if !r.Next.IsZero() {
		t := r.Next
		q.NextAt = &t
	}
	if r.Err != nil {
		q.Error = r.Err.Error()
	}
	a.quota = q
	if u := r.Usage; u != nil {
		at := r.At
		q.CheckedAt = &at
		for _, w := range []struct {
			dst   *ratelimit.Window
			heard *time.Time
			got   *quota.Window
			name  string
		}{
			{&a.fiveHour, &a.fiveAt, u.FiveHour, ratelimit.FiveHour},
			{&a.sevenDay, &a.sevenAt, u.SevenDay, ratelimit.SevenDay},
		} {
			if read(w.dst, w.heard, w.got, at) && w.got.Utilization >= 1 && w.got.ResetsAt.After(now) && w.got.ResetsAt.After(spent.Until) {
				spent = ratelimit.Verdict{Kind: ratelimit.Spent, Until: w.got.ResetsAt, Window: w.name, Reason: ratelimit.WindowReason(w.name)}
				ok = true
			}
		}
		if at.After(a.weeklyAt) {
			a.weekly, a.weeklyAt = nil, at
			for f, w := range u.Models {
				if a.weekly == nil {
					a.weekly = map[string]ratelimit.Window{}
				}
				a.weekly[f] = ratelimit.Window{Utilization: w.Utilization, HasUtilization: true, Reset: w.ResetsAt}
			}
		}
		a.extraUsage = nil
		if e := u.Extra; e != nil {
			a.extraUsage = &control.ExtraUsage{Enabled: e.Enabled, MonthlyLimit: e.MonthlyLimit, UsedCredits: e.UsedCredits, Utilization: e.Utilization}
		}
	}
	if pr := r.Profile; pr != nil {
		if pr.Email != "" {
			a.email = pr.Email
		}
		if pr.Organization != "" {
			a.org = pr.Organization
		}
	}
	return spent, ok
}

// read takes a window the usage endpoint gave, read at at, into dst
// unless the headers said something newer (heard of at *heard), and
// reports whether it did.
func read(dst *ratelimit.Window, heard *time.Time, w *quota.Window, at time.Time) bool {
	if w == nil || !at.After(*heard) {
		return false
	}
	dst.Utilization, dst.HasUtilization, dst.Reset = w.Utilization, true, w.ResetsAt
	*heard = at
	return true
}

// ClearQuota forgets how the usage was read (quota_poll turned off); what
// was read stays until newer readings replace it.
func (p *Pool) ClearQuota() {
	for _, a := range p.Accounts() {
		a.mu.Lock()
		a.quota = nil
		a.mu.Unlock()
	}
}

// Email returns the email address of a's login, "" when not known.
func (a *Account) Email() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.email
}

// describeLocked adds to s what extra.go keeps; a.mu is held.
func (a *Account) describeLocked(s *control.Account, now time.Time) {
	s.Email, s.Organization = a.email, a.org
	for f, w := range a.weekly {
		if s.SevenDayModels == nil {
			s.SevenDayModels = map[string]control.Window{}
		}
		s.SevenDayModels[f] = wire(w, a.weeklyAt, now)
	}
	if a.extraUsage != nil {
		e := *a.extraUsage
		s.ExtraUsage = &e
	}
	if a.quota != nil {
		q := *a.quota
		s.Quota = &q
	}
	if a.billingExtra(now) {
		t := a.extraSince
		s.BillingExtra, s.BillingExtraSince = true, &t
	}
}

// ExpectLogin tells the pool that a login made through the daemon is about
// to replace a's credentials: until LoggedIn (or LoginAbandoned) the
// account coming back from needing a login is not announced, so that
// LoggedIn announces the login once, with its email.
func (p *Pool) ExpectLogin(a *Account) { a.expecting.Store(true) }

// LoginAbandoned undoes ExpectLogin when the login could not be stored.
func (p *Pool) LoginAbandoned(a *Account) { a.expecting.Store(false) }

// LoggedIn records a login made through the daemon as email (of
// organization org): a is back in rotation with cred (nil keeps its own),
// and one login_completed event says so, with reason (a change of email,
// say). A login as another email than before forgets the usage learnt for
// the previous one.
func (p *Pool) LoggedIn(a *Account, cred Credential, email, org, reason string) {
	p.change(func(now time.Time) {
		a.expecting.Store(false)
		a.heal(cred, now)
		a.mu.Lock()
		if a.email != "" && email != "" && a.email != email {
			a.fiveHour, a.sevenDay, a.fiveAt, a.sevenAt = ratelimit.Window{}, ratelimit.Window{}, time.Time{}, time.Time{}
			a.weekly, a.weeklyAt, a.extraUsage, a.quota = nil, time.Time{}, nil, nil
			a.billing.Store(0)
		}
		if email != "" {
			a.email = email
		}
		if org != "" {
			a.org = org
		}
		a.mu.Unlock()
		p.log.Info("logged in", "account", a.Name)
		p.bus.Publish(event.Event{Type: event.LoginCompleted, Account: a.Name, Email: email, Reason: reason, At: now})
	})
}
