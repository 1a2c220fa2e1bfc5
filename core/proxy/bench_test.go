package proxy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/token"
)

// cannedUpstream answers every request at once with a small message and
// the rate-limit headers, without a network, so that a benchmark measures
// the handler.
type cannedUpstream struct{ header http.Header }

func (c cannedUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Header: c.header.Clone(), Request: r,
		Body: io.NopCloser(strings.NewReader(`{"type":"message","content":[],"usage":{"input_tokens":10,"output_tokens":5}}`)),
	}, nil
}

// deadlineRecorder is a ResponseRecorder whose read deadlines go to a
// real TCP connection, as a server's do.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	conn net.Conn
}

func (d deadlineRecorder) SetReadDeadline(t time.Time) error { return d.conn.SetReadDeadline(t) }

// loopbackConn returns one end of a TCP connection over loopback.
func loopbackConn(b *testing.B) net.Conn {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	peer := <-accepted
	b.Cleanup(func() { c.Close(); peer.Close() })
	return c
}

// BenchmarkServeHTTP is one small request through the whole handler
// (client token check, path check, body buffered under a read deadline,
// account pick with a session id, upstream bounds, the answer read to its
// end), against an upstream that answers at once. "no-bounds" runs with
// response_timeout and stream_idle_timeout at 0, the baseline for the
// cost of the bounds' context and timer. "limited" is "bounds" with a
// client token that has limits (never reached): the baseline for the cost
// of its budget (taking a request, charging the answer's tokens).
func BenchmarkServeHTTP(b *testing.B) {
	pool, _ := account.NewPool(account.Options{Affinity: true})
	b.Cleanup(pool.Close)
	pool.SetAccounts([]*account.Account{account.New("a", "", &fakeCred{tok: tok("a")}, nil), account.New("b", "", &fakeCred{tok: tok("b")}, nil)})
	tokens, err := token.Open(filepath.Join(b.TempDir(), "tokens.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	secret, _, _ := tokens.Issue("bench", 0)
	limited, _, err := tokens.IssueWithLimits("limited", 0, control.Limits{MaxRequests: 1 << 60, MaxTokens: 1 << 60})
	if err != nil {
		b.Fatal(err)
	}
	up := cannedUpstream{http.Header{
		"Content-Type":                                     {"application/json"},
		"Anthropic-Ratelimit-Unified-Status":               {"allowed"},
		"Anthropic-Ratelimit-Unified-5h-Utilization":       {"0.25"},
		"Anthropic-Ratelimit-Unified-7d-Utilization":       {"0.1"},
		"Anthropic-Ratelimit-Unified-5h-Reset":             {"1767236400"},
		"Anthropic-Ratelimit-Unified-Representative-Claim": {"five_hour"},
	}}
	h, err := New(Options{Pool: pool, Tokens: tokens, Upstream: "http://upstream.invalid", Transport: up, Usage: discardUsage{}})
	if err != nil {
		b.Fatal(err)
	}
	conn := loopbackConn(b)
	body := []byte(msgBody)
	for _, bb := range []struct {
		name           string
		response, idle time.Duration
		secret         string
	}{{"no-bounds", 0, 0, secret}, {"bounds", 10 * time.Minute, 2 * time.Minute, secret}, {"limited", 10 * time.Minute, 2 * time.Minute, limited}} {
		b.Run(bb.name, func(b *testing.B) {
			h.SetTimeouts(bb.response, bb.idle)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/v1/messages?beta=true", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+bb.secret)
				req.Header.Set(SessionHeader, "5b1c0d6e-3f1a-4c7e-9a57-2d8f61b4c0aa")
				w := deadlineRecorder{httptest.NewRecorder(), conn}
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkBodyDeadline is what the stalled-body bound adds to a request:
// a deadline set before the body's read and cleared after it, on a real
// TCP connection.
func BenchmarkBodyDeadline(b *testing.B) {
	conn := loopbackConn(b)
	rc := http.NewResponseController(deadlineRecorder{httptest.NewRecorder(), conn})
	b.ReportAllocs()
	for b.Loop() {
		rc.SetReadDeadline(time.Now().Add(DefaultBodyTimeout))
		rc.SetReadDeadline(time.Time{})
	}
}

// BenchmarkStreams is the search for "stream": true in a Claude Code
// sized body (80 KB, the key last), against finding the model, which
// every request does. It costs about as much as a whole request
// (BenchmarkServeHTTP), which is why it runs only for an attempt that is
// still without headers when the shorter bound passes.
func BenchmarkStreams(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":32000,"messages":[`)
	for i := 0; sb.Len() < 80<<10; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"role":"user","content":[{"type":"text","text":"Read \"main.go\" and tell me what the \"stream\" flag does, line by line, please."}]}`)
	}
	sb.WriteString(`],"stream":true}`)
	body := []byte(sb.String())
	b.Run("family", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			family(body)
		}
	})
	b.Run("streams", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if !streams(body) {
				b.Fatal("not found")
			}
		}
	})
}

// BenchmarkServeOpenAI is one small Chat Completions request through the
// whole OpenAI path (client token, body, translation to /v1/messages,
// the same account pick and Transport as BenchmarkServeHTTP, the answer
// translated back), against the same upstream that answers at once.
func BenchmarkServeOpenAI(b *testing.B) {
	pool, _ := account.NewPool(account.Options{Affinity: true})
	b.Cleanup(pool.Close)
	pool.SetAccounts([]*account.Account{account.New("a", "", &fakeCred{tok: tok("a")}, nil), account.New("b", "", &fakeCred{tok: tok("b")}, nil)})
	tokens, err := token.Open(filepath.Join(b.TempDir(), "tokens.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	secret, _, _ := tokens.Issue("bench", 0)
	up := cannedUpstream{http.Header{"Content-Type": {"application/json"}, "Anthropic-Ratelimit-Unified-Status": {"allowed"}}}
	h, err := New(Options{Pool: pool, Tokens: tokens, Upstream: "http://upstream.invalid", Transport: up, Usage: discardUsage{},
		ResponseTimeout: 10 * time.Minute, StreamIdleTimeout: 2 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	conn := loopbackConn(b)
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", ChatPath, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		w := deadlineRecorder{httptest.NewRecorder(), conn}
		h.ServeOpenAI(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
