package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

type fakeCred struct{ tok string }

func (f fakeCred) Token(context.Context) (credential.Token, error) {
	return credential.Token{Access: f.tok}, nil
}
func (f fakeCred) Peek() (credential.Token, bool, bool) {
	return credential.Token{Access: f.tok}, false, true
}
func (f fakeCred) Refresh(context.Context, string) (credential.Token, error) {
	return credential.Token{Access: f.tok}, nil
}
func (f fakeCred) Info() credential.Info { return credential.Info{Subscription: "max"} }

func newPool(t *testing.T, strategy string, names ...string) (*Pool, *event.Bus, []*Account) {
	t.Helper()
	bus := new(event.Bus)
	p, err := NewPool(Options{Strategy: strategy, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var accts []*Account
	for _, n := range names {
		accts = append(accts, New(n, "~/.claude-"+n, fakeCred{"sk-ant-oat01-test-" + n}, nil))
	}
	p.SetAccounts(accts)
	return p, bus, accts
}

// follower reads the events published on a bus, in order.
type follower struct {
	sub *event.Sub
	buf []event.Event
}

// follow returns a follower of the events published on bus from now on.
func follow(t *testing.T, bus *event.Bus) *follower {
	t.Helper()
	f := &follower{sub: bus.Subscribe("")}
	t.Cleanup(f.sub.Close)
	return f
}

// next returns the next event, waiting for it.
func (f *follower) next(t *testing.T) event.Event {
	t.Helper()
	for len(f.buf) == 0 {
		<-f.sub.Ready()
		es, _ := f.sub.Next()
		f.buf = es
	}
	e := f.buf[0]
	f.buf = f.buf[1:]
	return e
}

// none fails t when an event is pending.
func (f *follower) none(t *testing.T) {
	t.Helper()
	es, _ := f.sub.Next()
	for _, e := range append(f.buf, es...) {
		t.Errorf("unexpected event %+v", e)
	}
	f.buf = nil
}

func pickNames(t *testing.T, p *Pool, r *Request, n int) []string {
	t.Helper()
	var got []string
	for range n {
		a, err := p.Pick(r)
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		got = append(got, a.Name)
	}
	return got
}

func spent(until time.Time) ratelimit.Verdict {
	return ratelimit.Verdict{Kind: ratelimit.Spent, Until: until, Window: ratelimit.FiveHour, Reason: "5-hour limit"}
}

func TestStrategies(t *testing.T) {
	tests := []struct {
		strategy string
		setup    func(accts []*Account)
		want     []string
	}{
		{"round-robin", nil, []string{"a", "b", "c", "a", "b", "c"}},
		{"priority", nil, []string{"a", "a", "a"}},
		{"priority", func(ac []*Account) { ac[0].SetEnabled(false) }, []string{"b", "b"}},
		{"least-used", func(ac []*Account) { ac[0].requests.Store(5); ac[1].requests.Store(2); ac[2].requests.Store(9) }, []string{"b"}},
		{"least-used", func(ac []*Account) { ac[1].inflight.Store(3) }, []string{"a"}},
		{"headroom", func(ac []*Account) {
			ac[0].observe(ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: 0.9, HasUtilization: true}}, time.Now())
			ac[1].observe(ratelimit.Info{Present: true, SevenDay: ratelimit.Window{Utilization: 0.3, HasUtilization: true}}, time.Now())
			ac[2].observe(ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: 0.5, HasUtilization: true}}, time.Now())
		}, []string{"b"}},
		{"headroom", func(ac []*Account) {
			// a's heavy window has reset: it counts as empty again.
			ac[0].observe(ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: 0.99, HasUtilization: true, Reset: time.Now().Add(-time.Minute)}}, time.Now())
			ac[1].observe(ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: 0.2, HasUtilization: true}}, time.Now())
			ac[2].observe(ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: 0.2, HasUtilization: true}}, time.Now())
		}, []string{"a"}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, tt.strategy), func(t *testing.T) {
			p, _, accts := newPool(t, tt.strategy, "a", "b", "c")
			if tt.setup != nil {
				tt.setup(accts)
			}
			got := pickNames(t, p, &Request{}, len(tt.want))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("picks = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnknownStrategy(t *testing.T) {
	_, err := NewPool(Options{Strategy: "fastest"})
	if err == nil || !strings.Contains(err.Error(), `"fastest"`) || !strings.Contains(err.Error(), "headroom") {
		t.Errorf("NewPool(fastest) error = %v, want one naming the strategy and the valid ones", err)
	}
}

func TestTriedAccountsAreSkipped(t *testing.T) {
	p, _, accts := newPool(t, "priority", "a", "b")
	a, err := p.Pick(&Request{Tried: []*Account{accts[0]}})
	if err != nil || a.Name != "b" {
		t.Fatalf("Pick with a tried = %v, %v; want b", a, err)
	}
	_, err = p.Pick(&Request{Tried: accts})
	var ex *ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("Pick with all tried: err = %v, want *ExhaustedError", err)
	}
}

func TestSessionAffinity(t *testing.T) {
	p, _, accts := newPool(t, "round-robin", "a", "b", "c")
	p.SetAffinity(true)
	first := pickNames(t, p, &Request{Session: "s1"}, 1)[0]
	for _, got := range pickNames(t, p, &Request{Session: "s1"}, 4) {
		if got != first {
			t.Fatalf("session s1 moved from %s to %s while available", first, got)
		}
	}
	// The sticky account goes into cooldown: the session moves on.
	sticky := p.Lookup(first)
	p.Observe(sticky, ratelimit.Info{}, spent(time.Now().Add(time.Hour)), "")
	moved := pickNames(t, p, &Request{Session: "s1"}, 1)[0]
	if moved == first {
		t.Fatalf("session stayed on cooling account %s", first)
	}
	if again := pickNames(t, p, &Request{Session: "s1"}, 1)[0]; again != moved {
		t.Errorf("session moved again: %s then %s", moved, again)
	}
	_ = accts
}

func TestCooldownLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, accts := newPool(t, "priority", "work", "personal")
		events := follow(t, bus)
		start := time.Now()
		p.Observe(accts[0], ratelimit.Info{}, spent(start.Add(90*time.Minute)), "")
		if got := pickNames(t, p, &Request{}, 1)[0]; got != "personal" {
			t.Fatalf("pick while work cools = %s, want personal", got)
		}
		e := events.next(t)
		if e.Type != event.CooldownStarted || e.Account != "work" || !e.Until.Equal(start.Add(90*time.Minute)) || e.Window != ratelimit.FiveHour {
			t.Errorf("event = %+v, want cooldown_started for work until +90m", e)
		}
		snap := p.Snapshots()[0]
		if snap.State != control.StateCooling || snap.CooldownUntil == nil || snap.Reason != "5-hour limit" {
			t.Errorf("snapshot = %+v, want cooling with reason", snap)
		}
		// Same verdict again: no second event.
		p.Observe(accts[0], ratelimit.Info{}, spent(start.Add(90*time.Minute)), "")
		// The timer ends it with no request arriving.
		time.Sleep(90*time.Minute + time.Millisecond)
		synctest.Wait()
		e = events.next(t)
		if e.Type != event.CooldownEnded || e.Account != "work" {
			t.Errorf("event = %+v, want cooldown_ended for work", e)
		}
		if d := e.At.Sub(start.Add(90 * time.Minute)); d < 0 || d > time.Second {
			t.Errorf("cooldown_ended %v after the end, want within a second", d)
		}
		if got := pickNames(t, p, &Request{}, 1)[0]; got != "work" {
			t.Errorf("pick after cooldown = %s, want work", got)
		}
		events.none(t)
	})
}

func TestShortPausesAreQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, accts := newPool(t, "priority", "a", "b")
		events := follow(t, bus)
		now := time.Now()
		p.Observe(accts[0], ratelimit.Info{}, ratelimit.Verdict{Kind: ratelimit.Throttled, Until: now.Add(5 * time.Second), Reason: "rate limited"}, "")
		p.Observe(accts[1], ratelimit.Info{}, ratelimit.Verdict{Kind: ratelimit.Overloaded, Until: now.Add(10 * time.Second), Reason: "overloaded"}, "")
		_, err := p.Pick(&Request{})
		var ex *ExhaustedError
		if !errors.As(err, &ex) || ex.Account != "a" || !ex.Until.Equal(now.Add(5*time.Second)) {
			t.Fatalf("Pick = %v, want exhausted with a back in 5s", err)
		}
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if got := pickNames(t, p, &Request{}, 1)[0]; got != "a" {
			t.Errorf("pick after pause = %s, want a", got)
		}
		events.none(t)
	})
}

func TestAllExhaustedAndRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, accts := newPool(t, "round-robin", "a", "b")
		events := follow(t, bus)
		now := time.Now()
		p.Observe(accts[0], ratelimit.Info{}, spent(now.Add(2*time.Hour)), "")
		p.Observe(accts[1], ratelimit.Info{}, spent(now.Add(time.Hour)), "")
		var got []event.Type
		for range 3 {
			got = append(got, events.next(t).Type)
		}
		want := []event.Type{event.CooldownStarted, event.CooldownStarted, event.AllExhausted}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		_, err := p.Pick(&Request{})
		var ex *ExhaustedError
		if !errors.As(err, &ex) || ex.Account != "b" || !ex.Until.Equal(now.Add(time.Hour)) {
			t.Fatalf("Pick = %v, want exhausted, b back first in 1h", err)
		}
		time.Sleep(time.Hour + time.Millisecond)
		synctest.Wait()
		got = nil
		for range 2 {
			got = append(got, events.next(t).Type)
		}
		want = []event.Type{event.CooldownEnded, event.Recovered}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events = %v, want %v", got, want)
		}
	})
}

func TestModelScopedCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, accts := newPool(t, "priority", "a", "b")
		events := follow(t, bus)
		now := time.Now()
		v := ratelimit.Verdict{Kind: ratelimit.ModelSpent, Until: now.Add(24 * time.Hour), Window: ratelimit.SevenDayOI, Reason: "weekly limit for this model"}
		p.Observe(accts[0], ratelimit.Info{}, v, "opus")
		if got := pickNames(t, p, &Request{Family: "opus"}, 1)[0]; got != "b" {
			t.Errorf("opus pick = %s, want b", got)
		}
		if got := pickNames(t, p, &Request{Family: "sonnet"}, 1)[0]; got != "a" {
			t.Errorf("sonnet pick = %s, want a (only opus is blocked)", got)
		}
		e := events.next(t)
		if e.Type != event.CooldownStarted || e.Model != "opus" {
			t.Errorf("event = %+v, want model-scoped cooldown_started", e)
		}
		if s := p.Snapshots()[0]; s.State != control.StateAvailable || s.ModelCooldowns["opus"].IsZero() {
			t.Errorf("snapshot = %+v, want available with an opus cooldown", s)
		}
		time.Sleep(24*time.Hour + time.Millisecond)
		synctest.Wait()
		if e := events.next(t); e.Type != event.CooldownEnded || e.Model != "opus" {
			t.Errorf("event = %+v, want cooldown_ended for opus", e)
		}
		if got := pickNames(t, p, &Request{Family: "opus"}, 1)[0]; got != "a" {
			t.Errorf("opus pick after reset = %s, want a", got)
		}
	})
}

func TestNeedsLoginAndBack(t *testing.T) {
	p, bus, accts := newPool(t, "priority", "a", "b")
	events := follow(t, bus)
	p.NeedsLogin(accts[0], "refresh token rejected")
	p.NeedsLogin(accts[0], "refresh token rejected") // once only
	if got := pickNames(t, p, &Request{}, 1)[0]; got != "b" {
		t.Errorf("pick = %s, want b", got)
	}
	if e := events.next(t); e.Type != event.NeedsLogin || e.Account != "a" {
		t.Errorf("event = %+v, want needs_login for a", e)
	}
	if s := p.Snapshots()[0]; s.State != control.StateNeedsLogin || s.Reason != "refresh token rejected" {
		t.Errorf("snapshot = %+v", s)
	}
	p.SetCredential(accts[0], fakeCred{"sk-ant-oat01-test-new"})
	if got := pickNames(t, p, &Request{}, 1)[0]; got != "a" {
		t.Errorf("pick after new login = %s, want a", got)
	}
	if e := events.next(t); e.Type != event.LoginCompleted || e.Account != "a" {
		t.Errorf("event = %+v, want login_completed for a", e)
	}
	p.SetCredential(accts[0], fakeCred{"sk-ant-oat01-test-newer"}) // nothing to confirm
	events.none(t)
}

func TestReset(t *testing.T) {
	p, bus, accts := newPool(t, "priority", "a")
	events := follow(t, bus)
	p.Observe(accts[0], ratelimit.Info{}, spent(time.Now().Add(time.Hour)), "")
	if err := p.Reset("a"); err != nil {
		t.Fatal(err)
	}
	if err := p.Reset("nobody"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Reset(nobody) = %v, want ErrUnknown", err)
	}
	var got []event.Type
	for range 4 {
		got = append(got, events.next(t).Type)
	}
	want := []event.Type{event.CooldownStarted, event.AllExhausted, event.CooldownEnded, event.Recovered}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if _, err := p.Pick(&Request{}); err != nil {
		t.Errorf("Pick after reset: %v", err)
	}
}

func TestConcurrentPickObserve(t *testing.T) {
	p, _, accts := newPool(t, "headroom", "a", "b", "c", "d")
	p.SetAffinity(true)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				a, err := p.Pick(&Request{Session: fmt.Sprint(i % 7)})
				if err != nil {
					continue
				}
				done := a.Begin()
				in := ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: float64(i%10) / 10, HasUtilization: true}}
				v := ratelimit.Verdict{}
				if i%50 == g {
					v = ratelimit.Verdict{Kind: ratelimit.Throttled, Until: time.Now().Add(time.Millisecond)}
				}
				p.Observe(a, in, v, "")
				done()
				if i%100 == 0 {
					p.Snapshots()
					p.SetAccounts(accts)
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for _, a := range accts {
		total += a.Requests()
		if a.inflight.Load() != 0 {
			t.Errorf("%s inflight = %d, want 0", a.Name, a.inflight.Load())
		}
	}
	if total == 0 {
		t.Error("no requests counted")
	}
}

func BenchmarkPick(b *testing.B) {
	for _, strategy := range []string{"round-robin", "headroom"} {
		b.Run(strategy, func(b *testing.B) {
			p, _ := NewPool(Options{Strategy: strategy})
			var accts []*Account
			for i := range 5 {
				accts = append(accts, New(fmt.Sprint(i), "", fakeCred{}, nil))
			}
			p.SetAccounts(accts)
			r := &Request{}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p.Pick(r)
				}
			})
		})
	}
}

// flakyCred fails Token with err until err is nil; it counts the calls.
type flakyCred struct {
	mu    sync.Mutex
	err   error
	calls int
}

func (f *flakyCred) set(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *flakyCred) Token(context.Context) (credential.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return credential.Token{Access: "sk-ant-oat01-test-flaky"}, f.err
}
func (f *flakyCred) Peek() (credential.Token, bool, bool) {
	return credential.Token{Access: "sk-ant-oat01-test-flaky"}, false, true
}
func (f *flakyCred) Refresh(ctx context.Context, _ string) (credential.Token, error) {
	return f.Token(ctx)
}
func (f *flakyCred) Info() credential.Info { return credential.Info{} }

func (f *flakyCred) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestFailingAccountBacksOffAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, accts := newPool(t, "priority", "a", "b")
		events := follow(t, bus)
		cred := &flakyCred{err: errors.New("can't reach the token endpoint: dial tcp: lookup platform.invalid: no such host")}
		p.SetCredential(accts[0], cred)
		start := time.Now()

		p.Failed(accts[0], cred.err)
		p.Failed(accts[0], cred.err) // the same failure again: no second event, no longer wait
		e := events.next(t)
		if e.Type != event.Error || e.Account != "a" || e.Until == nil || !e.Until.Equal(start.Add(30*time.Second)) {
			t.Fatalf("event = %+v, want error for a, retried in 30s", e)
		}
		s := p.Snapshots()[0]
		if s.State != control.StateError || !strings.Contains(s.Reason, "no such host") || s.RetryAt == nil {
			t.Errorf("snapshot = %+v, want error with the reason and a retry time", s)
		}
		if got := pickNames(t, p, &Request{}, 1)[0]; got != "b" {
			t.Errorf("pick = %s, want b while a fails", got)
		}

		// Retries at 30s, then 60s, 120s, 240s, 300s, 300s: each fails.
		waits := []time.Duration{30, 60, 120, 240, 300, 300}
		at := start
		for i, w := range waits {
			at = at.Add(w * time.Second)
			time.Sleep(time.Until(at) - time.Millisecond)
			synctest.Wait()
			if got := cred.count(); got != i {
				t.Fatalf("before retry %d: %d attempts, want %d", i+1, got, i)
			}
			time.Sleep(time.Millisecond)
			synctest.Wait()
			if got := cred.count(); got != i+1 {
				t.Fatalf("retry %d, %v after the first failure: %d attempts, want %d", i+1, at.Sub(start), got, i+1)
			}
		}
		events.none(t) // still failing: nothing new to say

		// The next retry works: back in rotation, said once.
		cred.set(nil)
		time.Sleep(300 * time.Second)
		synctest.Wait()
		if e := events.next(t); e.Type != event.ErrorCleared || e.Account != "a" {
			t.Errorf("event = %+v, want error_cleared for a", e)
		}
		if s := p.Snapshots()[0]; s.State != control.StateAvailable || s.RetryAt != nil || s.LastError != "" {
			t.Errorf("snapshot after recovery = %+v, want available and clean", s)
		}
		if got := pickNames(t, p, &Request{}, 1)[0]; got != "a" {
			t.Errorf("pick after recovery = %s, want a", got)
		}
	})
}

func TestFailingAccountsExhaustThePool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, bus, accts := newPool(t, "priority", "a")
		events := follow(t, bus)
		cred := &flakyCred{err: errors.New("token endpoint answered 503 Service Unavailable")}
		p.SetCredential(accts[0], cred)
		p.Failed(accts[0], cred.err)
		got := []event.Type{events.next(t).Type, events.next(t).Type}
		if want := []event.Type{event.Error, event.AllExhausted}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events = %v, want %v", got, want)
		}
		_, err := p.Pick(&Request{})
		var ex *ExhaustedError
		if !errors.As(err, &ex) || !ex.Until.IsZero() || strings.Contains(err.Error(), "at its limit") {
			t.Errorf("Pick = %v, want exhausted with no account coming back by itself (never \"at its limit\")", err)
		}
		// Check again (Reset) tries it at once.
		cred.set(nil)
		if err := p.Reset("a"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		got = []event.Type{events.next(t).Type, events.next(t).Type}
		if want := []event.Type{event.ErrorCleared, event.Recovered}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events after Check again = %v, want %v", got, want)
		}
	})
}

func TestNeedsLoginErrorFromRefresh(t *testing.T) {
	p, bus, accts := newPool(t, "priority", "a", "b")
	events := follow(t, bus)
	p.Failed(accts[0], fmt.Errorf("refreshing token for x: %w: refresh token rejected (invalid_grant)", credential.ErrNeedsLogin))
	if e := events.next(t); e.Type != event.NeedsLogin {
		t.Errorf("event = %+v, want needs_login (an invalid_grant is no transient error)", e)
	}
}

func TestRenamedCarriesState(t *testing.T) {
	p, _, accts := newPool(t, "priority", "a", "b")
	until := time.Now().Add(time.Hour)
	p.Observe(accts[0], ratelimit.Info{Present: true, FiveHour: ratelimit.Window{Utilization: 0.5, HasUtilization: true}}, spent(until), "")
	done := accts[0].Begin()
	done()
	renamed := accts[0].Renamed("work")
	p.SetAccounts([]*Account{renamed, accts[1]})
	s := p.Snapshots()[0]
	if s.Name != "work" || s.State != control.StateCooling || !s.CooldownUntil.Equal(until) || s.Requests != 1 || s.FiveHour.Utilization != 0.5 {
		t.Errorf("renamed snapshot = %+v, want work cooling until %v with 1 request and 50%% used", s, until)
	}
}

func TestExhaustedErrorWords(t *testing.T) {
	at := time.Date(2026, 3, 4, 13, 23, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		e    ExhaustedError
		want string
	}{
		{ExhaustedError{Accounts: 0, At: at}, "no accounts configured"},
		{ExhaustedError{Accounts: 2, At: at}, "no account can take requests (all need a login, are disabled or failing)"},
		{ExhaustedError{Accounts: 2, At: at, Until: at, Account: "a"}, "every available account was tried for this request and none could answer it"},
		{ExhaustedError{Accounts: 2, At: at, Until: at.Add(42 * time.Minute), Account: "work", Cooling: true}, "every account is at its limit; work is back at 14:05 (in 42 min)"},
		{ExhaustedError{Accounts: 2, At: at, Until: at.Add(8 * time.Second), Account: "work"}, "every account is paused for a moment (throttled or overloaded); work is tried again in under a minute"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// hangingCred has an expired token whose refresh hangs until released.
type hangingCred struct{ release chan struct{} }

func (h hangingCred) Peek() (credential.Token, bool, bool) {
	return credential.Token{Access: "sk-ant-oat01-test-old"}, true, false
}
func (h hangingCred) Token(ctx context.Context) (credential.Token, error) {
	select {
	case <-h.release:
		return credential.Token{Access: "sk-ant-oat01-test-new"}, nil
	case <-ctx.Done():
		return credential.Token{}, ctx.Err()
	}
}
func (h hangingCred) Refresh(ctx context.Context, _ string) (credential.Token, error) {
	return h.Token(ctx)
}
func (h hangingCred) Info() credential.Info { return credential.Info{} }

// An expired token whose refresh hangs shows as waiting for the token
// endpoint after a few seconds, not as available.
func TestHangingRenewalShows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _, accts := newPool(t, "priority", "a")
		cred := hangingCred{release: make(chan struct{})}
		p.SetCredential(accts[0], cred)
		p.Renew(accts[0], "")
		time.Sleep(3 * time.Second)
		if s := p.Snapshots()[0]; s.State != control.StateAvailable {
			t.Errorf("3 s into the refresh: %+v, want still available (a refresh takes a moment)", s)
		}
		time.Sleep(9 * time.Second)
		s := p.Snapshots()[0]
		if s.State != control.StateError || !strings.Contains(s.Reason, "waiting for the token endpoint: no answer for 12 s") {
			t.Errorf("12 s into the refresh: %+v, want error waiting for the token endpoint", s)
		}
		close(cred.release)
		synctest.Wait()
		if s := p.Snapshots()[0]; s.State != control.StateAvailable {
			t.Errorf("after the refresh: %+v, want available", s)
		}
	})
}
