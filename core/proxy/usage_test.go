package proxy

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/usage"
)

// answer is one Usage.Answered call.
type answer struct {
	account         string
	status          int
	fiveHour, seven float64
}

// tokensCall is one Usage.Tokens call.
type tokensCall struct {
	account string
	tokens  usage.Tokens
}

// recorder is a Usage that keeps every call, and tells when the proxy has
// finished a request (and so closed its answer's body).
type recorder struct {
	mu      sync.Mutex
	answers []answer
	tokens  []tokensCall
	from    []string // the client token of each tokens call
	clients []clientCall
	extras  []string
	served  chan struct{}
}

// clientCall is one Usage.Client call.
type clientCall struct {
	client  string
	refused bool
}

func newRecorder() *recorder { return &recorder{served: make(chan struct{}, 64)} }

func (r *recorder) Answered(account string, status int, fiveHour, sevenDay float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, answer{account, status, fiveHour, sevenDay})
}

func (r *recorder) ExtraUsage(account string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.extras = append(r.extras, account)
}

func (r *recorder) Tokens(account, client string, t usage.Tokens) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = append(r.tokens, tokensCall{account, t})
	r.from = append(r.from, client)
}

func (r *recorder) Client(client string, refused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients = append(r.clients, clientCall{client, refused})
}

func (r *recorder) serving(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(w, req)
		r.served <- struct{}{}
	})
}

// calls waits until the proxy has finished one request, then returns what
// was recorded so far.
func (r *recorder) calls(t *testing.T) ([]answer, []tokensCall) {
	t.Helper()
	select {
	case <-r.served:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not finish the request")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]answer(nil), r.answers...), append([]tokensCall(nil), r.tokens...)
}

func setupUsage(t *testing.T, names ...string) (*env, *recorder) {
	t.Helper()
	fake, up := anthropictest.New(t)
	rec := newRecorder()
	return newEnv(t, up.URL, nil, fake, rec, "priority", names...), rec
}

func TestAnsweredPerAttempt(t *testing.T) {
	ok := answer{"b", 200, 0.25, 0.1} // the fake's healthy headers
	tests := []struct {
		name  string
		reply anthropictest.Reply
		rt    func(http.RoundTripper) http.RoundTripper
		want  []answer
	}{
		{"429 then 200", anthropictest.RateLimited(time.Now().Add(time.Hour)), nil, []answer{{"a", 429, 1.0, 0.4}, ok}},
		{"bare 429 has no utilization", anthropictest.Throttled, nil, []answer{{"a", 429, -1, -1}, ok}},
		{"401, the next account while it refreshes", anthropictest.Unauthorized, nil, []answer{{"a", 401, -1, -1}, ok}},
		{"connection failure", nil, func(base http.RoundTripper) http.RoundTripper { return failFor{tok("a"), base} }, []answer{{"a", 0, -1, -1}, ok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, up := anthropictest.New(t)
			rec := newRecorder()
			var rt http.RoundTripper
			if tt.rt != nil {
				rt = tt.rt(NewTransport())
			}
			e := newEnv(t, up.URL, rt, fake, rec, "priority", "a", "b")
			if tt.reply != nil {
				fake.On(tok("a"), tt.reply)
			}
			resp := e.post(t, "/v1/messages", msgBody)
			readAll(t, resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			answers, tokens := rec.calls(t)
			if got, want := fmt.Sprint(answers), fmt.Sprint(tt.want); got != want {
				t.Errorf("answers = %v, want %v", got, want)
			}
			last := tt.want[len(tt.want)-1].account
			want := []tokensCall{{last, usage.Tokens{Input: 10, Output: 5}}}
			if got, want := fmt.Sprint(tokens), fmt.Sprint(want); got != want {
				t.Errorf("tokens = %v, want %v (only the answer the client got)", got, want)
			}
		})
	}
}

// gzipped answers a JSON message compressed when the request accepts gzip,
// as the upstream does.
func gzipped(w http.ResponseWriter, r *http.Request, _ []byte) {
	const msg = `{"type":"message","content":[],"usage":{"input_tokens":10,"output_tokens":5}}`
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(msg))
		return
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(msg))
	zw.Close()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Encoding", "gzip")
	w.WriteHeader(200)
	w.Write(buf.Bytes())
}

// badRequest answers 400 with a body that happens to hold a usage key.
func badRequest(w http.ResponseWriter, _ *http.Request, _ []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(400)
	w.Write([]byte(`{"type":"error","error":{"type":"invalid_request_error","message":"no"},"usage":{"input_tokens":1}}`))
}

func TestTokens(t *testing.T) {
	const stream = `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`
	streamed := usage.Tokens{Input: 10, Output: 6, CacheRead: 7, CacheCreation: 3} // 3 deltas: 6 output tokens
	tests := []struct {
		name      string
		path      string
		body      string
		writeSize int
		reply     anthropictest.Reply
		status    int
		want      []tokensCall // nil: none
	}{
		{"stream", "/v1/messages", stream, 0, nil, 200, []tokensCall{{"a", streamed}}},
		{"stream in 7-byte writes", "/v1/messages", stream, 7, nil, 200, []tokensCall{{"a", streamed}}},
		{"stream with a query", "/v1/messages?beta=true", stream, 0, nil, 200, []tokensCall{{"a", streamed}}},
		{"stream ending in an error", "/v1/messages", stream, 0, anthropictest.MidStreamError("overloaded_error"), 200,
			[]tokensCall{{"a", usage.Tokens{Input: 10, Output: 5, CacheRead: 7, CacheCreation: 3}}}}, // message_start's alone
		{"JSON", "/v1/messages", msgBody, 0, nil, 200, []tokensCall{{"a", usage.Tokens{Input: 10, Output: 5}}}},
		{"JSON the upstream gzips", "/v1/messages", msgBody, 0, gzipped, 200, []tokensCall{{"a", usage.Tokens{Input: 10, Output: 5}}}},
		{"error answer", "/v1/messages", msgBody, 0, badRequest, 400, nil},
		{"count_tokens", "/v1/messages/count_tokens", msgBody, 0, nil, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := setupUsage(t, "a")
			e.fake.WriteSize, e.fake.CacheRead, e.fake.CacheCreation = tt.writeSize, 7, 3
			if tt.reply != nil {
				e.fake.On(tok("a"), tt.reply)
			}
			resp := e.post(t, tt.path, tt.body, "Accept-Encoding", "gzip, deflate, br, zstd") // as Claude Code
			body := readAll(t, resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			answers, tokens := rec.calls(t)
			if len(answers) != 1 || answers[0].status != tt.status {
				t.Errorf("answers = %v, want one %d", answers, tt.status)
			}
			if got, want := fmt.Sprint(tokens), fmt.Sprint(tt.want); got != want {
				t.Errorf("tokens = %v, want %v", got, want)
			}
			if tt.writeSize > 0 && strings.Count(body, "event: ") != 9 {
				t.Errorf("the client got %d events, want 9: %q", strings.Count(body, "event: "), body)
			}
		})
	}
}

// TestMessagesAnswersArriveReadable: for /v1/messages the proxy lets the
// Transport negotiate gzip with the upstream, so it can read what passes
// (token usage, a stream's error event) and the client gets plain bytes;
// other paths pass the client's Accept-Encoding through.
func TestMessagesAnswersArriveReadable(t *testing.T) {
	e, rec := setupUsage(t, "a")
	e.fake.On(tok("a"), gzipped)
	resp := e.post(t, "/v1/messages", msgBody, "Accept-Encoding", "gzip, deflate, br, zstd")
	body := readAll(t, resp.Body)
	if ce := resp.Header.Get("Content-Encoding"); ce != "" || !strings.Contains(body, `"usage"`) {
		t.Errorf("client got Content-Encoding %q and body %q, want plain JSON", ce, body)
	}
	if _, tokens := rec.calls(t); len(tokens) != 1 {
		t.Errorf("tokens = %v, want the usage of the gzipped answer", tokens)
	}
	e.post(t, "/v1/messages/count_tokens", msgBody, "Accept-Encoding", "br")
	got := e.fake.Received()
	if len(got) != 2 {
		t.Fatalf("upstream saw %d requests, want 2", len(got))
	}
	if ae := got[0].Header.Get("Accept-Encoding"); ae != "gzip" {
		t.Errorf("messages: upstream Accept-Encoding = %q, want gzip (the Transport's own)", ae)
	}
	if ae := got[1].Header.Get("Accept-Encoding"); ae != "br" {
		t.Errorf("count_tokens: upstream Accept-Encoding = %q, want the client's br", ae)
	}
}

// An answer billed to extra usage is counted as such, and its account is
// marked: the next request goes to another account (extra_usage =
// "avoid"), and comes back to it only when no other can take it.
func TestBilledExtra(t *testing.T) {
	fake, up := anthropictest.New(t)
	rec := newRecorder()
	e := newEnv(t, up.URL, nil, fake, rec, "priority", "a", "b")
	e.pool.SetAvoidExtra(true)
	fake.On(tok("a"), anthropictest.BilledExtra)
	for range 3 {
		resp := e.post(t, "/v1/messages", msgBody)
		readAll(t, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
		rec.calls(t)
	}
	rec.mu.Lock()
	extras := fmt.Sprint(rec.extras)
	rec.mu.Unlock()
	if extras != "[a]" {
		t.Errorf("answers counted as extra usage = %s, want [a]", extras)
	}
	if got, want := fmt.Sprint(fake.Tokens()), fmt.Sprint([]string{tok("a"), tok("b"), tok("b")}); got != want {
		t.Errorf("upstream tokens = %s, want %s (a first, then b while a bills extra usage)", got, want)
	}
	if s := e.pool.Snapshots()[0]; !s.BillingExtra {
		t.Errorf("a's snapshot = %+v, want billing_extra", s)
	}
}
