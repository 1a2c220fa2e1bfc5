package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play the helper roles, as the bench
// program does when it re-executes itself.
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		if err := runRole(context.Background(), role, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuickRun runs the whole benchmark in -quick mode against a freshly
// built daemon and checks that the report is complete. It checks no
// performance target: a timed unit test is no source of a performance claim.
func TestQuickRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the benchmark reads /proc")
	}
	if testing.Short() {
		t.Skip("builds the daemon and runs for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := defaultOptions().quick()
	o.MaxRouter = filepath.Join(t.TempDir(), "maxrouter")
	if err := buildDaemon(ctx, o.MaxRouter); err != nil {
		t.Fatal(err)
	}
	o.Command = "go run ./core/bench -quick"
	res, err := run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}

	if got, want := len(res.Rows), len(rows()); got != want {
		t.Fatalf("rows: got %d, want %d", got, want)
	}
	for _, r := range res.Rows {
		if got, want := len(r.Targets), 4; got != want {
			t.Fatalf("%s: got %d targets, want %d", r.Name, got, want)
		}
		for _, tg := range r.Targets {
			name := r.Name + " via " + tg.Target
			positive(t, name+": req/s", tg.RPS)
			positive(t, name+": p50", tg.P50)
			positive(t, name+": p99", tg.P99)
			positive(t, name+": upstream CPU", tg.UpstreamCPU)
			if r.Stream {
				positive(t, name+": first event p50", tg.FirstP50)
			}
			if r.Paced {
				positive(t, name+": event delay p50", tg.EventP50)
			}
			if tg.Target != targetDirect {
				positive(t, name+": proxy CPU", tg.ProxyCPU)
			}
			// The plain ReverseProxy drops some streams (golang/go#40747);
			// the fake and MaxRouter must answer every request.
			if tg.Target != targetPlain && tg.Errors > 0 {
				t.Errorf("%s: %d errors, first: %s", name, tg.Errors, tg.FirstErr)
			}
		}
	}
	if got, want := len(res.Procs), 4; got != want {
		t.Fatalf("procs: got %d, want %d", got, want)
	}
	for _, p := range res.Procs {
		positive(t, p.Name+": idle RSS", float64(p.IdleRSS))
		positive(t, p.Name+": RSS", float64(p.RSS))
		positive(t, p.Name+": peak RSS", float64(p.PeakRSS))
		positive(t, p.Name+": CPU", p.CPUSeconds)
	}
	if got, want := len(res.Verdicts), 6; got != want {
		t.Errorf("verdicts: got %d, want %d: %+v", got, want, res.Verdicts)
	}

	var md bytes.Buffer
	writeMarkdown(&md, res)
	out := md.String()
	for _, want := range []string{"`go run ./core/bench -quick`", "| 64 | 64 KiB | MaxRouter |", "| 1 | plain ReverseProxy |", "| 1 | TCP relay |", "| TCP relay (no HTTP) |", "| MaxRouter daemon |", "daemon idle RSS", "a TCP relay with no HTTP: stream/64c/small"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if got, want := strings.Count(out, "| MaxRouter |"), len(rows()); got != want {
		t.Errorf("markdown has %d MaxRouter rows, want %d:\n%s", got, want, out)
	}
}

func positive(t *testing.T, what string, v float64) {
	t.Helper()
	if !(v > 0) {
		t.Errorf("%s: got %v, want > 0", what, v)
	}
}

func TestRowBody(t *testing.T) {
	for _, r := range rows() {
		t.Run(r.String(), func(t *testing.T) {
			b := r.body()
			if r.Body == bigBody && len(b) != bigBody {
				t.Errorf("size: got %d, want %d", len(b), bigBody)
			}
			if r.Body == smallBody && (len(b) < 200 || len(b) > 400) {
				t.Errorf("size: got %d, want about %d", len(b), smallBody)
			}
			want := `"stream":false`
			if r.Stream {
				want = `"stream":true`
			}
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("body lacks %s: %.120s", want, b)
			}
		})
	}
}

func TestReadStream(t *testing.T) {
	event := func(name string) string { return "event: " + name + "\ndata: {}\n\n" }
	full := func(stamp string) string {
		var b strings.Builder
		names := []string{"message_start", "content_block_start", "ping"}
		for range events {
			names = append(names, "content_block_delta")
		}
		names = append(names, "content_block_stop", "message_delta", "message_stop")
		for _, n := range names {
			b.WriteString(stamp)
			b.WriteString(event(n))
		}
		return b.String()
	}
	sent := time.Now().Add(-3 * time.Millisecond).UnixNano()
	stamp := stampPrefix + strconv.FormatInt(sent, 10) + "\n"
	tests := []struct {
		name       string
		in         string
		stamped    bool
		wantErr    bool
		wantDelays int
	}{
		{"whole stream", full(""), false, false, 0},
		{"stamped", full(stamp), true, false, wantEvents},
		{"stamps ignored when not asked", full(stamp), false, false, 0},
		{"cut short", full("")[:200], false, true, 0},
		{"stamps missing", full(""), true, true, 0},
		{"error event at the end", strings.Replace(full(""), "event: message_stop", "event: error", 1), false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, delays, err := readStream(strings.NewReader(tt.in), time.Now(), tt.stamped)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err: got %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := len(delays); got != tt.wantDelays {
				t.Errorf("delays: got %d, want %d", got, tt.wantDelays)
			}
			for _, d := range delays {
				if d < 3*time.Millisecond {
					t.Errorf("delay: got %v, want at least 3ms", d)
				}
			}
			if s.first <= 0 || s.total < s.first {
				t.Errorf("times: got first %v total %v", s.first, s.total)
			}
		})
	}
}

func TestQuantileMedian(t *testing.T) {
	ds := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, m := range ms {
			out = append(out, time.Duration(m)*time.Millisecond)
		}
		return out
	}
	qs := []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{ds(5, 1, 3, 2, 4), 0.5, 3 * time.Millisecond},
		{ds(5, 1, 3, 2, 4), 0.99, 5 * time.Millisecond},
		{ds(7), 0.99, 7 * time.Millisecond},
		{nil, 0.5, 0},
	}
	for _, tt := range qs {
		if got := quantile(tt.in, tt.q); got != tt.want {
			t.Errorf("quantile(%v, %v): got %v, want %v", tt.in, tt.q, got, tt.want)
		}
	}
	ms := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{nil, 0},
	}
	for _, tt := range ms {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
}
