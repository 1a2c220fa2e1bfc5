package proxy

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/token"
)

// testClock is a settable clock, safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// cet is the zone the tests' clock reads in, as the daemon's local time.
var cet = time.FixedZone("CET", 3600)

// spentLog keeps what the handler told Options.Spent.
type spentLog struct {
	mu   sync.Mutex
	told []Spent
}

func (l *spentLog) add(s Spent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.told = append(l.told, s)
}

func (l *spentLog) get() []Spent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Spent(nil), l.told...)
}

// budgeted gives e's handler clk as its clock and a spent log, and issues
// a client token labelled label with limits l.
func (e *env) budgeted(t *testing.T, clk *testClock, label string, l control.Limits) (secret, id string, log *spentLog) {
	t.Helper()
	if clk != nil {
		// The store reads the same clock, to tell open windows.
		store, err := token.Open(e.tokens.Path(), clk.now)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens, e.handler.tokens = store, store
		e.handler.now = clk.now
	}
	log = new(spentLog)
	e.handler.spent = log.add
	secret, info, err := e.tokens.IssueWithLimits(label, 0, l)
	if err != nil {
		t.Fatal(err)
	}
	return secret, info.ID, log
}

// window is token id's current window in e's store.
func (e *env) window(t *testing.T, id string) *control.TokenWindow {
	t.Helper()
	for _, info := range e.tokens.List() {
		if info.ID == id {
			return info.Window
		}
	}
	t.Fatalf("no token %s", id)
	return nil
}

// TestBudgetRefusesAtOnce: once a token has sent the requests its budget
// allows, the next is answered 429 without reaching the upstream, in the
// client's error shape, naming the token and when its window ends, with
// retry-after and, as that is hours away, x-should-retry: false.
func TestBudgetRefusesAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name, path, body string
		openAI           bool
	}{
		{"anthropic", "/v1/messages", msgBody, false},
		{"openai chat", ChatPath, chatBody, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := setupUsage(t, "a")
			start := time.Date(2026, 3, 4, 12, 5, 0, 0, cet)
			clk := &testClock{t: start}
			secret, id, log := e.budgeted(t, clk, "ci", control.Limits{MaxRequests: 2, Per: control.Period(5 * time.Hour)})
			for i := range 2 {
				resp := e.post(t, tt.path, tt.body, "Authorization", "Bearer "+secret)
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: status %d: %s", i+1, resp.StatusCode, readAll(t, resp.Body))
				}
				readAll(t, resp.Body)
				rec.calls(t)
				clk.set(clk.now().Add(time.Hour))
			}
			// 14:05, the window ends at 17:05.
			resp := e.post(t, tt.path, tt.body, "Authorization", "Bearer "+secret)
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("third request: status %d, want 429: %s", resp.StatusCode, readAll(t, resp.Body))
			}
			if got := resp.Header.Get("Retry-After"); got != "10800" {
				t.Errorf("retry-after = %q, want 10800 (3 h to 17:05)", got)
			}
			if got := resp.Header.Get(ShouldRetryHeader); got != "false" {
				t.Errorf("x-should-retry = %q, want false", got)
			}
			var typ, msg string
			if tt.openAI {
				oe := openAIError(t, resp)
				typ, msg = oe.Type, oe.Message
				if oe.Code == nil || *oe.Code != "rate_limit_exceeded" {
					t.Errorf("OpenAI error code = %v, want rate_limit_exceeded", oe.Code)
				}
			} else {
				ae := errorOf(t, resp)
				typ, msg = ae.Type, ae.Message
			}
			if typ != "rate_limit_error" {
				t.Errorf("error type = %q, want rate_limit_error", typ)
			}
			for _, want := range []string{`client token "ci"`, "2 requests per 5h", "at 17:05 (in 3 h)"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if got := len(e.fake.Received()); got != 2 {
				t.Errorf("upstream saw %d requests, want 2", got)
			}
			rec.calls(t)
			rec.mu.Lock()
			clients := append([]clientCall(nil), rec.clients...)
			rec.mu.Unlock()
			if want := []clientCall{{id, false}, {id, false}, {id, true}}; !equalCalls(clients, want) {
				t.Errorf("Usage.Client calls = %v, want %v", clients, want)
			}
			until := start.Add(5 * time.Hour)
			if told := log.get(); len(told) != 1 || told[0].ID != id || told[0].Label != "ci" || !told[0].Until.Equal(until) || told[0].Limits.MaxRequests != 2 {
				t.Errorf("Spent told %+v, want once: ci until %v", told, until)
			}
		})
	}
}

func equalCalls(a, b []clientCall) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBudgetWindowRollsOver: a window starts with the first request and
// ends Per later; a refusal a moment before its end lets the SDKs retry
// (retry-after alone); the first request after it opens the next window.
func TestBudgetWindowRollsOver(t *testing.T) {
	e := setup(t, "priority", "a")
	start := time.Date(2026, 3, 4, 9, 0, 0, 0, cet)
	clk := &testClock{t: start}
	secret, id, log := e.budgeted(t, clk, "agent", control.Limits{MaxRequests: 1, Per: control.Period(time.Hour)})
	send := func(at time.Duration) *http.Response {
		t.Helper()
		clk.set(start.Add(at))
		resp := e.post(t, "/v1/messages", msgBody, "Authorization", "Bearer "+secret)
		readAll(t, resp.Body)
		return resp
	}
	steps := []struct {
		at          time.Duration
		status      int
		retryAfter  string
		shouldRetry string
	}{
		{0, 200, "", ""},
		{10 * time.Minute, 429, "3000", "false"},
		{59*time.Minute + 30*time.Second, 429, "30", ""}, // the SDKs wait for it themselves
		{time.Hour, 200, "", ""},                         // the next window: 10:00 to 11:00
		{time.Hour + time.Minute, 429, "3540", "false"},
		{3*time.Hour + 17*time.Minute, 200, "", ""}, // a window opens at the first request after the last one ended
	}
	for _, s := range steps {
		resp := send(s.at)
		if resp.StatusCode != s.status || resp.Header.Get("Retry-After") != s.retryAfter || resp.Header.Get(ShouldRetryHeader) != s.shouldRetry {
			t.Errorf("at +%v: %d retry-after %q x-should-retry %q, want %d %q %q", s.at, resp.StatusCode,
				resp.Header.Get("Retry-After"), resp.Header.Get(ShouldRetryHeader), s.status, s.retryAfter, s.shouldRetry)
		}
	}
	if w := e.window(t, id); w == nil || !w.Start.Equal(start.Add(3*time.Hour+17*time.Minute)) || w.Requests != 1 {
		t.Errorf("window = %+v, want one request from 12:17", w)
	}
	if got := len(log.get()); got != 3 {
		t.Errorf("Spent told %d times, want 3 (once per window)", got)
	}
}

// TestBudgetTokens: the tokens an answer reports are charged to its token,
// JSON and streamed alike (input, cache writes and output; cache reads
// apart), and the request after the one that spent the budget is refused.
func TestBudgetTokens(t *testing.T) {
	for _, tt := range []struct {
		name       string
		body       string
		each       int64 // tokens per answer
		cacheReads int64
	}{
		{"json", msgBody, 15, 0}, // 10 in + 5 out
		{"stream", `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`, 18, 100}, // 10 in + 2 cache writes + 6 out
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := setupUsage(t, "a")
			e.fake.CacheRead, e.fake.CacheCreation = 100, 2
			secret, id, log := e.budgeted(t, nil, "agent", control.Limits{MaxTokens: 40})
			for i := range 3 {
				resp := e.post(t, "/v1/messages", tt.body, "Authorization", "Bearer "+secret)
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: %d", i+1, resp.StatusCode)
				}
				readAll(t, resp.Body)
				rec.calls(t)
			}
			resp := e.post(t, "/v1/messages", tt.body, "Authorization", "Bearer "+secret)
			if resp.StatusCode != 429 {
				t.Fatalf("fourth request: %d, want 429", resp.StatusCode)
			}
			if msg := errorOf(t, resp).Message; !strings.Contains(msg, "40 tokens per 5h") {
				t.Errorf("message %q does not name the token limit", msg)
			}
			if w := e.window(t, id); w == nil || w.Tokens != 3*tt.each || w.CacheReadTokens != 3*tt.cacheReads || w.Requests != 3 {
				t.Errorf("window = %+v, want %d tokens, %d cache reads, 3 requests", w, 3*tt.each, 3*tt.cacheReads)
			}
			if got := len(log.get()); got != 1 {
				t.Errorf("Spent told %d times, want once", got)
			}
			rec.calls(t)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.from) != 3 || rec.from[0] != id || rec.from[2] != id {
				t.Errorf("usage history tokens from %v, want 3 answers of %s", rec.from, id)
			}
		})
	}
}

// TestBudgetChargedAsTheStreamReports: a stream's input tokens count as
// soon as message_start reports them, so another request of the token is
// refused while the first still streams; the stream in flight goes on to
// its end.
func TestBudgetChargedAsTheStreamReports(t *testing.T) {
	e := setup(t, "priority", "a")
	e.fake.StreamDelay = 100 * time.Millisecond
	e.fake.Events = 4
	secret, id, _ := e.budgeted(t, nil, "agent", control.Limits{MaxTokens: 10})
	resp := e.post(t, "/v1/messages", `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`, "Authorization", "Bearer "+secret)
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: message_start" {
	}
	sc.Scan() // its data: the proxy read it before the client did
	if w := e.window(t, id); w == nil || w.Tokens != 15 {
		t.Fatalf("window after message_start = %+v, want its 15 tokens charged", w)
	}
	second := e.post(t, "/v1/messages", msgBody, "Authorization", "Bearer "+secret)
	if second.StatusCode != 429 {
		t.Errorf("a request while the stream is in flight: %d, want 429", second.StatusCode)
	}
	rest, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(rest), "event: message_stop") {
		t.Errorf("the stream in flight was cut:\n%s", rest)
	}
	if w := e.window(t, id); w == nil || w.Tokens != 18 {
		t.Errorf("window after the stream = %+v, want 18 tokens (10 in, 8 out)", w)
	}
}

// TestBudgetConcurrent: 200 requests at once share the token's counters:
// the budget admits exactly its requests, and no count is lost.
func TestBudgetConcurrent(t *testing.T) {
	e := setup(t, "priority", "a")
	capped, _, _ := e.budgeted(t, nil, "capped", control.Limits{MaxRequests: 120})
	counted, countedID, _ := e.budgeted(t, nil, "counted", control.Limits{MaxTokens: 1 << 40})
	const n = 200
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	t.Cleanup(client.CloseIdleConnections)
	post := func(secret, body string) int {
		req, _ := http.NewRequest("POST", e.proxy.URL+"/v1/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status = map[int]int{}
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			code := post(capped, msgBody)
			stream := i%2 == 0
			body := msgBody
			if stream {
				body = `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`
			}
			if c := post(counted, body); c != 200 {
				t.Errorf("counted request: %d", c)
			}
			mu.Lock()
			status[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if status[200] != 120 || status[429] != 80 {
		t.Errorf("capped statuses = %v, want 120 × 200 and 80 × 429", status)
	}
	// Half JSON (15 tokens), half streams (16).
	if w := e.window(t, countedID); w == nil || w.Requests != n || w.Tokens != n/2*15+n/2*16 {
		t.Errorf("counted window = %+v, want %d requests and %d tokens", w, n, n/2*15+n/2*16)
	}
	if got := len(e.fake.Received()); got != 120+n {
		t.Errorf("upstream saw %d requests, want %d", got, 120+n)
	}
}

// A token without limits is never refused and counts nothing but its
// history.
func TestNoBudget(t *testing.T) {
	e, rec := setupUsage(t, "a")
	info, err := e.tokens.Check(e.secret)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		resp := e.post(t, "/v1/messages", msgBody)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		readAll(t, resp.Body)
		rec.calls(t)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if want := []clientCall{{info.ID, false}, {info.ID, false}, {info.ID, false}}; !equalCalls(rec.clients, want) {
		t.Errorf("Usage.Client calls = %v, want %v", rec.clients, want)
	}
	if w := e.window(t, info.ID); w != nil {
		t.Errorf("window = %+v, want none", w)
	}
}

var _ Tokens = (*token.Store)(nil)
