package token

import (
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// issueLimited issues a token with limits and finds it as the proxy does.
func issueLimited(t *testing.T, s *Store, label string, l control.Limits) (string, Client) {
	t.Helper()
	secret, _, err := s.IssueWithLimits(label, 0, l)
	if err != nil {
		t.Fatalf("IssueWithLimits(%q, %+v): %v", label, l, err)
	}
	c, err := s.Find(secret)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	return secret, c
}

// spent returns the SpentError of err, failing t when it is none.
func spent(t *testing.T, err error) *SpentError {
	t.Helper()
	var se *SpentError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SpentError", err)
	}
	return se
}

// windowOf is token id's current window in s's list (nil for none).
func windowOf(t *testing.T, s *Store, id string) *control.TokenWindow {
	t.Helper()
	for _, info := range s.List() {
		if info.ID == id {
			return info.Window
		}
	}
	t.Fatalf("no token %s", id)
	return nil
}

func TestBudgetRequestsPerWindow(t *testing.T) {
	s, c, _ := openTemp(t)
	_, cl := issueLimited(t, s, "ci", control.Limits{MaxRequests: 3, Per: control.Period(time.Hour)})
	start := c.now()
	for i := range 3 {
		g, err := cl.Take(c.now())
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if g.Reached != (i == 2) {
			t.Errorf("request %d: Reached = %v, want it on the third (the last the budget allows)", i+1, g.Reached)
		}
		c.advance(time.Minute)
	}
	c.advance(50 * time.Minute) // 53 min into the window
	_, err := cl.Take(c.now())
	se := spent(t, err)
	if se.What != "requests" || se.Limit != 3 || se.Label != "ci" || !se.Until.Equal(start.Add(time.Hour)) || se.Reached {
		t.Errorf("refusal = %+v, want 3 requests of ci until %v, not announced again", se, start.Add(time.Hour))
	}
	if w := windowOf(t, s, cl.ID()); w == nil || w.Requests != 3 || !w.Start.Equal(start) || !w.ResetsAt.Equal(start.Add(time.Hour)) {
		t.Errorf("window = %+v, want 3 requests from %v", w, start)
	}

	// The window ends an hour after its first request: the next request
	// opens a new one, starting then.
	c.ns.Store(start.Add(time.Hour).UnixNano())
	if w := windowOf(t, s, cl.ID()); w != nil {
		t.Errorf("window at its end = %+v, want none open", w)
	}
	c.advance(7 * time.Minute)
	g, err := cl.Take(c.now())
	if err != nil {
		t.Fatalf("first request of the next window: %v", err)
	}
	if !g.Until().Equal(c.now().Add(time.Hour)) {
		t.Errorf("next window ends %v, want an hour after its first request (%v)", g.Until(), c.now().Add(time.Hour))
	}
	if w := windowOf(t, s, cl.ID()); w == nil || w.Requests != 1 {
		t.Errorf("next window = %+v, want 1 request", w)
	}
}

func TestBudgetTokens(t *testing.T) {
	s, c, _ := openTemp(t)
	_, cl := issueLimited(t, s, "agent", control.Limits{MaxTokens: 100, MaxCacheReads: 1000, Per: control.Period(5 * time.Hour)})
	g1, err := cl.Take(c.now())
	if err != nil {
		t.Fatal(err)
	}
	g2, err := cl.Take(c.now()) // in flight with g1
	if err != nil {
		t.Fatal(err)
	}
	if g1.Charge(60, 900) {
		t.Error("60 of 100 tokens and 900 of 1000 cache reads: reported spent")
	}
	if !g2.Charge(60, 0) {
		t.Error("120 of 100 tokens: not reported spent")
	}
	if g1.Charge(1, 0) {
		t.Error("spent reported twice in one window")
	}
	_, err = cl.Take(c.now())
	if se := spent(t, err); se.What != "tokens" || se.Limit != 100 {
		t.Errorf("refusal = %+v, want tokens", se)
	}
	// The budget overshoots by what was in flight, and says so.
	if w := windowOf(t, s, cl.ID()); w == nil || w.Tokens != 121 || w.CacheReadTokens != 900 || w.Requests != 2 {
		t.Errorf("window = %+v, want 121 tokens, 900 cache reads, 2 requests", w)
	}

	// Cache reads have their own limit.
	_, cr := issueLimited(t, s, "reader", control.Limits{MaxCacheReads: 1000})
	g, _ := cr.Take(c.now())
	if !g.Charge(5, 1000) {
		t.Error("1000 of 1000 cache reads: not reported spent")
	}
	_, err = cr.Take(c.now())
	if se := spent(t, err); se.What != "cache-read tokens" || se.Per != control.DefaultPer {
		t.Errorf("refusal = %+v, want cache-read tokens per the default 5h", se)
	}
}

func TestBudgetWithoutLimitsCountsNothing(t *testing.T) {
	s, c, _ := openTemp(t)
	secret, _ := issue(t, s, "free", 0)
	cl, err := s.Find(secret)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		g, err := cl.Take(c.now())
		if err != nil {
			t.Fatal(err)
		}
		if g.Metered() || g.Charge(1e9, 1e9) || g.Client().ID() != cl.ID() {
			t.Fatalf("grant of a token without limits = %+v, want unmetered", g)
		}
	}
	if w := windowOf(t, s, cl.ID()); w != nil {
		t.Errorf("window = %+v, want none", w)
	}
	if _, err := (Client{}).Take(c.now()); err != nil {
		t.Errorf("zero Client Take = %v", err)
	}
}

// TestBudgetConcurrent: 200 requests at once share one token's window,
// lose no count, and admit exactly the requests the budget allows.
func TestBudgetConcurrent(t *testing.T) {
	s, c, _ := openTemp(t)
	_, counted := issueLimited(t, s, "counted", control.Limits{MaxTokens: 1 << 40})
	_, capped := issueLimited(t, s, "capped", control.Limits{MaxRequests: 150})
	const n = 200
	var (
		wg                 sync.WaitGroup
		start              = make(chan struct{})
		admitted, refused  atomic.Int64
		reached, chReached atomic.Int64
	)
	for range n {
		wg.Go(func() {
			<-start
			g, err := counted.Take(c.now())
			if err != nil {
				t.Error(err)
				return
			}
			if g.Charge(7, 3) {
				chReached.Add(1)
			}
			g, err = capped.Take(c.now())
			switch {
			case err == nil:
				admitted.Add(1)
				if g.Reached {
					reached.Add(1)
				}
			case errors.As(err, new(*SpentError)):
				refused.Add(1)
				// A refusal racing the last admission may be the one
				// to tell: once in all is what counts.
				if err.(*SpentError).Reached {
					reached.Add(1)
				}
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if w := windowOf(t, s, counted.ID()); w == nil || w.Requests != n || w.Tokens != 7*n || w.CacheReadTokens != 3*n {
		t.Errorf("counted window = %+v, want %d requests, %d tokens, %d cache reads", w, n, 7*n, 3*n)
	}
	if admitted.Load() != 150 || refused.Load() != 50 || reached.Load() != 1 || chReached.Load() != 0 {
		t.Errorf("capped: admitted %d, refused %d, reached told %d times; want 150, 50, once (and the uncapped never)", admitted.Load(), refused.Load(), reached.Load()+chReached.Load())
	}
	if w := windowOf(t, s, capped.ID()); w == nil || w.Requests != 150 {
		t.Errorf("capped window = %+v, want 150 requests", w)
	}
}

// TestBudgetSurvivesRestart: Flush saves the window with the tokens, and
// a store opened on the file goes on counting in it, announcing nothing
// twice.
func TestBudgetSurvivesRestart(t *testing.T) {
	s, c, path := openTemp(t)
	secret, cl := issueLimited(t, s, "ci", control.Limits{MaxRequests: 2, MaxTokens: 1000, Per: control.Period(24 * time.Hour)})
	start := c.now()
	g, _ := cl.Take(c.now())
	g.Charge(300, 40)
	g, _ = cl.Take(c.now())
	if !g.Reached {
		t.Fatal("the second of 2 requests did not spend the budget")
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{`"limits": {`, `"max_requests": 2`, `"per": "1d"`, `"window": {`, `"requests": 2`, `"tokens": 300`, `"cache_read_tokens": 40`, `"reached": true`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("file lacks %s:\n%s", want, data)
		}
	}

	c.advance(time.Hour)
	again, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	w := windowOf(t, again, cl.ID())
	if w == nil || w.Requests != 2 || w.Tokens != 300 || w.CacheReadTokens != 40 || !w.Start.Equal(start) {
		t.Fatalf("after reopening, window = %+v, want 2 requests, 300 tokens, 40 cache reads from %v", w, start)
	}
	cl2, err := again.Find(secret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl2.Take(c.now())
	if se := spent(t, err); se.Reached || !se.Until.Equal(start.Add(24*time.Hour)) {
		t.Errorf("after reopening, refusal = %+v, want one until %v, not announced again", se, start.Add(24*time.Hour))
	}
	if err := again.Flush(); err != nil { // the last use changed
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if _, err := cl2.Take(c.now()); err == nil {
		t.Fatal("a second refusal admitted")
	}
	if err := again.Flush(); err != nil { // a refusal counts nothing
		t.Fatal(err)
	}
	assertContent(t, path, string(data))
}

// TestBudgetKeptAcrossReload: the daemon counts; a reload of the file
// (another process issued a token) keeps what it counted since its last
// save.
func TestBudgetKeptAcrossReload(t *testing.T) {
	s, c, path := openTemp(t)
	_, cl := issueLimited(t, s, "ci", control.Limits{MaxRequests: 100})
	for range 5 {
		cl.Take(c.now())
	}
	other, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	issue(t, other, "laptop", 0)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	cl.Take(c.now()) // a request admitted with the old snapshot's entry
	if w := windowOf(t, s, cl.ID()); w == nil || w.Requests != 6 || len(s.List()) != 2 {
		t.Errorf("after reload, window = %+v (of %d tokens), want 6 requests of 2 tokens", w, len(s.List()))
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	third, _ := Open(path, c.now)
	if w := windowOf(t, third, cl.ID()); w == nil || w.Requests != 6 {
		t.Errorf("saved window = %+v, want 6 requests", w)
	}
}

func TestUpdate(t *testing.T) {
	s, c, path := openTemp(t)
	secret, cl := issueLimited(t, s, "ci", control.Limits{MaxRequests: 3, Per: control.Period(time.Hour)})
	for range 3 {
		cl.Take(c.now())
	}
	n := func(v int64) *int64 { return &v }
	p := func(v control.Period) *control.Period { return &v }

	// Raise the limit: the window keeps its count, and admits again.
	info, err := s.Update(cl.ID(), control.TokenUpdate{MaxRequests: n(5), Per: p(control.Period(2 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if info.MaxRequests != 5 || info.Per != control.Period(2*time.Hour) || info.Window == nil || info.Window.Requests != 3 || !info.Window.ResetsAt.Equal(info.Window.Start.Add(2*time.Hour)) {
		t.Errorf("Update = %+v (window %+v), want 5 per 2h with the 3 requests kept, ending 2h after its start", info, info.Window)
	}
	cl, _ = s.Find(secret)
	if _, err := cl.Take(c.now()); err != nil {
		t.Errorf("after raising the limit: %v", err)
	}
	// Lower it under the count: the first refusal announces it.
	if _, err := s.Update(cl.ID(), control.TokenUpdate{MaxRequests: n(2)}); err != nil {
		t.Fatal(err)
	}
	cl, _ = s.Find(secret)
	_, err = cl.Take(c.now())
	if se := spent(t, err); !se.Reached || se.Limit != 2 {
		t.Errorf("refusal after lowering = %+v, want the limit of 2, announced", se)
	}

	// An expiry, then none.
	exp := c.now().Add(48 * time.Hour)
	info, err = s.Update(cl.ID(), control.TokenUpdate{ExpiresAt: &exp})
	if err != nil || info.ExpiresAt == nil || !info.ExpiresAt.Equal(exp) {
		t.Errorf("Update expiry = %+v, %v, want expiring %v", info.ExpiresAt, err, exp)
	}
	info, err = s.Update(cl.ID(), control.TokenUpdate{NeverExpires: true})
	if err != nil || info.ExpiresAt != nil {
		t.Errorf("Update never expires = %+v, %v, want no expiry", info.ExpiresAt, err)
	}

	// Remove the limits: no budget, and the window is forgotten.
	info, err = s.Update(cl.ID(), control.TokenUpdate{MaxRequests: n(0)})
	if err != nil || info.Limited() || info.Per != 0 || info.Window != nil {
		t.Errorf("Update removing the limits = %+v, %v, want none and no window", info, err)
	}
	cl, _ = s.Find(secret)
	if g, err := cl.Take(c.now()); err != nil || g.Metered() {
		t.Errorf("Take without limits = %+v, %v", g, err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), `"window"`) || strings.Contains(string(data), `"limits"`) {
		t.Errorf("file still has limits or a window:\n%s", data)
	}

	// Limits set again start a fresh window.
	if _, err := s.Update(cl.ID(), control.TokenUpdate{MaxTokens: n(10)}); err != nil {
		t.Fatal(err)
	}
	if w := windowOf(t, s, cl.ID()); w != nil {
		t.Errorf("window after limits set again = %+v, want none until a request", w)
	}
	again, _ := Open(path, c.now)
	if l := again.List()[0].Limits; l != (control.Limits{MaxTokens: 10, Per: control.DefaultPer}) {
		t.Errorf("saved limits = %+v, want 10 tokens per 5h", l)
	}

	past := c.now().Add(-time.Minute)
	_, revoked := issue(t, s, "old", 0)
	if err := s.Revoke(revoked.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, id string
		u        control.TokenUpdate
		want     error
		msg      string
	}{
		{"unknown", "nope", control.TokenUpdate{MaxTokens: n(1)}, ErrNotFound, `"nope"`},
		{"revoked", revoked.ID, control.TokenUpdate{MaxTokens: n(1)}, ErrInvalid, "revoked"},
		{"negative", cl.ID(), control.TokenUpdate{MaxTokens: n(-1)}, ErrInvalid, "max_tokens"},
		{"window of nothing", cl.ID(), control.TokenUpdate{MaxTokens: n(0), Per: p(control.Period(time.Hour))}, ErrInvalid, "per"},
		{"past expiry", cl.ID(), control.TokenUpdate{ExpiresAt: &past}, ErrInvalid, "not in the future"},
		{"both expiries", cl.ID(), control.TokenUpdate{ExpiresAt: &exp, NeverExpires: true}, ErrInvalid, "together"},
	} {
		before, _ := os.ReadFile(path)
		if _, err := s.Update(tt.id, tt.u); !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Update = %v, want %v mentioning %s", tt.name, err, tt.want, tt.msg)
		}
		assertContent(t, path, string(before))
	}
}

func TestIssueWithLimits(t *testing.T) {
	s, _, path := openTemp(t)
	if _, _, err := s.IssueWithLimits("bad", 0, control.Limits{MaxRequests: -3}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "max_requests") {
		t.Errorf("IssueWithLimits(-3 requests) = %v, want ErrInvalid naming max_requests", err)
	}
	_, info, err := s.IssueWithLimits("ci", time.Hour, control.Limits{MaxRequests: 500, MaxTokens: 2_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if want := (control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.DefaultPer}); info.Limits != want || info.ExpiresAt == nil {
		t.Errorf("issued %+v, want limits %+v and an expiry", info, want)
	}
	// A file with limits that are out of range is refused by name.
	data, _ := os.ReadFile(path)
	bad := strings.Replace(string(data), `"per": "5h"`, `"per": "5s"`, 1)
	if bad == string(data) {
		t.Fatalf("file has no per 5h:\n%s", data)
	}
	os.WriteFile(path, []byte(bad), 0o600)
	if _, err := Open(path, nil); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"5s"`) {
		t.Errorf("Open of a file with a 5s window = %v, want an error naming the file and the window", err)
	}
}

// BenchmarkTake is what a request with a limited token adds: taking one
// request from the budget and charging its answer's tokens, against Find
// alone.
func BenchmarkTake(b *testing.B) {
	c := newClock()
	s, err := Open(b.TempDir()+"/tokens.json", c.now)
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := s.IssueWithLimits("bench", 0, control.Limits{MaxRequests: 1 << 60, MaxTokens: 1 << 60})
	if err != nil {
		b.Fatal(err)
	}
	now := c.now()
	b.Run("find", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Find(secret)
		}
	})
	b.Run("find-take-charge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cl, _ := s.Find(secret)
			g, err := cl.Take(now)
			if err != nil {
				b.Fatal(err)
			}
			g.Charge(15, 100)
		}
	})
	b.Run("take-charge-parallel", func(b *testing.B) {
		cl, _ := s.Find(secret)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				g, _ := cl.Take(now)
				g.Charge(15, 100)
			}
		})
	})
}
