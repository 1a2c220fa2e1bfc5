// Package anthropictest is a fake Anthropic API for tests and benchmarks:
// it answers /v1/messages (JSON or a real-shaped event stream),
// /v1/messages/count_tokens and /v1/models, records what it received, and
// can be scripted per access token to answer as a spent, throttled,
// overloaded or logged-out account would, with the real header set. It
// also plays Claude's OAuth side (oauth.go): a login that approves at
// once, the token endpoint, and the usage and profile endpoints.
package anthropictest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Received is one request as the fake saw it.
type Received struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	// Token is the bearer token it carried ("" when none).
	Token string
}

// Reply writes one answer. The body has been read already.
type Reply func(w http.ResponseWriter, r *http.Request, body []byte)

// Fake is the fake API. Its zero value is not usable; call New or
// NewHandler.
type Fake struct {
	mu       sync.Mutex
	received []Received
	scripts  map[string][]Reply // per token: replies in order, the last one repeats
	record   bool
	// StreamDelay is the pause between streamed events (0 = none).
	StreamDelay time.Duration
	// Events is how many text deltas a stream carries (default 3).
	Events int
	// WriteSize, when above 0, writes a stream in pieces of this many
	// bytes, each flushed, so that lines split across the reader's reads.
	WriteSize int
	// CacheRead and CacheCreation are the cache_read_input_tokens and
	// cache_creation_input_tokens a stream's message_start reports
	// (default 0).
	CacheRead, CacheCreation int
	// Now is the clock behind reset headers; nil means time.Now.
	Now func() time.Time

	oauth oauth // logins, usage and profile (oauth.go)
}

// NewHandler returns a fake that does not record requests (for benchmarks).
func NewHandler() *Fake { return &Fake{scripts: map[string][]Reply{}} }

// New starts a recording fake on a loopback httptest server, closed at the
// end of the test.
func New(t interface{ Cleanup(func()) }) (*Fake, *httptest.Server) {
	f := NewHandler()
	f.record = true
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// On scripts the answers for requests carrying token: one reply per
// request, in order; the last one repeats. No script means OK.
func (f *Fake) On(token string, replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[token] = replies
}

// Received returns the requests seen so far.
func (f *Fake) Received() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.received...)
}

// Tokens lists the bearer tokens of the requests seen so far, in order.
func (f *Fake) Tokens() []string {
	var out []string
	for _, r := range f.Received() {
		out = append(out, r.Token)
	}
	return out
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serveOAuth(w, r) {
		return
	}
	var body []byte
	if r.ContentLength > 0 {
		body = make([]byte, r.ContentLength)
		if _, err := ioReadFull(r, body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	reply := OK
	f.mu.Lock()
	if f.record {
		f.received = append(f.received, Received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body, tok})
	}
	if s := f.scripts[tok]; len(s) > 0 {
		reply = s[0]
		if len(s) > 1 {
			f.scripts[tok] = s[1:]
		}
	}
	f.mu.Unlock()
	reply(w, r.WithContext(withFake(r.Context(), f)), body)
}

// OK answers like a healthy account: a message (streamed when the request
// asked for it), a token count, or the model list, with allowed limit
// headers.
func OK(w http.ResponseWriter, r *http.Request, body []byte) {
	f := fakeOf(r.Context())
	limitHeaders(w.Header(), f.now(), "allowed", 0.25, 0.1)
	switch {
	case strings.HasSuffix(r.URL.Path, "/count_tokens"):
		writeJSON(w, 200, map[string]int{"input_tokens": 42})
	case r.URL.Path == "/v1/models":
		writeJSON(w, 200, map[string]any{"data": []map[string]string{{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5"}}, "has_more": false})
	case r.URL.Path == "/v1/messages":
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		json.Unmarshal(body, &req)
		if req.Stream {
			f.stream(w, r, req.Model, "")
			return
		}
		writeJSON(w, 200, message(req.Model, "Hello from the fake Anthropic."))
	default:
		writeJSON(w, 404, errorBody("not_found_error", "no such path: "+r.URL.Path))
	}
}

// RateLimited answers 429 as a spent subscription account does: unified
// headers with the 5-hour window rejected until reset.
func RateLimited(reset time.Time) Reply {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		h := w.Header()
		now := fakeOf(r.Context()).now()
		limitHeaders(h, now, "rejected", 1.0, 0.4)
		h.Set("anthropic-ratelimit-unified-5h-status", "rejected")
		h.Set("anthropic-ratelimit-unified-5h-reset", unix(reset))
		h.Set("anthropic-ratelimit-unified-reset", unix(reset))
		h.Set("retry-after", strconv.Itoa(int(reset.Sub(now).Seconds())))
		writeJSON(w, 429, errorBody("rate_limit_error", "This request would exceed your account's rate limit. Please try again later."))
	}
}

// Throttled answers a bare 429 with no limit headers.
func Throttled(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, 429, errorBody("rate_limit_error", "Number of concurrent connections has exceeded your rate limit."))
}

// Overloaded answers 529.
func Overloaded(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, 529, errorBody("overloaded_error", "Overloaded"))
}

// Unauthorized answers 401 as for a dead access token.
func Unauthorized(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, 401, errorBody("authentication_error", "OAuth token has expired. Please obtain a new token or refresh your existing token."))
}

// MidStreamError streams a 200 that ends in an `event: error` of errType.
func MidStreamError(errType string) Reply {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		f := fakeOf(r.Context())
		limitHeaders(w.Header(), f.now(), "allowed", 0.5, 0.2)
		f.stream(w, r, "claude-sonnet-4-5", errType)
	}
}

// Hang never answers until the client goes away (for timeouts).
func Hang(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() }

// stream writes a message as Anthropic streams it; with errType set it
// ends in an error event instead of message_stop.
func (f *Fake) stream(w http.ResponseWriter, r *http.Request, model, errType string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	fl, _ := w.(http.Flusher)
	write := func(b []byte) {
		w.Write(b)
		if fl != nil {
			fl.Flush()
		}
	}
	send := func(name string, data any) bool {
		b, _ := json.Marshal(data)
		ev := fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, b)
		if f.WriteSize <= 0 {
			write(ev)
		}
		for f.WriteSize > 0 && len(ev) > 0 {
			n := min(f.WriteSize, len(ev))
			write(ev[:n])
			ev = ev[n:]
		}
		if f.StreamDelay > 0 {
			select {
			case <-time.After(f.StreamDelay):
			case <-r.Context().Done():
				return false
			}
		}
		return r.Context().Err() == nil
	}
	msg := message(model, "")
	msg["content"] = []any{}
	msg["usage"] = map[string]int{"input_tokens": 10, "cache_creation_input_tokens": f.CacheCreation, "cache_read_input_tokens": f.CacheRead, "output_tokens": 5}
	if !send("message_start", map[string]any{"type": "message_start", "message": msg}) {
		return
	}
	send("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]string{"type": "text", "text": ""}})
	send("ping", map[string]string{"type": "ping"})
	n := f.Events
	if n <= 0 {
		n = 3
	}
	for i := range n {
		if !send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]string{"type": "text_delta", "text": fmt.Sprintf("chunk %d ", i)}}) {
			return
		}
	}
	if errType != "" {
		send("error", errorBody(errType, "stream ended with "+errType))
		return
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]int{"output_tokens": n * 2}})
	send("message_stop", map[string]string{"type": "message_stop"})
}

func message(model, text string) map[string]any {
	if model == "" {
		model = "claude-sonnet-4-5"
	}
	return map[string]any{
		"id": "msg_fake01", "type": "message", "role": "assistant", "model": model,
		"content":     []map[string]string{{"type": "text", "text": text}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": 10, "output_tokens": 5},
	}
}

func errorBody(typ, msg string) map[string]any {
	return map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// limitHeaders sets the unified rate-limit headers of a subscription answer.
func limitHeaders(h http.Header, now time.Time, status string, u5, u7 float64) {
	h.Set("anthropic-ratelimit-unified-status", status)
	h.Set("anthropic-ratelimit-unified-representative-claim", "five_hour")
	h.Set("anthropic-ratelimit-unified-reset", unix(now.Add(3*time.Hour)))
	h.Set("anthropic-ratelimit-unified-5h-status", "allowed")
	h.Set("anthropic-ratelimit-unified-5h-reset", unix(now.Add(3*time.Hour)))
	h.Set("anthropic-ratelimit-unified-5h-utilization", strconv.FormatFloat(u5, 'f', -1, 64))
	h.Set("anthropic-ratelimit-unified-7d-status", "allowed")
	h.Set("anthropic-ratelimit-unified-7d-reset", unix(now.Add(100*time.Hour)))
	h.Set("anthropic-ratelimit-unified-7d-utilization", strconv.FormatFloat(u7, 'f', -1, 64))
	h.Set("anthropic-ratelimit-unified-overage-status", "rejected")
	h.Set("anthropic-ratelimit-unified-overage-disabled-reason", "org_level_disabled")
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
