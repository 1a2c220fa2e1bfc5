package usage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/usage"
)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// open opens the history at path with clk, failing t on an error.
func open(t *testing.T, path string, clk *clock) *usage.Recorder {
	t.Helper()
	r, err := usage.Open(path, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ptr(v float64) *float64 { return &v }

// b builds an expected bucket.
func b(start time.Time, account string, requests, rateLimited, errs int64, five, seven *float64) control.UsageBucket {
	return control.UsageBucket{Start: start, Account: account, Requests: requests, RateLimited: rateLimited, Errors: errs, FiveHourPeak: five, SevenDayPeak: seven}
}

// checkBuckets compares buckets, times by instant, peaks by value.
func checkBuckets(t *testing.T, got, want []control.UsageBucket) {
	t.Helper()
	str := func(bs []control.UsageBucket) string {
		var sb strings.Builder
		for _, b := range bs {
			p := func(f *float64) string {
				if f == nil {
					return "nil"
				}
				return fmt.Sprint(*f)
			}
			fmt.Fprintf(&sb, "\n  %s %s req=%d rl=%d err=%d extra=%d tok=%d/%d/%d/%d 5h=%s 7d=%s",
				b.Start.UTC().Format(time.RFC3339), b.Account+b.Token+"/"+b.Label, b.Requests, b.RateLimited, b.Errors, b.ExtraUsageRequests,
				b.InputTokens, b.OutputTokens, b.CacheReadTokens, b.CacheCreationTokens, p(b.FiveHourPeak), p(b.SevenDayPeak))
		}
		return sb.String()
	}
	if got == nil {
		t.Errorf("buckets = nil, want a list")
	}
	if g, w := str(got), str(want); g != w {
		t.Errorf("buckets:%s\nwant:%s", g, w)
	}
}

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func TestAnswered(t *testing.T) {
	tests := []struct {
		name   string
		status int
		five   float64
		seven  float64
		want   control.UsageBucket
	}{
		{"ok", 200, -1, -1, b(t0, "a", 1, 0, 0, nil, nil)},
		{"redirect", 304, -1, -1, b(t0, "a", 1, 0, 0, nil, nil)},
		{"rate limited", 429, 1.02, 0.5, b(t0, "a", 1, 1, 0, ptr(1.02), ptr(0.5))},
		{"overloaded", 529, -1, -1, b(t0, "a", 1, 1, 0, nil, nil)},
		{"client error", 400, 0, -1, b(t0, "a", 1, 0, 1, ptr(0), nil)},
		{"unauthorized", 401, -1, 0.25, b(t0, "a", 1, 0, 1, nil, ptr(0.25))},
		{"server error", 500, -1, -1, b(t0, "a", 1, 0, 1, nil, nil)},
		{"connection failure", 0, -1, -1, b(t0, "a", 1, 0, 1, nil, nil)},
		{"not numbers", 200, math.NaN(), math.Inf(1), b(t0, "a", 1, 0, 0, nil, nil)},
		{"minus infinity", 200, math.Inf(-1), -0.5, b(t0, "a", 1, 0, 0, nil, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: t0.Add(30 * time.Minute)}
			r := open(t, filepath.Join(t.TempDir(), "usage.json"), clk)
			r.Answered("a", tt.status, tt.five, tt.seven)
			checkBuckets(t, r.QueryIn(t0, control.StepHour, time.UTC).Buckets, []control.UsageBucket{tt.want})
		})
	}
}

func TestPeaksAndTokens(t *testing.T) {
	clk := &clock{t: t0}
	r := open(t, filepath.Join(t.TempDir(), "usage.json"), clk)
	r.Answered("a", 200, 0.3, -1)
	r.Answered("a", 200, 0.7, 0.2)
	r.Answered("a", 200, 0.5, -1) // lower: the peak stays
	r.Answered("a", 200, -1, 0.1)
	r.Tokens("a", "", usage.Tokens{Input: 1, Output: 2, CacheRead: 3, CacheCreation: 4})
	r.Tokens("a", "", usage.Tokens{Input: 10, Output: 20, CacheRead: 30, CacheCreation: 40})
	r.Tokens("b", "", usage.Tokens{}) // nothing: no bucket for b
	r.Tokens("c", "", usage.Tokens{Output: 5})

	want := b(t0, "a", 4, 0, 0, ptr(0.7), ptr(0.2))
	want.InputTokens, want.OutputTokens, want.CacheReadTokens, want.CacheCreationTokens = 11, 22, 33, 44
	wantC := b(t0, "c", 0, 0, 0, nil, nil)
	wantC.OutputTokens = 5
	checkBuckets(t, r.QueryIn(t0, control.StepHour, time.UTC).Buckets, []control.UsageBucket{want, wantC})
}

func TestQueryHours(t *testing.T) {
	clk := &clock{t: t0.Add(5 * time.Minute)}
	r := open(t, filepath.Join(t.TempDir(), "usage.json"), clk)
	r.Answered("work", 200, -1, -1)
	r.Answered("personal", 200, -1, -1)
	clk.set(t0.Add(time.Hour + 59*time.Minute))
	r.Answered("work", 429, -1, -1)
	clk.set(t0.Add(3 * time.Hour))
	r.Answered("work", 200, -1, -1)
	// An answer timed before one already recorded (a clock step back).
	clk.set(t0.Add(time.Hour))
	r.Answered("personal", 500, -1, -1)
	r.Answered("work", 200, -1, -1)
	clk.set(t0.Add(3*time.Hour + time.Minute))
	r.Answered("work", 200, -1, -1)
	r.Answered("personal", 200, -1, -1)

	all := []control.UsageBucket{
		b(t0, "personal", 1, 0, 0, nil, nil),
		b(t0, "work", 1, 0, 0, nil, nil),
		b(t0.Add(time.Hour), "personal", 1, 0, 1, nil, nil),
		b(t0.Add(time.Hour), "work", 2, 1, 0, nil, nil),
		b(t0.Add(3*time.Hour), "personal", 1, 0, 0, nil, nil),
		b(t0.Add(3*time.Hour), "work", 2, 0, 0, nil, nil),
	}
	tests := []struct {
		name  string
		since time.Time
		want  []control.UsageBucket
	}{
		{"all", t0.Add(-48 * time.Hour), all},
		{"from the first hour", t0, all},
		{"since inside an hour", t0.Add(time.Hour + 30*time.Minute), all[2:]},
		{"since an hour", t0.Add(3 * time.Hour), all[4:]},
		{"after everything", t0.Add(4 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := r.QueryIn(tt.since, control.StepHour, time.UTC)
			if u.Step != control.StepHour || !u.Since.Equal(tt.since) {
				t.Errorf("step, since = %q, %v, want hour, %v", u.Step, u.Since, tt.since)
			}
			checkBuckets(t, u.Buckets, tt.want)
		})
	}
	t.Run("starts in the location", func(t *testing.T) {
		loc := time.FixedZone("X", 5*3600+1800)
		u := r.QueryIn(t0, control.StepHour, loc)
		if got := u.Buckets[0].Start; got.Location() != loc || !got.Equal(t0) {
			t.Errorf("start = %v, want %v in %v", got, t0, loc)
		}
	})
	t.Run("unknown step", func(t *testing.T) {
		u := r.Query(t0, "week")
		if u.Buckets == nil || len(u.Buckets) != 0 || u.Step != "week" {
			t.Errorf("Query(week) = %+v, want no buckets", u)
		}
	})
}

func TestQueryDaysAcrossDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	utc := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, time.UTC) }
	// Summer time starts on 29 March 2026 at 01:00 UTC (a 23-hour day, from
	// 28 March 23:00 UTC) and ends on 25 October at 01:00 UTC (a 25-hour
	// day, until 25 October 23:00 UTC).
	answers := []struct {
		at      time.Time
		account string
		five    float64
	}{
		{utc(3, 28, 22, 30), "a", 0.1}, // 23:30 CET, 28 March
		{utc(3, 28, 23, 10), "a", 0.2}, // 00:10 CET, 29 March
		{utc(3, 29, 1, 5), "a", 0.9},   // 03:05 CEST
		{utc(3, 29, 21, 59), "a", 0.3}, // 23:59 CEST, 29 March
		{utc(3, 29, 21, 59), "b", -1},
		{utc(3, 29, 22, 0), "a", 0.4},   // 00:00 CEST, 30 March
		{utc(10, 24, 21, 59), "a", 0.5}, // 23:59 CEST, 24 October
		{utc(10, 24, 22, 0), "a", 0.6},  // 00:00 CEST, 25 October
		{utc(10, 25, 1, 30), "a", 0.1},  // 02:30 CET (the second 02:30)
		{utc(10, 25, 22, 59), "a", 0.2}, // 23:59 CET, 25 October
		{utc(10, 25, 23, 0), "a", 0.3},  // 00:00 CET, 26 October
	}
	clk := &clock{}
	r := open(t, filepath.Join(t.TempDir(), "usage.json"), clk)
	for _, a := range answers {
		clk.set(a.at)
		r.Answered(a.account, 200, a.five, -1)
	}
	clk.set(utc(11, 1, 0, 0))

	u := r.QueryIn(day(2026, 3, 1), control.StepDay, loc)
	checkBuckets(t, u.Buckets, []control.UsageBucket{
		b(day(2026, 3, 28), "a", 1, 0, 0, ptr(0.1), nil),
		b(day(2026, 3, 29), "a", 3, 0, 0, ptr(0.9), nil),
		b(day(2026, 3, 29), "b", 1, 0, 0, nil, nil),
		b(day(2026, 3, 30), "a", 1, 0, 0, ptr(0.4), nil),
		b(day(2026, 10, 24), "a", 1, 0, 0, ptr(0.5), nil),
		b(day(2026, 10, 25), "a", 3, 0, 0, ptr(0.6), nil),
		b(day(2026, 10, 26), "a", 1, 0, 0, ptr(0.3), nil),
	})
	for _, bk := range u.Buckets {
		if h, m, s := bk.Start.Clock(); h != 0 || m != 0 || s != 0 || bk.Start.Location() != loc {
			t.Errorf("day start %v is not local midnight", bk.Start)
		}
	}
	// since anywhere in a day selects the whole day.
	u = r.QueryIn(utc(3, 29, 20, 0), control.StepDay, loc)
	if len(u.Buckets) < 2 || !u.Buckets[0].Start.Equal(day(2026, 3, 29)) || u.Buckets[0].Requests != 3 {
		t.Errorf("from 29 March 22:00 CEST: first bucket %+v, want all of 29 March", u.Buckets)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	clk := &clock{t: t0.Add(10 * time.Minute)}
	r := open(t, path, clk)
	r.Answered("work", 200, 0.25, 0.125)
	r.Tokens("work", "", usage.Tokens{Input: 100, Output: 50, CacheRead: 1000, CacheCreation: 10})
	clk.add(time.Hour)
	r.Answered("personal", 429, -1, -1)
	r.Answered("work", 0, -1, -1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %v, want 0600", got)
	}
	data, _ := os.ReadFile(path)
	var doc struct {
		Version int              `json:"version"`
		Hours   []map[string]any `json:"hours"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("file is not JSON: %v\n%s", err, data)
	}
	if doc.Version != 1 || len(doc.Hours) != 3 {
		t.Errorf("file has version %d and %d hours, want 1 and 3:\n%s", doc.Version, len(doc.Hours), data)
	}
	if got, want := strings.Count(string(data), "\n"), 5; got != want {
		t.Errorf("file has %d lines, want %d (one per hour):\n%s", got, want, data)
	}
	first := `{"start":"2026-11-26T09:00:00Z","account":"work","requests":1,"input_tokens":100,"output_tokens":50,"cache_read_input_tokens":1000,"cache_creation_input_tokens":10,"five_hour_peak":0.25,"seven_day_peak":0.125}`
	if !strings.Contains(string(data), "\n"+first+",\n") {
		t.Errorf("file does not hold the line\n%s\n%s", first, data)
	}

	want := r.QueryIn(t0, control.StepHour, time.UTC).Buckets
	r2 := open(t, path, clk)
	checkBuckets(t, r2.QueryIn(t0, control.StepHour, time.UTC).Buckets, want)

	// Counting goes on from the loaded current hour.
	r2.Answered("work", 200, -1, 0.5)
	want[2].Requests++
	want[2].SevenDayPeak = ptr(0.5)
	checkBuckets(t, r2.QueryIn(t0, control.StepHour, time.UTC).Buckets, want)
}

// Answers billed to extra usage are counted per hour and day, and kept.
func TestExtraUsage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	clk := &clock{t: t0.Add(10 * time.Minute)}
	r := open(t, path, clk)
	for range 3 {
		r.Answered("work", 200, -1, -1)
	}
	r.ExtraUsage("work")
	r.ExtraUsage("work")
	clk.add(time.Hour)
	r.Answered("work", 200, -1, -1)
	r.ExtraUsage("work")
	want := []control.UsageBucket{b(t0, "work", 3, 0, 0, nil, nil), b(t0.Add(time.Hour), "work", 1, 0, 0, nil, nil)}
	want[0].ExtraUsageRequests, want[1].ExtraUsageRequests = 2, 1
	checkBuckets(t, r.QueryIn(t0, control.StepHour, time.UTC).Buckets, want)
	day := b(t0.Truncate(24*time.Hour), "work", 4, 0, 0, nil, nil)
	day.ExtraUsageRequests = 3
	checkBuckets(t, r.QueryIn(t0, control.StepDay, time.UTC).Buckets, []control.UsageBucket{day})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"extra_usage_requests":2`) {
		t.Errorf("file lacks the count:\n%s", data)
	}
	checkBuckets(t, open(t, path, clk).QueryIn(t0, control.StepHour, time.UTC).Buckets, want)
}

func TestLoadMergesDuplicates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	content := `{"version":1,"hours":[
{"start":"2026-11-26T09:00:00Z","account":"a","requests":2,"five_hour_peak":0.5},
{"start":"2026-11-26T10:00:00+01:00","account":"a","requests":3,"errors":1,"five_hour_peak":0.25,"seven_day_peak":-1},
{"start":"2026-11-26T09:30:00Z","account":"a","requests":1,"unknown":true}
]}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := open(t, path, &clock{t: t0})
	checkBuckets(t, r.QueryIn(t0, control.StepHour, time.UTC).Buckets, []control.UsageBucket{b(t0, "a", 6, 0, 1, ptr(0.5), nil)})
}

func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	clk := &clock{t: t0}
	r := open(t, path, clk)
	r.Answered("old", 200, -1, -1) // hour t0
	clk.add(time.Hour)
	r.Answered("kept", 200, -1, -1) // hour t0+1h
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	// The hour of "old" ended exactly 90 days ago; the next one 1h later.
	clk.set(t0.Add(control.UsageRetention + time.Hour))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []control.UsageBucket{b(t0.Add(time.Hour), "kept", 1, 0, 0, nil, nil)}
	checkBuckets(t, r.QueryIn(t0.Add(-time.Hour), control.StepHour, time.UTC).Buckets, want)
	checkBuckets(t, open(t, path, clk).QueryIn(t0.Add(-time.Hour), control.StepHour, time.UTC).Buckets, want)

	clk.add(time.Hour)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	checkBuckets(t, open(t, path, clk).QueryIn(t0, control.StepHour, time.UTC).Buckets, nil)

	// Recording still works after everything was pruned.
	r.Answered("new", 200, -1, -1)
	checkBuckets(t, r.QueryIn(t0, control.StepHour, time.UTC).Buckets,
		[]control.UsageBucket{b(t0.Add(control.UsageRetention+2*time.Hour), "new", 1, 0, 0, nil, nil)})
}

func TestFlushOnlyWhenChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	clk := &clock{t: t0}
	r := open(t, path, clk)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an empty history was written (stat: %v)", err)
	}
	r.Answered("a", 200, -1, -1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an unchanged history was written again (stat: %v)", err)
	}
	r.Tokens("a", "", usage.Tokens{Input: 1})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a changed history was not written: %v", err)
	}
}

func TestFlushFailureIsRetried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usage.json")
	r := open(t, path, &clock{t: t0})
	r.Answered("a", 200, -1, -1)
	// A directory where the file should be makes the rename fail.
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Flush onto a directory: err = %v, want one naming %s", err, path)
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the history was not written after the failure: %v", err)
	}
}

func TestCorruptFile(t *testing.T) {
	tests := []struct {
		name, content, wantMsg string
	}{
		{"empty", "", "unexpected end"},
		{"not json", "hours = 3", "invalid character"},
		{"truncated", `{"version":1,"hours":[{"start":"2026-11-26T09:00:00Z",`, "unexpected end"},
		{"no version", `{"hours":[]}`, "version 0"},
		{"newer version", `{"version":2,"hours":[]}`, "version 2"},
		{"no account", `{"version":1,"hours":[{"start":"2026-11-26T09:00:00Z","requests":1}]}`, "hours[0]: no account"},
		{"no start", `{"version":1,"hours":[{"account":"a"}]}`, "hours[0]: no start"},
		{"bad start", `{"version":1,"hours":[{"start":"today","account":"a"}]}`, "hours[0]"},
		{"bad counter", `{"version":1,"hours":[{"start":"2026-11-26T09:00:00Z","account":"a","requests":"many"}]}`, "hours[0]"},
		{"negative counter", `{"version":1,"hours":[{"start":"2026-11-26T09:00:00Z","account":"a","requests":-9223372036854775808}]}`, "hours[0]: a negative count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "usage.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := usage.Open(path, nil)
			if !errors.Is(err, usage.ErrCorrupt) || r != nil {
				t.Fatalf("Open = %v, %v, want nil and ErrCorrupt", r, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to name %s and say %q", err, path, tt.wantMsg)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("the corrupt file changed to %q", got)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		path := t.TempDir() // a directory
		_, err := usage.Open(path, nil)
		if err == nil || errors.Is(err, usage.ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(directory) err = %v, want a read error naming it", err)
		}
	})
}

func TestMemoryNeverWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	good := []byte(`{"version":1,"hours":[]}`)
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)}
	r := usage.Memory(path, clk.now)
	r.Answered("a", 200, -1, -1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
		t.Errorf("file = %q, want it untouched: it was only unreadable, maybe fine", got)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d files, want only usage.json (nothing moved aside)", len(ents))
	}
	if got := r.QueryIn(clk.now().Add(-time.Hour), control.StepHour, time.UTC).Buckets; len(got) != 1 || got[0].Requests != 1 {
		t.Errorf("buckets = %+v, want the request counted in memory", got)
	}
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usage.json")
	corrupt := []byte("{\"version\":1,\"hours\":[ garbage")
	if err := os.WriteFile(path, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)}
	r := usage.Replace(path, clk.now)
	var logs bytes.Buffer
	r.Log = slog.New(slog.NewTextHandler(&logs, nil))
	r.Answered("a", 200, -1, -1)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, corrupt) {
		t.Fatalf("the corrupt file changed before the first write: %q", got)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	aside := path + ".corrupt-20261126T093000Z"
	if got, err := os.ReadFile(aside); err != nil || !bytes.Equal(got, corrupt) {
		t.Errorf("%s = %q, %v, want the corrupt content", aside, got, err)
	}
	checkBuckets(t, open(t, path, clk).QueryIn(t0, control.StepHour, time.UTC).Buckets,
		[]control.UsageBucket{b(t0, "a", 1, 0, 0, nil, nil)})
	if !strings.Contains(logs.String(), "component=usage") || !strings.Contains(logs.String(), aside) {
		t.Errorf("log %q does not report the file moved aside to %s", logs.String(), aside)
	}

	// Later writes replace the new file only.
	clk.add(time.Minute)
	r.Answered("a", 200, -1, -1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"usage.json", "usage.json.corrupt-20261126T093000Z"}; !reflect.DeepEqual(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
	if got := open(t, path, clk).QueryIn(t0, control.StepHour, time.UTC).Buckets; len(got) != 1 || got[0].Requests != 2 {
		t.Errorf("buckets after the second write = %+v, want 2 requests", got)
	}
}

func TestReplaceWithoutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	r := usage.Replace(path, (&clock{t: t0}).now)
	r.Answered("a", 200, -1, -1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "usage.json")
		r, err := usage.Open(path, nil) // the bubble's clock
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Serve(ctx) }()

		r.Answered("a", 200, -1, -1)
		time.Sleep(usage.FlushInterval - time.Second)
		synctest.Wait()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("written before a minute passed (stat: %v)", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := requests(t, path); got != 1 {
			t.Fatalf("after a minute the file counts %d requests, want 1", got)
		}

		r.Answered("a", 500, -1, -1)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if got := requests(t, path); got != 2 {
			t.Errorf("after Serve ended the file counts %d requests, want 2", got)
		}
	})
}

// requests sums the requests in the history file at path.
func requests(t *testing.T, path string) int64 {
	t.Helper()
	r, err := usage.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range r.QueryIn(time.Time{}, control.StepHour, time.UTC).Buckets {
		n += b.Requests
	}
	return n
}

func TestConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	clk := &clock{t: t0}
	r := open(t, path, clk)
	const workers, each = 8, 500
	accounts := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				acct := accounts[(w+i)%len(accounts)]
				r.Answered(acct, []int{200, 429, 500}[i%3], float64(i)/each, -1)
				r.Tokens(acct, "", usage.Tokens{Input: 1, Output: 2})
			}
		})
	}
	stop := make(chan struct{})
	var side sync.WaitGroup
	side.Go(func() { // the hour changes while answers arrive
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%50 == 0 {
				clk.add(10 * time.Minute)
			}
			r.Query(t0, control.StepDay)
			if err := r.Flush(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	side.Wait()

	var req, rl, errs, in, out int64
	for _, b := range r.QueryIn(t0, control.StepHour, time.UTC).Buckets {
		req, rl, errs, in, out = req+b.Requests, rl+b.RateLimited, errs+b.Errors, in+b.InputTokens, out+b.OutputTokens
	}
	const n = workers * each
	if req != n || in != n || out != 2*n {
		t.Errorf("requests, input, output = %d, %d, %d, want %d, %d, %d", req, in, out, n, n, 2*n)
	}
	var failed int64
	for i := range each {
		if i%3 != 0 {
			failed += workers
		}
	}
	if rl+errs != failed {
		t.Errorf("rate limited + errors = %d, want %d", rl+errs, failed)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := requests(t, path); got != n {
		t.Errorf("file counts %d requests, want %d", got, n)
	}
}
