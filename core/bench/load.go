package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// row is one line of the benchmark matrix.
type row struct {
	Stream  bool
	Paced   bool // streamed with pace between events, time-stamped
	Clients int
	Body    int // request body size in bytes (approximate for the small one)
}

// rows is the matrix: non-streaming and streaming, 1 and 64 clients, small
// and 64 KiB bodies, then paced streams for the per-event delay.
func rows() []row {
	var rs []row
	for _, stream := range []bool{false, true} {
		for _, c := range []int{1, 64} {
			for _, b := range []int{smallBody, bigBody} {
				rs = append(rs, row{Stream: stream, Clients: c, Body: b})
			}
		}
	}
	return append(rs, row{Stream: true, Paced: true, Clients: 1, Body: smallBody}, row{Stream: true, Paced: true, Clients: 64, Body: smallBody})
}

const (
	smallBody = 300
	bigBody   = 64 << 10
)

func (r row) String() string {
	kind := "non-streaming"
	switch {
	case r.Paced:
		kind = "paced stream"
	case r.Stream:
		kind = "streaming"
	}
	return fmt.Sprintf("%s, %d client%s, %s body", kind, r.Clients, plural(r.Clients), sizeName(r.Body))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// body is the request body of a row: a Messages API request as Claude Code
// sends it, its user message padded to the row's size.
func (r row) body() []byte {
	build := func(pad int) []byte {
		return fmt.Appendf(nil, `{"model":"claude-sonnet-4-5-20250929","max_tokens":1024,"stream":%t,"system":"You are a helpful assistant.","metadata":{"user_id":"bench"},"messages":[{"role":"user","content":"Summarise the attached notes in three bullet points.%s"}]}`, r.Stream, strings.Repeat(" lorem ipsum", pad/12+1)[:pad])
	}
	b := build(0)
	if pad := r.Body - len(b); pad > 0 {
		b = build(pad)
	}
	return b
}

// wantEvents is how many SSE events a complete stream carries.
const wantEvents = events + 6

// sample is one request as the client saw it.
type sample struct {
	total time.Duration // to the full answer / the last event
	first time.Duration // to the first complete event (streams)
}

// load is what one measured run of a target produced.
type load struct {
	requests int
	errors   int
	firstErr string
	elapsed  time.Duration
	samples  []sample
	delays   []time.Duration // per event, paced streams: arrival minus send time
}

// client is the load generator's HTTP client for one target: keep-alive
// connections for every concurrent client.
func newClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// drive runs r.Clients clients against base for d, each sending requests
// back to back. Requests started before the deadline are waited for.
func drive(ctx context.Context, c *http.Client, base, secret string, r row, d time.Duration) load {
	body := r.body()
	url := base + "/v1/messages"
	start := time.Now()
	deadline := start.Add(d)
	per := make([]load, r.Clients)
	var wg sync.WaitGroup
	for i := range per {
		wg.Go(func() {
			l := &per[i]
			session := fmt.Sprintf("bench-session-%02d", i)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				s, delays, err := once(ctx, c, url, secret, session, body, r)
				l.requests++
				if err != nil {
					l.errors++
					if l.firstErr == "" {
						l.firstErr = err.Error()
					}
					continue
				}
				l.samples = append(l.samples, s)
				l.delays = append(l.delays, delays...)
			}
		})
	}
	wg.Wait()
	out := load{elapsed: time.Since(start)}
	for _, l := range per {
		out.requests += l.requests
		out.errors += l.errors
		if out.firstErr == "" {
			out.firstErr = l.firstErr
		}
		out.samples = append(out.samples, l.samples...)
		out.delays = append(out.delays, l.delays...)
	}
	return out
}

// once sends one request and reads the whole answer.
func once(ctx context.Context, c *http.Client, url, secret, session string, body []byte, r row) (sample, []time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return sample{}, nil, err
	}
	setClientHeaders(req.Header, secret, session)
	if r.Paced {
		req.Header.Set(paceHeader, "1")
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return sample{}, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return sample{}, nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if !r.Stream {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return sample{}, nil, err
		}
		if !bytes.Contains(b, []byte(`"type":"message"`)) {
			return sample{}, nil, fmt.Errorf("not a message: %.200s", b)
		}
		return sample{total: time.Since(start)}, nil, nil
	}
	return readStream(resp.Body, start, r.Paced)
}

// setClientHeaders sets the headers Claude Code sends with a request:
// its client token (when secret is set), API version, beta list and
// session.
func setClientHeaders(h http.Header, secret, session string) {
	h.Set("Content-Type", "application/json")
	if secret != "" {
		h.Set("Authorization", "Bearer "+secret)
	}
	h.Set("Anthropic-Version", "2023-06-01")
	h.Set("Anthropic-Beta", "claude-code-20250219")
	h.Set("X-Claude-Code-Session-Id", session)
}

// readStream reads an event stream to its end, timing the first and the
// last event and, when stamped, each event's delay since it was sent.
func readStream(body io.Reader, start time.Time, stamped bool) (sample, []time.Duration, error) {
	var s sample
	var delays []time.Duration
	if stamped {
		delays = make([]time.Duration, 0, wantEvents)
	}
	br := bufio.NewReaderSize(body, 4096)
	n := 0
	var sent int64 // send time of the event being read, from its stamp
	var last []byte
	inEvent := false
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			switch {
			case len(bytes.TrimRight(line, "\r\n")) == 0:
				if inEvent {
					now := time.Now()
					n++
					if n == 1 {
						s.first = now.Sub(start)
					}
					s.total = now.Sub(start)
					if sent != 0 {
						delays = append(delays, time.Duration(now.UnixNano()-sent))
						sent = 0
					}
					inEvent = false
				}
			case stamped && bytes.HasPrefix(line, []byte(stampPrefix)):
				v, perr := strconv.ParseInt(string(bytes.TrimSpace(line[len(stampPrefix):])), 10, 64)
				if perr == nil {
					sent = v
				}
			default:
				inEvent = true
				if bytes.HasPrefix(line, []byte("event: ")) {
					last = append(last[:0], line...)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return sample{}, nil, err
		}
	}
	if n != wantEvents || !bytes.HasPrefix(last, []byte("event: message_stop")) {
		return sample{}, nil, fmt.Errorf("stream cut short: %d of %d events, last %q", n, wantEvents, bytes.TrimSpace(last))
	}
	if stamped && len(delays) != wantEvents {
		return sample{}, nil, fmt.Errorf("stream lost its time stamps: %d of %d", len(delays), wantEvents)
	}
	return s, delays, nil
}
