package quota

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

// results collects what a Poller records.
type results struct {
	mu  sync.Mutex
	got map[string][]Result
}

func (r *results) record(name string, res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string][]Result{}
	}
	r.got[name] = append(r.got[name], res)
}

func (r *results) of(name string) []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.got[name]...)
}

// token returns an Account.Token that always has tok.
func token(tok string) func() (string, bool) { return func() (string, bool) { return tok, true } }

// start runs a Poller reading accounts every interval from f, until the
// test ends; call it inside a synctest bubble.
func start(t *testing.T, f *anthropictest.Fake, hc *http.Client, interval time.Duration, accounts func() []Account) (*Poller, *results) {
	t.Helper()
	res := &results{}
	if hc == nil {
		hc = f.Client()
	}
	p := New(Options{
		HTTPClient: hc,
		Upstream:   func() string { return "http://api.fake.invalid" },
		Interval:   func() time.Duration { return interval },
		Accounts:   accounts,
		Record:     res.record,
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return p, res
}

func TestPollerReadsAtStartThenEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := anthropictest.NewHandler()
		reset := time.Now().Add(2*time.Hour + 10*time.Minute)
		f.SetUsage("tok-a", anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{Percent: 24, ResetsAt: reset}, SevenDay: &anthropictest.UsageWindow{Percent: 7}})
		f.SetUsage("tok-b", anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{}, SevenDay: &anthropictest.UsageWindow{}})
		f.SetIdentity("tok-b", anthropictest.Identity{Email: "b@example.test", OrganizationType: "claude_pro"})
		accounts := []Account{
			{Name: "a", Token: token("tok-a")},
			{Name: "b", Token: token("tok-b"), Profile: true},
			{Name: "setup", Token: token("tok-setup"), Skip: NoScope},
		}
		var mu sync.Mutex
		_, res := start(t, f, nil, 5*time.Minute, func() []Account {
			mu.Lock()
			defer mu.Unlock()
			return append([]Account(nil), accounts...)
		})
		synctest.Wait()
		if got := []int{f.UsageCalls("tok-a"), f.UsageCalls("tok-b"), f.UsageCalls("tok-setup")}; got[0] != 1 || got[1] != 1 || got[2] != 0 {
			t.Fatalf("usage calls at start (a, b, setup) = %v, want [1 1 0]", got)
		}
		a := res.of("a")
		if len(a) != 1 || a[0].Usage == nil || a[0].Usage.FiveHour == nil {
			t.Fatalf("a's results = %+v, want one usage read", a)
		}
		if got := a[0].Usage.FiveHour; got.Utilization != 0.24 || !got.ResetsAt.Equal(reset.UTC().Truncate(time.Microsecond)) {
			t.Errorf("a's 5-hour window = %+v, want 0.24 resetting at %v (a fraction, from 24%%)", got, reset)
		}
		if got, want := a[0].Next, a[0].At.Add(5*time.Minute); !got.Equal(want) {
			t.Errorf("a's next read = %v, want %v (one interval on)", got, want)
		}
		if b := res.of("b"); len(b) != 1 || b[0].Profile == nil || b[0].Profile.Email != "b@example.test" || b[0].Profile.Subscription() != "pro" {
			t.Errorf("b's results = %+v, want its profile (b@example.test, pro)", b)
		}
		if s := res.of("setup"); len(s) != 1 || s[0].Skipped != NoScope {
			t.Errorf("setup's results = %+v, want one saying it is skipped", s)
		}
		mu.Lock()
		accounts[1].Profile = false // the email is known now
		mu.Unlock()
		for i := 2; i <= 4; i++ {
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			if got := f.UsageCalls("tok-a"); got != i {
				t.Errorf("a's usage calls after %d intervals = %d, want %d", i-1, got, i)
			}
		}
		if got := f.ProfileCalls("tok-b"); got != 1 {
			t.Errorf("profile calls = %d, want 1 (only while the email is unknown)", got)
		}
		if got := len(res.of("setup")); got != 1 {
			t.Errorf("setup recorded %d times, want once", got)
		}
	})
}

// Failed reads wait twice as long each time, from twice the interval up to
// an hour; a success brings the interval back.
func TestPollerBacksOff(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := anthropictest.NewHandler()
				f.SetUsage("tok", anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{Percent: 1}})
				f.SetUsageStatus("tok", status)
				_, res := start(t, f, nil, 5*time.Minute, func() []Account { return []Account{{Name: "a", Token: token("tok")}} })
				t0 := time.Now()
				// Calls at 0, 10, 30, 70, 130, 190 minutes.
				for _, step := range []struct {
					at    time.Duration
					calls int
				}{{0, 1}, {9 * time.Minute, 1}, {10 * time.Minute, 2}, {29 * time.Minute, 2}, {30 * time.Minute, 3},
					{69 * time.Minute, 3}, {70 * time.Minute, 4}, {129 * time.Minute, 4}, {130 * time.Minute, 5}, {189 * time.Minute, 5}, {190 * time.Minute, 6}} {
					time.Sleep(time.Until(t0.Add(step.at)))
					synctest.Wait()
					if got := f.UsageCalls("tok"); got != step.calls {
						t.Fatalf("usage calls at %v = %d, want %d", step.at, got, step.calls)
					}
				}
				last := res.of("a")
				if r := last[len(last)-1]; r.Err == nil || r.Usage != nil || !r.Next.Equal(t0.Add(250*time.Minute)) {
					t.Errorf("last result = %+v, want a failure with the next read an hour on", r)
				}
				f.SetUsageStatus("tok", 0)
				time.Sleep(time.Until(t0.Add(250 * time.Minute)))
				synctest.Wait()
				time.Sleep(5 * time.Minute)
				synctest.Wait()
				if got := f.UsageCalls("tok"); got != 8 {
					t.Errorf("usage calls after the endpoint recovered = %d, want 8 (back to every 5 min)", got)
				}
				if r := res.of("a"); r[len(r)-1].Usage == nil {
					t.Errorf("last result = %+v, want a usage read", r[len(r)-1])
				}
			})
		})
	}
}

// gate holds every request until it is opened, counting how many wait.
type gate struct {
	next    http.RoundTripper
	open    chan struct{}
	mu      sync.Mutex
	waiting int
	most    int
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.waiting++
	g.most = max(g.most, g.waiting)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return g.next.RoundTrip(r)
}

func TestPollerOneReadPerAccountAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := anthropictest.NewHandler()
		f.SetUsage("tok", anthropictest.Usage{})
		g := &gate{next: f.Client().Transport, open: make(chan struct{})}
		p, _ := start(t, f, &http.Client{Transport: g}, time.Minute, func() []Account { return []Account{{Name: "a", Token: token("tok")}} })
		synctest.Wait()
		for range 5 {
			p.Kick()
			time.Sleep(2 * time.Second) // well past the interval: the read is still running
			synctest.Wait()
		}
		g.mu.Lock()
		most := g.most
		g.mu.Unlock()
		if most != 1 {
			t.Errorf("reads in flight at once = %d, want 1", most)
		}
		close(g.open)
		synctest.Wait()
		if got := f.UsageCalls("tok"); got != 1 {
			t.Errorf("usage calls = %d, want 1", got)
		}
	})
}

func TestPollerOffAndForbidden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := anthropictest.NewHandler()
		_, res := start(t, f, nil, 0, func() []Account { return []Account{{Name: "a", Token: token("tok")}} })
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := f.UsageCalls("tok"); got != 0 || len(res.of("a")) != 0 {
			t.Errorf("usage calls with quota_poll 0 = %d, want none", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		f := anthropictest.NewHandler()
		f.SetUsageStatus("tok", http.StatusForbidden)
		_, res := start(t, f, nil, 5*time.Minute, func() []Account { return []Account{{Name: "a", Token: token("tok")}} })
		synctest.Wait()
		if r := res.of("a"); len(r) != 1 || r[0].Skipped != NoScope || r[0].Err != nil {
			t.Fatalf("results = %+v, want one saying the token cannot read its usage", r)
		}
		time.Sleep(59 * time.Minute)
		synctest.Wait()
		if got := f.UsageCalls("tok"); got != 1 {
			t.Errorf("usage calls within the hour after a 403 = %d, want 1", got)
		}
	})
}

// An account without a usable token (it is being refreshed) is tried again
// a minute later, not an interval later.
func TestPollerWaitsForAToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := anthropictest.NewHandler()
		f.SetUsage("tok", anthropictest.Usage{})
		var mu sync.Mutex
		ready := false
		tokenFn := func() (string, bool) {
			mu.Lock()
			defer mu.Unlock()
			return "tok", ready
		}
		start(t, f, nil, 5*time.Minute, func() []Account { return []Account{{Name: "a", Token: tokenFn}} })
		synctest.Wait()
		mu.Lock()
		ready = true
		mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := f.UsageCalls("tok"); got != 1 {
			t.Errorf("usage calls a minute after the token came = %d, want 1", got)
		}
	})
}
