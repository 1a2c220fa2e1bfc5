package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/control"
)

const streamBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"stream":true}`

// TestNoAnswerFailsOver: an upstream that sends no headers within the
// bound is given up like a connection error, before the client saw a
// byte: the request moves to the next account and the silent one pauses.
// Which bound applies depends on whether the request streams.
func TestNoAnswerFailsOver(t *testing.T) {
	tests := []struct {
		name              string
		body              string
		response, idle    time.Duration
		wantAfter, within time.Duration
	}{
		{"not streamed: response_timeout", msgBody, 300 * time.Millisecond, time.Hour, 300 * time.Millisecond, 3 * time.Second},
		{"streamed: stream_idle_timeout", streamBody, time.Hour, 300 * time.Millisecond, 300 * time.Millisecond, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, "priority", "a", "b")
			e.handler.SetTimeouts(tt.response, tt.idle)
			e.fake.On(tok("a"), anthropictest.Hang)
			start := time.Now()
			resp := e.post(t, "/v1/messages", tt.body)
			body := readAll(t, resp.Body)
			took := time.Since(start)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200 from b: %s", resp.StatusCode, body)
			}
			if took < tt.wantAfter || took > tt.within {
				t.Errorf("answered after %v, want after the %v bound", took, tt.wantAfter)
			}
			if got, want := fmt.Sprint(e.fake.Tokens()), fmt.Sprint([]string{tok("a"), tok("b")}); got != want {
				t.Errorf("upstream tokens = %v, want %v", got, want)
			}
			if s := e.pool.Snapshots()[0]; s.State != control.StateCooling || s.Reason != "no answer" {
				t.Errorf("a = %s (%q), want a short pause for no answer", s.State, s.Reason)
			}
			if n := e.handler.Metrics().Failovers(); n != 1 {
				t.Errorf("failovers = %d, want 1", n)
			}
		})
	}
}

// TestNoAnswerAnywhereIs504: when every account leaves the request
// unanswered, the client gets Anthropic's timeout_error naming the bound.
func TestNoAnswerAnywhereIs504(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.handler.SetTimeouts(200*time.Millisecond, time.Hour)
	e.fake.On(tok("a"), anthropictest.Hang)
	e.fake.On(tok("b"), anthropictest.Hang)
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status = %d, want 504", resp.StatusCode)
	}
	if d := errorOf(t, resp); d.Type != "timeout_error" || !strings.Contains(d.Message, "response_timeout") {
		t.Errorf("error = %+v, want timeout_error naming response_timeout", d)
	}
}

// TestSlowNonStreamedAnswerIsAwaited: a message that is not streamed may
// take longer than a stream's silence before its headers come.
func TestSlowNonStreamedAnswerIsAwaited(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.handler.SetTimeouts(5*time.Second, 200*time.Millisecond)
	e.fake.On(tok("a"), anthropictest.Delayed(600*time.Millisecond, anthropictest.OK))
	resp := e.post(t, "/v1/messages", msgBody)
	readAll(t, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := e.fake.Tokens(); len(got) != 1 || got[0] != tok("a") {
		t.Errorf("upstream tokens = %v, want a alone", got)
	}
}

// TestSilentStreamIsCut: a stream that goes silent after its first event
// is cut once silent for the bound: the client's read ends in an error
// instead of waiting for ever, and the account pauses so the next request
// goes elsewhere. A stream that keeps talking is left alone.
func TestSilentStreamIsCut(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.handler.SetTimeouts(time.Hour, 400*time.Millisecond)
	e.fake.On(tok("a"), anthropictest.StallMidStream, anthropictest.OK)
	start := time.Now()
	resp := e.post(t, "/v1/messages", streamBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want the stream's 200", resp.StatusCode)
	}
	got, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err == nil {
		t.Errorf("the cut stream read to a clean end; want an error")
	}
	if !strings.Contains(string(got), "message_start") {
		t.Errorf("the client got %q, want the first event", got)
	}
	if took < 400*time.Millisecond || took > 3*time.Second {
		t.Errorf("cut after %v, want after the 400ms bound", took)
	}
	if s := e.pool.Snapshots()[0]; s.State != control.StateCooling {
		t.Errorf("a = %s, want paused", s.State)
	}
	readAll(t, e.post(t, "/v1/messages", msgBody).Body)
	if toks := e.fake.Tokens(); toks[len(toks)-1] != tok("b") {
		t.Errorf("after a silent stream the next request went to %v, want b", toks[len(toks)-1])
	}

	// Events further apart than a quarter of the bound, never silent for
	// all of it: the stream goes through.
	e.fake.StreamDelay, e.fake.Events = 150*time.Millisecond, 8
	resp = e.post(t, "/v1/messages", streamBody)
	if body := readAll(t, resp.Body); !strings.Contains(body, "message_stop") {
		t.Errorf("a live stream of 2s was cut: %q", body)
	}
}

// TestAbsurdHeadersKeepListingsWorking: after an answer with a
// non-finite utilization, snapshots still encode (the daemon answered
// /v1/accounts with an empty body, the control API 500).
func TestAbsurdHeadersKeepListingsWorking(t *testing.T) {
	e := setup(t, "priority", "a")
	e.fake.On(tok("a"), anthropictest.WithHeaders(anthropictest.OK,
		"anthropic-ratelimit-unified-5h-utilization", "Inf",
		"anthropic-ratelimit-unified-7d-utilization", "NaN",
		"anthropic-ratelimit-unified-7d-reset", "99999999999999"))
	readAll(t, e.post(t, "/v1/messages", msgBody).Body)
	if _, err := json.Marshal(control.Accounts{Accounts: e.pool.Snapshots()}); err != nil {
		t.Errorf("snapshots after absurd headers do not encode: %v", err)
	}
}

// ctxReader is an upstream body: it hands out what is sent on data and
// fails once its context ends, as a Transport's body does.
type ctxReader struct {
	ctx  context.Context
	data chan []byte
}

func (r *ctxReader) Read(p []byte) (int, error) {
	select {
	case b := <-r.data:
		return copy(p, b), nil
	case <-r.ctx.Done():
		return 0, context.Cause(r.ctx)
	}
}

func (r *ctxReader) Close() error { return nil }

// TestStallTicks checks the idle bound in fake time: a body silent for
// less than the bound is left alone however long it lasts, and one silent
// for the bound is cut within a quarter of it more.
func TestStallTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		pool, _ := account.NewPool(account.Options{})
		defer pool.Close()
		a := account.New("a", "", nil, nil)
		pool.SetAccounts([]*account.Account{a})
		h := bareHandler(nil)
		h.pool = pool
		h.SetTimeouts(time.Hour, idle)
		req, _ := http.NewRequest("POST", "http://upstream/v1/messages", nil)
		st := &request{body: &body{data: []byte(streamBody)}}
		st.body.refs.Store(1)
		sreq, s := h.bound(req, a, st)
		if !s.answered() {
			t.Fatal("answered = false before any timeout")
		}
		r := &ctxReader{ctx: sreq.Context(), data: make(chan []byte)}
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: r}
		body := watch(resp, a, h, st, s, func() {})
		go func() {
			for range 10 { // ten minutes of events 55s apart
				time.Sleep(55 * time.Second)
				r.data <- []byte("event: ping\ndata: {\"type\": \"ping\"}\n\n")
			}
		}()
		buf := make([]byte, 1024)
		start := time.Now()
		var last time.Time
		for {
			_, err := body.Read(buf)
			if err != nil {
				break
			}
			last = time.Now()
		}
		if got := last.Sub(start); got != 550*time.Second {
			t.Errorf("the stream was read for %v, want all of its 550s", got)
		}
		if silent := time.Since(last); silent < idle || silent > idle+idle/stallTicks {
			t.Errorf("cut after %v of silence, want between %v and %v", silent, idle, idle+idle/stallTicks)
		}
		body.Close()
		if a.Available(time.Now()) {
			t.Errorf("a is available right after its stream went silent, want a pause")
		}
	})
}
