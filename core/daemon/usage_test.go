package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/usage"
)

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stop ends h's daemon and waits for Serve, leaving its result for the
// harness's cleanup.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	err := <-h.done
	h.done <- err
}

func TestUsageHistory(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	ctx := context.Background()
	path := filepath.Join(filepath.Dir(h.cfg), "usage.json")
	// What the proxy reports for each upstream answer.
	h.d.usage.Answered("default", 200, 0.25, 0.5)
	h.d.usage.Answered("default", 429, 1.01, -1)
	h.d.usage.Tokens("default", "", usage.Tokens{Input: 10, Output: 20, CacheRead: 30, CacheCreation: 40})
	h.d.usage.Answered("gone", 0, -1, -1)

	check := func(t *testing.T, bs []control.UsageBucket, start time.Time) {
		t.Helper()
		if len(bs) != 2 {
			t.Fatalf("buckets = %+v, want default and gone", bs)
		}
		d, g := bs[0], bs[1]
		if d.Account != "default" || d.Requests != 2 || d.RateLimited != 1 || d.Errors != 0 ||
			d.InputTokens != 10 || d.OutputTokens != 20 || d.CacheReadTokens != 30 || d.CacheCreationTokens != 40 ||
			d.FiveHourPeak == nil || *d.FiveHourPeak != 1.01 || d.SevenDayPeak == nil || *d.SevenDayPeak != 0.5 {
			t.Errorf("bucket = %+v, want default: 2 requests, 1 rate limited, tokens 10/20/30/40, peaks 1.01 and 0.5", d)
		}
		if g.Account != "gone" || g.Requests != 1 || g.Errors != 1 || g.FiveHourPeak != nil {
			t.Errorf("bucket = %+v, want gone: 1 request, 1 error, no peak", g)
		}
		for _, b := range bs {
			if !b.Start.Equal(start) {
				t.Errorf("%s starts %v, want %v", b.Account, b.Start, start)
			}
		}
	}
	now := time.Now()
	u, err := h.client.Usage(ctx, now.Add(-time.Hour), control.StepHour)
	if err != nil {
		t.Fatal(err)
	}
	// Answers recorded just before an hour began are in the previous one.
	if len(u.Buckets) > 0 && u.Buckets[0].Start.Before(now.Truncate(time.Hour)) {
		now = now.Add(-time.Hour)
	}
	check(t, u.Buckets, now.Truncate(time.Hour))

	u, err = h.client.Usage(ctx, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := time.Now().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	if u.Step != control.StepDay || !u.Since.Equal(today.AddDate(0, 0, -6)) {
		t.Errorf("default step, since = %q, %v, want day, %v", u.Step, u.Since, today.AddDate(0, 0, -6))
	}
	if len(u.Buckets) > 0 && u.Buckets[0].Start.Before(today) { // recorded just before midnight
		today = today.AddDate(0, 0, -1)
	}
	check(t, u.Buckets, today)

	if _, err := h.client.Usage(ctx, time.Time{}, "month"); !errors.Is(err, control.ErrInvalid) {
		t.Errorf("Usage(step month) err = %v, want ErrInvalid", err)
	}

	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("history written while running, before a minute passed (stat: %v)", err)
	}
	h.stop(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no history after shutdown: %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %v, want 0600", got)
	}

	// A new daemon over the same data directory serves the saved history.
	d2, err := New(Options{ConfigPath: h.cfg, Home: h.home, Getenv: func(string) string { return "" }, Logger: h.d.o.Logger})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.pool.Close()
	check(t, d2.Usage(now.Add(-time.Hour), control.StepHour, control.UsageByAccount).Buckets, now.Truncate(time.Hour))
}

func TestCorruptUsageHistory(t *testing.T) {
	logs := &logBuffer{}
	corrupt := []byte(`{"version":1,"hours":[{"start":`)
	var path string
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
		path = filepath.Join(filepath.Dir(h.cfg), "usage.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, corrupt, 0o600); err != nil {
			t.Fatal(err)
		}
		h.log = logs
	})
	if got := logs.String(); !strings.Contains(got, "usage history is corrupt") || !strings.Contains(got, path) {
		t.Errorf("log does not warn of the corrupt file %s:\n%s", path, got)
	}
	u, err := h.client.Usage(context.Background(), time.Time{}, control.StepHour)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Buckets) != 0 {
		t.Errorf("buckets = %+v, want none", u.Buckets)
	}
	h.d.usage.Answered("default", 200, -1, -1)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, corrupt) {
		t.Fatalf("the corrupt file changed before the first save: %q", got)
	}

	h.stop(t)
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("files moved aside = %v, want one", aside)
	}
	if got, _ := os.ReadFile(aside[0]); !bytes.Equal(got, corrupt) {
		t.Errorf("%s = %q, want the corrupt content", aside[0], got)
	}
	rec, err := usage.Open(path, nil)
	if err != nil {
		t.Fatalf("the new history does not load: %v", err)
	}
	if bs := rec.Query(time.Now().Add(-2*time.Hour), control.StepHour).Buckets; len(bs) != 1 || bs[0].Requests != 1 {
		t.Errorf("new history = %+v, want one request", bs)
	}
	if got := logs.String(); !strings.Contains(got, "component=usage") || !strings.Contains(got, aside[0]) {
		t.Errorf("log does not say where the corrupt file went (%s):\n%s", aside[0], got)
	}
}

// TestStopCountsTokensOfCutStreams: a stream still running when the daemon
// stops is cut after the grace period; the tokens Anthropic reported in it
// so far (message_start's input tokens) still reach the saved history.
func TestStopCountsTokensOfCutStreams(t *testing.T) {
	logs := &logBuffer{}
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
		h.grace = 200 * time.Millisecond
		h.log = logs
	})
	h.fake.Events = 100
	h.fake.StreamDelay = 100 * time.Millisecond // a ten-second answer
	client := h.issue(t)

	req, _ := http.NewRequest("POST", h.base+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+client)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 64)
	if _, err := io.ReadAtLeast(resp.Body, first, len(first)); err != nil {
		t.Fatalf("reading the start of the stream: %v", err)
	}

	began := time.Now()
	h.stop(t)
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("stopping took %v with a stream running, want about the grace period", took)
	}
	if !strings.Contains(logs.String(), "closing them") {
		t.Errorf("log does not say requests were cut:\n%s", logs)
	}
	rec, err := usage.Open(filepath.Join(filepath.Dir(h.cfg), "usage.json"), nil)
	if err != nil {
		t.Fatalf("reading the saved history: %v", err)
	}
	bs := rec.Query(time.Now().Add(-2*time.Hour), control.StepHour).Buckets
	var in int64
	for _, b := range bs {
		in += b.InputTokens
	}
	if in != 10 {
		t.Errorf("saved input tokens = %d, want the 10 of the cut stream's message_start; buckets %+v", in, bs)
	}
}
