package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/usage"
)

// usageNow is the tests' clock: Tue 10 Mar 2026, 12:19 local time.
var usageNow = time.Date(2026, 3, 10, 12, 19, 0, 0, time.Local)

// march is local midnight (plus hours) of the tests' March day d.
func march(d, hour int) time.Time { return time.Date(2026, 3, d, hour, 0, 0, 0, time.Local) }

func fptr(v float64) *float64 { return &v }

// testUsage is a history over two days and two accounts.
func testUsage() control.Usage {
	return control.Usage{Step: control.StepDay, Since: march(4, 0), Buckets: []control.UsageBucket{
		{Start: march(8, 0), Account: "work", Requests: 120, RateLimited: 2, ExtraUsageRequests: 7, InputTokens: 12_300, OutputTokens: 4_500, CacheReadTokens: 1_200_000, FiveHourPeak: fptr(0.42), SevenDayPeak: fptr(0.18)},
		{Start: march(10, 0), Account: "personal", Requests: 87, Errors: 1, FiveHourPeak: fptr(1.04)},
		{Start: march(10, 0), Account: "work", Requests: 1_310, InputTokens: 4_500_000, OutputTokens: 256_000, CacheReadTokens: 999},
	}}
}

// usageSetup writes a configuration whose data directory is a temporary
// one and returns its path and the data directory.
func usageSetup(t *testing.T, listen string) (cfgPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(dir, "config.toml")
	cfg := fmt.Sprintf("listen = %q\ndata_dir = %q\n", listen, dataDir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dataDir
}

// startDaemon serves b's control API as a daemon of the configuration at
// cfgPath would (its listen address, the secret in its data directory)
// and returns that configuration's path.
func startDaemon(t *testing.T, b *controltest.Backend) string {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	cfgPath, dataDir := usageSetup(t, hs.Listener.Addr().String())
	secret, err := control.LoadOrCreateSecret(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(b, secret, slog.New(slog.DiscardHandler))
	srv.Now = func() time.Time { return usageNow }
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(srv.Close)
	return cfgPath
}

// run runs the command line with args at usageNow and returns its stdout
// and stderr.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(&app{version: "test", stdout: &out, stderr: &errOut, now: func() time.Time { return usageNow }})
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestUsageFromDaemon(t *testing.T) {
	b := &controltest.Backend{StatusValue: control.Status{Version: "1.2.3"}, UsageValue: testUsage()}
	cfg := startDaemon(t, b)

	out, errOut, err := run(t, "--config", cfg, "usage")
	if err != nil {
		t.Fatalf("usage: %v (stderr %q)", err, errOut)
	}
	want := `DAY             ACCOUNT   REQUESTS  429s  ERRORS  EXTRA  INPUT  OUTPUT  CACHE READ  5H PEAK  7D PEAK
Sun 2026-03-08  work           120     2       0      7  12.3k    4.5k        1.2M      42%      18%
                total          120     2       0      7  12.3k    4.5k        1.2M
Tue 2026-03-10  personal        87     0       1      0      0       0           0     104%        –
                work          1.3k     0       0      0   4.5M    256k         999        –        –
                total         1.4k     0       1      0   4.5M    256k         999
`
	if out != want {
		t.Errorf("table =\n%s\nwant\n%s", out, want)
	}
	if errOut != "" {
		t.Errorf("stderr = %q, want nothing beside a running daemon", errOut)
	}
	b.Lock()
	calls := b.Usages
	b.Unlock()
	if len(calls) != 1 {
		t.Fatalf("Usage calls = %v, want one", calls)
	}
	if got, want := calls[0], (controltest.UsageCall{Since: march(4, 0), Step: control.StepDay}); !got.Since.Equal(want.Since) || got.Step != want.Step {
		t.Errorf("Usage call = %v, want %v (today and the six days before)", got, want)
	}
}

func TestUsageFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantSince time.Time
		wantStep  string
	}{
		{"days", []string{"--days", "3"}, march(8, 0), control.StepDay},
		{"today by hour", []string{"--days", "1", "--by", "hour"}, march(10, 0), control.StepHour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &controltest.Backend{}
			cfg := startDaemon(t, b)
			if _, errOut, err := run(t, append([]string{"--config", cfg, "usage"}, tt.args...)...); err != nil {
				t.Fatalf("usage: %v (stderr %q)", err, errOut)
			}
			b.Lock()
			defer b.Unlock()
			if len(b.Usages) != 1 {
				t.Fatalf("Usage calls = %v, want one", b.Usages)
			}
			if got := b.Usages[0]; !got.Since.Equal(tt.wantSince) || got.Step != tt.wantStep {
				t.Errorf("Usage call = %v, want since %v step %q", got, tt.wantSince, tt.wantStep)
			}
		})
	}
}

func TestUsageByHour(t *testing.T) {
	b := &controltest.Backend{UsageValue: control.Usage{Step: control.StepHour, Buckets: []control.UsageBucket{
		{Start: march(10, 9), Account: "work", Requests: 12, InputTokens: 3_400, OutputTokens: 560, SevenDayPeak: fptr(0.2)},
		{Start: march(10, 11), Account: "work", Requests: 3},
	}}}
	cfg := startDaemon(t, b)

	out, _, err := run(t, "--config", cfg, "usage", "--by", "hour", "--days", "1")
	if err != nil {
		t.Fatal(err)
	}
	want := `HOUR                  ACCOUNT  REQUESTS  429s  ERRORS  EXTRA  INPUT  OUTPUT  CACHE READ  5H PEAK  7D PEAK
Tue 2026-03-10 09:00  work           12     0       0      0   3.4k     560           0        –      20%
                      total          12     0       0      0   3.4k     560           0
Tue 2026-03-10 11:00  work            3     0       0      0      0       0           0        –        –
                      total           3     0       0      0      0       0           0
`
	if out != want {
		t.Errorf("table =\n%s\nwant\n%s", out, want)
	}
}

func TestUsageJSON(t *testing.T) {
	b := &controltest.Backend{UsageValue: testUsage()}
	cfg := startDaemon(t, b)

	out, _, err := run(t, "--config", cfg, "usage", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got control.Usage
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a control.Usage: %v\n%s", err, out)
	}
	want := testUsage()
	if got.Step != want.Step || !got.Since.Equal(want.Since) || len(got.Buckets) != len(want.Buckets) {
		t.Fatalf("JSON = %+v, want %+v", got, want)
	}
	for i := range want.Buckets {
		g, w := got.Buckets[i], want.Buckets[i]
		if !g.Start.Equal(w.Start) {
			t.Errorf("bucket %d start = %v, want %v", i, g.Start, w.Start)
		}
		g.Start, w.Start = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("bucket %d = %+v, want %+v", i, g, w)
		}
	}
	if !strings.Contains(out, `"five_hour_peak": null`) {
		t.Errorf("JSON does not spell a missing peak as null:\n%s", out)
	}
}

func TestUsageEmpty(t *testing.T) {
	cfg := startDaemon(t, &controltest.Backend{})
	out, _, err := run(t, "--config", cfg, "usage")
	if err != nil {
		t.Fatal(err)
	}
	if want := "No usage recorded since Wed 2026-03-04. MaxRouter counts the requests it forwards; send some through it and look again.\n"; out != want {
		t.Errorf("output = %q, want %q", out, want)
	}
}

func TestUsageBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--by", "week"}, `--by wants "day" or "hour", and "account" or "token" (such as token,hour), got "week"`},
		{[]string{"--by", "day,hour"}, `--by takes one of "day" and "hour", got "day,hour"`},
		{[]string{"--by", "token,account"}, `--by takes one of "account" and "token", got "token,account"`},
		{[]string{"--days", "0"}, "--days wants a whole number from 1 on, got 0"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			b := &controltest.Backend{}
			cfg := startDaemon(t, b)
			_, _, err := run(t, append([]string{"--config", cfg, "usage"}, tt.args...)...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if len(b.Usages) != 0 {
				t.Errorf("the daemon was asked despite the bad flag: %v", b.Usages)
			}
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	hs := httptest.NewServer(nil)
	addr := hs.Listener.Addr().String()
	hs.Close()
	return addr
}

func TestUsageWithoutDaemon(t *testing.T) {
	cfg, dataDir := usageSetup(t, closedAddr(t))
	if _, err := control.LoadOrCreateSecret(dataDir); err != nil { // the daemon ran once
		t.Fatal(err)
	}

	t.Run("no history", func(t *testing.T) {
		out, errOut, err := run(t, "--config", cfg, "usage")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, "No usage recorded since Wed 2026-03-04.") {
			t.Errorf("stdout = %q, want the no-history message", out)
		}
		if !strings.Contains(errOut, "The daemon is not running") {
			t.Errorf("stderr = %q, want a note that the daemon is not running", errOut)
		}
		if _, err := os.Stat(filepath.Join(dataDir, "usage.json")); !os.IsNotExist(err) {
			t.Errorf("usage.json after reading: %v, want it still missing", err)
		}
	})

	// The history as the daemon left it.
	path := filepath.Join(dataDir, "usage.json")
	clock := march(9, 15)
	rec, err := usage.Open(path, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	rec.Answered("work", 200, 0.31, 0.12)
	rec.Tokens("work", "", usage.Tokens{Input: 1_500, Output: 300, CacheRead: 42_000})
	rec.Answered("work", 429, 1.0, 0.2)
	rec.ExtraUsage("work")
	clock = march(10, 11)
	rec.Answered("side", 0, -1, -1)
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)

	t.Run("history", func(t *testing.T) {
		out, errOut, err := run(t, "--config", cfg, "usage")
		if err != nil {
			t.Fatal(err)
		}
		want := `DAY             ACCOUNT  REQUESTS  429s  ERRORS  EXTRA  INPUT  OUTPUT  CACHE READ  5H PEAK  7D PEAK
Mon 2026-03-09  work            2     1       0      1   1.5k     300       42.0k     100%      20%
                total           2     1       0      1   1.5k     300       42.0k
Tue 2026-03-10  side            1     0       1      0      0       0           0        –        –
                total           1     0       1      0      0       0           0
`
		if out != want {
			t.Errorf("table =\n%s\nwant\n%s", out, want)
		}
		if want := "The daemon is not running; this is the history in " + path + ".\n"; errOut != want {
			t.Errorf("stderr = %q, want %q", errOut, want)
		}
	})

	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("reading the history changed usage.json")
	}
	if info2, _ := os.Stat(path); !info2.ModTime().Equal(info.ModTime()) {
		t.Error("reading the history rewrote usage.json")
	}
}
