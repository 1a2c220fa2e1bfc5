package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/usage"
)

// realEvents is an event stream shaped as the API sends it today:
// message_start, content_block_start, ping, deltas text deltas,
// content_block_stop, message_delta (with the input and cache counts newer
// API versions repeat) and message_stop; 26 events for 20 deltas.
func realEvents(deltas int) [][]byte {
	ev := func(name, data string) []byte { return []byte("event: " + name + "\ndata: " + data + "\n\n") }
	out := [][]byte{
		ev("message_start", `{"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":1210,"cache_read_input_tokens":20345,"cache_creation":{"ephemeral_5m_input_tokens":1210,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}`),
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
		ev("ping", `{"type": "ping"}`),
	}
	for i := range deltas {
		out = append(out, ev("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Sentence %d of the answer, about as long as the API sends at a time. "}}`, i)))
	}
	return append(out,
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`),
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":3,"cache_creation_input_tokens":1210,"cache_read_input_tokens":20345,"output_tokens":412}}`),
		ev("message_stop", `{"type":"message_stop"}`),
	)
}

var realTokens = usage.Tokens{Input: 3, Output: 412, CacheRead: 20345, CacheCreation: 1210}

// feedChunks feeds stream to s in pieces of size bytes (0: whole).
func feedChunks(s *sseTokens, stream []byte, size int) {
	if size <= 0 {
		size = len(stream)
	}
	for len(stream) > 0 {
		n := min(size, len(stream))
		s.feed(stream[:n])
		stream = stream[n:]
	}
}

func TestSSETokens(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		want    usage.Tokens
		wantOK  bool
		wantErr bool
	}{
		{name: "real stream", stream: string(bytes.Join(realEvents(3), nil)), want: realTokens, wantOK: true},
		{
			name: "delta with output only",
			stream: "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n" +
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":7}}\n\n" +
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n",
			want: usage.Tokens{Input: 25, Output: 15}, wantOK: true,
		},
		{
			name:   "CRLF and no space after the colon",
			stream: "event:message_start\r\ndata:{\"message\":{\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\r\n\r\nevent:message_delta\r\ndata:{\"usage\":{\"output_tokens\":9}}\r\n\r\n",
			want:   usage.Tokens{Input: 4, Output: 9}, wantOK: true,
		},
		{
			name:   "usage-shaped data in other events is not read",
			stream: "event: content_block_delta\ndata: {\"usage\":{\"output_tokens\":99}}\n\n: comment\nevent: message_delta\ndata: {\"usage\":{\"output_tokens\":2}}\n\ndata: {\"usage\":{\"output_tokens\":98}}\n\n",
			want:   usage.Tokens{Output: 2}, wantOK: true,
		},
		{
			name:   "CRLF blank line ends the event even when split",
			stream: "event: message_delta\r\ndata: {\"usage\":{\"output_tokens\":2}}\r\n\r\ndata: {\"usage\":{\"output_tokens\":98}}\r\n\r\n",
			want:   usage.Tokens{Output: 2}, wantOK: true,
		},
		{name: "no usage events", stream: "event: ping\ndata: {\"type\":\"ping\"}\n\n"},
		{
			name:   "a bad event is skipped",
			stream: "event: message_start\ndata: {\"message\":{\"usage\":\n\nevent: message_delta\ndata: {\"usage\":{\"output_tokens\":3}}\n\n",
			want:   usage.Tokens{Output: 3}, wantOK: true, wantErr: true,
		},
		{
			name:   "stream cut mid-line",
			stream: "event: message_start\ndata: {\"message\":{\"usage\":{\"input_tokens\":8}}}\n\nevent: message_delta\ndata: {\"usage\":{\"output_tok",
			want:   usage.Tokens{Input: 8}, wantOK: true,
		},
	}
	for _, tt := range tests {
		sizes := []int{0, 1, 2, 3, 5, 7, 13, 64, 1000}
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				var s sseTokens
				feedChunks(&s, []byte(tt.stream), size)
				got, ok, err := s.result()
				if got != tt.want || ok != tt.wantOK || (err != nil) != tt.wantErr {
					t.Errorf("result = %+v, %v, %v; want %+v, %v, error %v", got, ok, err, tt.want, tt.wantOK, tt.wantErr)
				}
			})
		}
		t.Run(tt.name+"/every split", func(t *testing.T) {
			for i := range len(tt.stream) {
				var s sseTokens
				s.feed([]byte(tt.stream[:i]))
				s.feed([]byte(tt.stream[i:]))
				if got, ok, _ := s.result(); got != tt.want || ok != tt.wantOK {
					t.Fatalf("split at %d: result = %+v, %v; want %+v, %v", i, got, ok, tt.want, tt.wantOK)
				}
			}
		})
	}
}

func TestSSETokensCarryIsBounded(t *testing.T) {
	long := strings.Repeat("x", maxCarry)
	stream := "event: content_block_delta\ndata: {\"delta\":{\"text\":\"" + long + "\"}}\n\n" +
		"event: message_start\ndata: {\"message\":{\"usage\":{\"input_tokens\":5,\"pad\":\"" + long + "\"}}}\n\n" +
		"event: message_delta\ndata: {\"usage\":{\"output_tokens\":2}}\n\n"
	var s sseTokens
	feedChunks(&s, []byte(stream), 1000)
	got, ok, _ := s.result()
	if want := (usage.Tokens{Output: 2}); got != want || !ok {
		t.Errorf("result = %+v, %v; want %+v (the over-long message_start dropped)", got, ok, want)
	}
	if c := cap(s.carry); c > 2*maxCarry {
		t.Errorf("carry grew to %d bytes, want at most about %d", c, maxCarry)
	}

	// Lines no one reads are never copied, however they are split.
	s = sseTokens{}
	feedChunks(&s, bytes.Join(realEvents(20), nil), 7)
	if c := cap(s.carry); c > 1024 {
		t.Errorf("carry grew to %d bytes on a stream of short wanted lines", c)
	}
}

func TestJSONTokens(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    usage.Tokens
		wantOK  bool
		wantErr error // errNoUsage, errAny, or nil
	}{
		{name: "fake message", body: `{"content":[{"text":"hi","type":"text"}],"id":"msg_fake01","usage":{"input_tokens":10,"output_tokens":5}}`,
			want: usage.Tokens{Input: 10, Output: 5}, wantOK: true},
		{name: "real message", body: `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_1","name":"stats","input":{"usage":{"input_tokens":99}}},{"type":"text","text":"the \"usage\": {\"input_tokens\": 98}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":0},"output_tokens":40,"server_tool_use":{"web_search_requests":0},"service_tier":"standard"}}`,
			want: usage.Tokens{Input: 12, Output: 40, CacheRead: 2000, CacheCreation: 100}, wantOK: true},
		{name: "spaces", body: "{\"usage\" :\n {\"output_tokens\": 3}\n}\n", want: usage.Tokens{Output: 3}, wantOK: true},
		{name: "null usage", body: `{"usage":null}`},
		{name: "a later string usage", body: `{"usage":{"output_tokens":3},"note":"usage"}`, want: usage.Tokens{Output: 3}, wantOK: true},
		{name: "braces in strings", body: `{"usage":{"service_tier":"st}an{d\"ar}d","output_tokens":4},"x":{"y":1}}`, want: usage.Tokens{Output: 4}, wantOK: true},
		{name: "no usage", body: `{"type":"message"}`, wantErr: errNoUsage},
		{name: "usage is a string", body: `{"text":"usage"}`, wantErr: errNoUsage},
		{name: "cut short", body: `{"usage":{"input_tokens":1`, wantErr: errUsageCut},
		{name: "not JSON", body: `{"usage":{"input_tokens":one}}`, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := jsonTokens([]byte(tt.body))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("jsonTokens = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
			switch {
			case tt.wantErr == errAny && err == nil, tt.wantErr == nil && err != nil,
				tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// discardUsage is a Usage that records nothing, for benchmarks.
type discardUsage struct{}

func (discardUsage) Answered(string, int, float64, float64) {}
func (discardUsage) Tokens(string, string, usage.Tokens)    {}
func (discardUsage) ExtraUsage(string)                      {}
func (discardUsage) Client(string, bool)                    {}

// bareHandler is a Handler with just what a watchedBody uses.
func bareHandler(u Usage) *Handler {
	return &Handler{usage: u, log: slog.New(slog.DiscardHandler), now: time.Now}
}

func watchBody(h *Handler, ct string, r io.Reader) io.ReadCloser {
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}}, Body: io.NopCloser(r)}
	return watch(resp, account.New("a", "", nil, nil), h, &request{messages: true}, nil, func() {})
}

// TestWatchedBodyReportsOnce reads answers through a watchedBody the ways
// a Transport hands them out: the last data with io.EOF or apart from it,
// in one read or many, and closed before the end.
func TestWatchedBodyReportsOnce(t *testing.T) {
	pad := `{"content":[{"type":"text","text":"` + strings.Repeat("y", 10<<10) + `"}],`
	jsonBody := pad + `"usage":{"input_tokens":10,"output_tokens":5}}`
	stream := string(bytes.Join(realEvents(20), nil))
	jsonTok := usage.Tokens{Input: 10, Output: 5}
	plain := func(r io.Reader) io.Reader { return r }
	tests := []struct {
		name string
		ct   string
		body string
		wrap func(io.Reader) io.Reader
		buf  int
		stop int // close after this many bytes (0: read to the end)
		want []tokensCall
	}{
		{"JSON in one read with EOF", "application/json", jsonBody, iotest.DataErrReader, 32 << 10, 0, []tokensCall{{"a", jsonTok}}},
		{"JSON then EOF", "application/json", jsonBody, plain, 32 << 10, 0, []tokensCall{{"a", jsonTok}}},
		{"JSON in 1 KiB reads", "application/json", jsonBody, plain, 1 << 10, 0, []tokensCall{{"a", jsonTok}}},
		{"JSON in 5000-byte reads with EOF", "application/json", jsonBody, iotest.DataErrReader, 5000, 0, []tokensCall{{"a", jsonTok}}},
		{"JSON byte by byte", "application/json", jsonBody, iotest.OneByteReader, 32 << 10, 0, []tokensCall{{"a", jsonTok}}},
		{"JSON closed early", "application/json; charset=utf-8", jsonBody, plain, 1 << 10, 2 << 10, nil},
		{"empty JSON", "application/json", "", plain, 1 << 10, 0, nil},
		{"stream", "text/event-stream", stream, plain, 32 << 10, 0, []tokensCall{{"a", realTokens}}},
		{"stream byte by byte", "text/event-stream; charset=utf-8", stream, iotest.OneByteReader, 32 << 10, 0, []tokensCall{{"a", realTokens}}},
		{"stream closed after message_start", "text/event-stream", stream, plain, 64, 1024, []tokensCall{{"a", usage.Tokens{Input: 3, Output: 1, CacheRead: 20345, CacheCreation: 1210}}}},
		{"plain text", "text/plain", jsonBody, plain, 32 << 10, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			b := watchBody(bareHandler(rec), tt.ct, tt.wrap(strings.NewReader(tt.body)))
			buf := make([]byte, tt.buf)
			var read bytes.Buffer
			for {
				n, err := b.Read(buf)
				read.Write(buf[:n])
				if err != nil || (tt.stop > 0 && read.Len() >= tt.stop) {
					break
				}
			}
			b.Close()
			b.Close()
			if tt.stop == 0 && read.String() != tt.body {
				t.Errorf("the reader got %d bytes, want the %d of the body unchanged", read.Len(), len(tt.body))
			}
			if got, want := fmt.Sprint(rec.tokens), fmt.Sprint(tt.want); got != want {
				t.Errorf("tokens = %v, want %v", got, want)
			}
		})
	}
}

func TestKeepTail(t *testing.T) {
	body := make([]byte, 10<<10+17)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	for _, size := range []int{1, 100, jsonTailSize - 1, jsonTailSize, jsonTailSize + 1, len(body)} {
		for _, n := range []int{50, len(body)} {
			t.Run(fmt.Sprintf("%d of %d", size, n), func(t *testing.T) {
				b := &watchedBody{h: bareHandler(nil)}
				for rest := body[:n]; len(rest) > 0; {
					k := min(size, len(rest))
					b.keepTail(rest[:k])
					rest = rest[k:]
				}
				want := body[max(0, n-jsonTailSize):n]
				if got := b.jtail[:b.jn]; !bytes.Equal(got, want) {
					t.Errorf("tail = %.40q… (%d bytes), want %.40q… (%d bytes)", got, len(got), want, len(want))
				}
			})
		}
	}
}

// eventReader hands out one event per Read, as the upstream flushes them.
type eventReader struct {
	events [][]byte
	i      int
}

func (r *eventReader) Read(p []byte) (int, error) {
	if r.i >= len(r.events) {
		return 0, io.EOF
	}
	n := copy(p, r.events[r.i])
	r.i++
	return n, nil
}

// BenchmarkStreamRead reads a 26-event stream through a watchedBody the
// way ReverseProxy does, watching for error events only (as without a
// Usage) and also reading the token usage, each without and with the
// stream_idle_timeout watch (which counts each Read).
func BenchmarkStreamRead(b *testing.B) {
	events := realEvents(20)
	size := 0
	for _, e := range events {
		size += len(e)
	}
	a := account.New("a", "", nil, nil)
	for _, bb := range []struct {
		name string
		u    Usage
		idle time.Duration
	}{{"scan-errors-only", nil, 0}, {"scan-errors-only+idle-bound", nil, 2 * time.Minute}, {"with-usage", discardUsage{}, 0}, {"with-usage+idle-bound", discardUsage{}, 2 * time.Minute}} {
		b.Run(bb.name, func(b *testing.B) {
			h := bareHandler(bb.u)
			h.SetTimeouts(0, bb.idle)
			buf := make([]byte, 32<<10)
			r := &eventReader{events: events}
			resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}}
			st := &request{messages: true}
			req, _ := http.NewRequest("POST", "http://upstream/v1/messages", nil)
			_, s := h.bound(req, a, st)
			s.answered()
			defer s.done()
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				r.i = 0
				resp.Body = io.NopCloser(r)
				body := watch(resp, a, h, st, s, func() {})
				for {
					if _, err := body.Read(buf); err != nil {
						break
					}
				}
				body.Close()
			}
		})
	}
}
