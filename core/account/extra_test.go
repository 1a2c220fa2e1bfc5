package account

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/quota"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// clockedPool is newPool with a fake clock.
func clockedPool(t *testing.T, strategy string, names ...string) (*Pool, *event.Bus, []*Account, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	bus := new(event.Bus)
	p, err := NewPool(Options{Strategy: strategy, Bus: bus, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var accts []*Account
	for _, n := range names {
		accts = append(accts, New(n, "~/.claude-"+n, fakeCred{"sk-ant-oat01-test-" + n}, nil))
	}
	p.SetAccounts(accts)
	return p, bus, accts, c
}

func five(u float64) ratelimit.Info {
	return ratelimit.Info{Present: true, Status: ratelimit.Allowed, FiveHour: ratelimit.Window{Utilization: u, HasUtilization: true}}
}

func usage(five, seven float64, reset time.Time) *quota.Usage {
	return &quota.Usage{FiveHour: &quota.Window{Utilization: five, ResetsAt: reset}, SevenDay: &quota.Window{Utilization: seven}}
}

// What the usage endpoint says and what answers' headers say merge: the
// newer reading wins, window by window.
func TestQuotaMergesWithHeaders(t *testing.T) {
	p, _, accts, c := clockedPool(t, "headroom", "a")
	a := accts[0]
	reset := c.now().Add(3 * time.Hour)
	read := c.now()
	p.Quota(a, quota.Result{At: read, Usage: usage(0.40, 0.10, reset), Next: read.Add(5 * time.Minute)})
	s := p.Snapshots()[0]
	if s.FiveHour.Utilization != 0.40 || s.FiveHour.ResetsAt == nil || !s.FiveHour.ResetsAt.Equal(reset) || s.FiveHour.AsOf == nil || !s.FiveHour.AsOf.Equal(read) {
		t.Errorf("five_hour after a read = %+v, want 0.40 resetting at %v as of %v", s.FiveHour, reset, read)
	}
	if s.SevenDay.Utilization != 0.10 || s.SevenDay.ResetsAt != nil || s.SevenDay.AsOf == nil {
		t.Errorf("seven_day after a read = %+v, want 0.10, not started, known", s.SevenDay)
	}
	if s.Quota == nil || s.Quota.CheckedAt == nil || !s.Quota.CheckedAt.Equal(read) || s.Quota.NextAt == nil {
		t.Errorf("quota = %+v, want checked at %v with the next read", s.Quota, read)
	}

	c.add(time.Minute)
	p.Observe(a, five(0.55), ratelimit.Verdict{}, "")
	// A read sent before that answer came is older: its 5-hour window is
	// ignored; the 7-day one (the answer gave none) is taken.
	p.Quota(a, quota.Result{At: read.Add(30 * time.Second), Usage: usage(0.45, 0.20, reset)})
	s = p.Snapshots()[0]
	if s.FiveHour.Utilization != 0.55 || s.SevenDay.Utilization != 0.20 {
		t.Errorf("five_hour, seven_day = %v, %v; want the answer's 0.55 and the read's 0.20", s.FiveHour.Utilization, s.SevenDay.Utilization)
	}
	c.add(time.Minute)
	p.Quota(a, quota.Result{At: c.now(), Usage: usage(0.60, 0.20, reset)})
	if got := p.Snapshots()[0].FiveHour.Utilization; got != 0.60 {
		t.Errorf("five_hour after a newer read = %v, want 0.60", got)
	}
	// A failed read keeps what was read and says why.
	p.Quota(a, quota.Result{At: c.now(), Err: fmt.Errorf("the usage endpoint answered 429 Too Many Requests"), Next: c.now().Add(10 * time.Minute)})
	s = p.Snapshots()[0]
	if s.FiveHour.Utilization != 0.60 || s.Quota.Error == "" || s.Quota.CheckedAt == nil || !s.Quota.NextAt.Equal(c.now().Add(10*time.Minute)) {
		t.Errorf("after a failed read: five_hour %v, quota %+v; want the last reading kept, the error and the next read", s.FiveHour, s.Quota)
	}
}

// A reading that says a window is used up rests the account until it
// resets, without a request having to be refused first; one that is not
// newer than the headers, or whose reset is past, does not.
func TestQuotaUsedUpRestsAccount(t *testing.T) {
	p, bus, accts, c := clockedPool(t, "round-robin", "a", "b")
	f := follow(t, bus)
	reset := c.now().Add(2 * time.Hour)
	p.Quota(accts[0], quota.Result{At: c.now(), Usage: usage(0.30, 1.0, time.Time{})})
	if s := p.Snapshots()[0]; s.State == control.StateCooling {
		t.Fatalf("a weekly window at 100%% with no reset time rested the account: %+v", s)
	}
	c.add(time.Minute)
	p.Quota(accts[0], quota.Result{At: c.now(), Usage: usage(1.0, 0.5, reset)})
	s := p.Snapshots()[0]
	if s.State != control.StateCooling || s.CooldownUntil == nil || !s.CooldownUntil.Equal(reset) || s.Reason != "5-hour limit" {
		t.Fatalf("after a 100%% reading: %s until %v (%q); want cooling until %v for the 5-hour limit", s.State, s.CooldownUntil, s.Reason, reset)
	}
	if e := f.next(t); e.Type != event.CooldownStarted || e.Account != "a" {
		t.Errorf("event = %+v, want cooldown_started for a", e)
	}
	if got := pickNames(t, p, &Request{}, 3); fmt.Sprint(got) != "[b b b]" {
		t.Errorf("picks = %v, want only b while a rests", got)
	}
	// An older reading (the headers spoke since) does not rest b.
	c.add(time.Minute)
	p.Observe(accts[1], five(0.2), ratelimit.Verdict{}, "")
	p.Quota(accts[1], quota.Result{At: c.now().Add(-30 * time.Second), Usage: usage(1.0, 0.5, reset)})
	if s := p.Snapshots()[1]; s.State == control.StateCooling {
		t.Errorf("a reading older than the headers rested b: %+v", s)
	}
	f.none(t)
}

// The usage endpoint's readings steer headroom before any request was
// sent.
func TestHeadroomUsesReadings(t *testing.T) {
	p, _, accts, c := clockedPool(t, "headroom", "a", "b", "c")
	for i, u := range []float64{0.8, 0.1, 0.5} {
		p.Quota(accts[i], quota.Result{At: c.now(), Usage: usage(u, 0.05, c.now().Add(time.Hour))})
	}
	if got := pickNames(t, p, &Request{}, 2); fmt.Sprint(got) != "[b b]" {
		t.Errorf("picks = %v, want b (the most room)", got)
	}
}

func TestQuotaDetails(t *testing.T) {
	p, _, accts, c := clockedPool(t, "priority", "a", "b")
	reset := c.now().Add(100 * time.Hour)
	lim, used, frac := 5000.0, 1250.0, 0.25
	p.Quota(accts[0], quota.Result{At: c.now(),
		Usage:   &quota.Usage{Models: map[string]quota.Window{"opus": {Utilization: 0.9, ResetsAt: reset}}, Extra: &quota.Extra{Enabled: true, MonthlyLimit: &lim, UsedCredits: &used, Utilization: &frac}},
		Profile: &quota.Profile{Email: "a@example.test", Organization: "A org"}})
	p.Quota(accts[1], quota.Result{At: c.now(), Skipped: quota.NoScope})
	s := p.Snapshots()
	if w := s[0].SevenDayModels["opus"]; w.Utilization != 0.9 || w.ResetsAt == nil || !w.ResetsAt.Equal(reset) {
		t.Errorf("seven_day_models = %+v, want opus at 0.9", s[0].SevenDayModels)
	}
	if e := s[0].ExtraUsage; e == nil || !e.Enabled || *e.MonthlyLimit != 5000 || *e.UsedCredits != 1250 || *e.Utilization != 0.25 {
		t.Errorf("extra_usage = %+v", e)
	}
	if s[0].Email != "a@example.test" || s[0].Organization != "A org" {
		t.Errorf("email, organization = %q, %q", s[0].Email, s[0].Organization)
	}
	if q := s[1].Quota; q == nil || q.Skipped != quota.NoScope || q.CheckedAt != nil {
		t.Errorf("b's quota = %+v, want skipped", q)
	}
	renamed := accts[0].Renamed("work")
	p.SetAccounts([]*Account{renamed, accts[1]})
	if s := p.Snapshots()[0]; s.Email != "a@example.test" || s.SevenDayModels["opus"].Utilization != 0.9 || s.ExtraUsage == nil {
		t.Errorf("renamed snapshot = %+v, want the readings carried", s)
	}
}

type loginCred struct{ fakeCred }

func (loginCred) Info() credential.Info {
	return credential.Info{Subscription: "max", LoginExpiresAt: time.Date(2026, 5, 30, 9, 0, 0, 0, time.UTC)}
}

func TestLoginExpiresAt(t *testing.T) {
	a := New("a", "~/.claude", loginCred{}, nil)
	if s := a.Snapshot(time.Now()); s.LoginExpiresAt == nil || !s.LoginExpiresAt.Equal(time.Date(2026, 5, 30, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("login_expires_at = %v, want the credentials'", s.LoginExpiresAt)
	}
	if s := New("b", "~/.claude-b", fakeCred{}, nil).Snapshot(time.Now()); s.LoginExpiresAt != nil {
		t.Errorf("login_expires_at without one in the credentials = %v, want none guessed", s.LoginExpiresAt)
	}
}

func overage(on bool, reset time.Time) ratelimit.Info {
	in := five(0.3)
	in.Reset, in.OverageInUse = reset, on
	return in
}

// An answer billed to extra usage marks its account until an answer says
// otherwise or the window resets; one event per account per window.
func TestBillingExtra(t *testing.T) {
	p, bus, accts, c := clockedPool(t, "priority", "a", "b")
	events := follow(t, bus)
	a := accts[0]
	reset := c.now().Add(2 * time.Hour)
	start := c.now()
	p.Observe(a, overage(true, reset), ratelimit.Verdict{}, "")
	if e := events.next(t); e.Type != event.BillingExtra || e.Account != "a" || e.Until == nil || !e.Until.Equal(reset) {
		t.Errorf("event = %+v, want billing_extra for a until %v", e, reset)
	}
	s := p.Snapshots()[0]
	if !s.BillingExtra || s.BillingExtraSince == nil || !s.BillingExtraSince.Equal(start) {
		t.Errorf("snapshot billing_extra = %v since %v, want true since %v", s.BillingExtra, s.BillingExtraSince, start)
	}
	c.add(time.Minute)
	p.Observe(a, overage(true, reset), ratelimit.Verdict{}, "")
	events.none(t)
	p.Observe(a, overage(false, reset), ratelimit.Verdict{}, "") // an answer says otherwise
	if s := p.Snapshots()[0]; s.BillingExtra || s.BillingExtraSince != nil {
		t.Errorf("after an answer without overage: billing_extra = %v, want false", s.BillingExtra)
	}
	p.Observe(a, overage(true, reset), ratelimit.Verdict{}, "") // the same window again
	events.none(t)
	if !p.Snapshots()[0].BillingExtra {
		t.Error("billing_extra = false after another billed answer")
	}
	c.add(2 * time.Hour) // the window resets, with no answer
	if s := p.Snapshots()[0]; s.BillingExtra {
		t.Errorf("billing_extra after the window reset = %v, want false", s.BillingExtra)
	}
	next := c.now().Add(5 * time.Hour)
	p.Observe(a, overage(true, next), ratelimit.Verdict{}, "")
	if e := events.next(t); e.Type != event.BillingExtra || !e.Until.Equal(next) {
		t.Errorf("event in the next window = %+v, want billing_extra until %v", e, next)
	}
	// Headers that are not there are no answer about it.
	p.Observe(a, ratelimit.Info{}, ratelimit.Verdict{}, "")
	if !p.Snapshots()[0].BillingExtra {
		t.Error("an answer without rate-limit headers ended billing_extra")
	}
}

// With extra_usage = "avoid", an account billed to extra usage is picked
// only when no other can take the request.
func TestAvoidExtra(t *testing.T) {
	for _, avoid := range []bool{true, false} {
		t.Run(fmt.Sprintf("avoid=%v", avoid), func(t *testing.T) {
			p, _, accts, c := clockedPool(t, "round-robin", "a", "b")
			p.SetAvoidExtra(avoid)
			p.Observe(accts[0], overage(true, c.now().Add(time.Hour)), ratelimit.Verdict{}, "")
			want := "[a b a b]"
			if avoid {
				want = "[b b b b]"
			}
			if got := fmt.Sprint(pickNames(t, p, &Request{Session: "s1"}, 4)); got != want {
				t.Errorf("picks = %s, want %s", got, want)
			}
			// b at its limit: a is the only one left, billed or not.
			p.Observe(accts[1], ratelimit.Info{}, spent(c.now().Add(time.Hour)), "")
			if got := fmt.Sprint(pickNames(t, p, &Request{}, 2)); got != "[a a]" {
				t.Errorf("picks with b spent = %s, want [a a]", got)
			}
		})
	}
}

// A login through the daemon of an account that needed one is announced
// once, with its email, however the new credentials reach the pool.
func TestLoggedInAnnouncedOnce(t *testing.T) {
	p, bus, accts, _ := clockedPool(t, "priority", "a", "b") // b keeps the pool from running dry
	a := accts[0]
	p.Quota(a, quota.Result{At: time.Now(), Usage: usage(0.7, 0.3, time.Time{}), Profile: &quota.Profile{Email: "old@example.test"}})
	p.NeedsLogin(a, "refresh token rejected")
	events := follow(t, bus)
	p.ExpectLogin(a)
	p.SetCredential(a, fakeCred{"sk-ant-oat01-test-new"}) // the file watcher saw the new file first
	p.LoggedIn(a, nil, "new@example.test", "Example", "the account was old@example.test")
	e := events.next(t)
	if e.Type != event.LoginCompleted || e.Account != "a" || e.Email != "new@example.test" || e.Reason != "the account was old@example.test" {
		t.Errorf("event = %+v, want login_completed for a as new@example.test", e)
	}
	events.none(t)
	s := p.Snapshots()[0]
	if s.State != control.StateAvailable || s.Email != "new@example.test" || s.Organization != "Example" {
		t.Errorf("snapshot = %+v, want available as new@example.test", s)
	}
	if s.FiveHour.AsOf != nil {
		t.Errorf("five_hour = %+v, want the old login's reading forgotten", s.FiveHour)
	}
	// Without a login under way, coming back is announced as before.
	p.NeedsLogin(a, "again")
	events.next(t)
	p.SetCredential(a, fakeCred{"sk-ant-oat01-test-newer"})
	if e := events.next(t); e.Type != event.LoginCompleted || e.Email != "" {
		t.Errorf("event = %+v, want login_completed", e)
	}
}
