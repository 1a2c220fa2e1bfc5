package cli

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/usage"
)

func TestTokensIssueWithLimits(t *testing.T) {
	b := &controltest.Backend{}
	cfg := startDaemon(t, b)
	out, errOut, err := run(t, "--config", cfg, "tokens", "issue", "--label", "ci", "--max-requests", "500", "--max-tokens", "2M", "--per", "5h", "--ttl", "30d")
	if err != nil {
		t.Fatalf("issue: %v (stderr %q)", err, errOut)
	}
	if out != "la_sk_test-1\n" {
		t.Errorf("stdout = %q, want the secret alone", out)
	}
	if !strings.Contains(errOut, "500 requests, 2M tokens per 5h") {
		t.Errorf("stderr = %q, want the limits said", errOut)
	}
	want := []controltest.IssueCall{{Label: "ci", TTL: 30 * 24 * time.Hour, Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.Period(5 * time.Hour)}}}
	if !reflect.DeepEqual(b.Issues, want) {
		t.Errorf("Issues = %+v, want %+v", b.Issues, want)
	}
}

func TestParseTTL(t *testing.T) {
	for _, tt := range []struct {
		in    string
		never bool
		want  time.Duration
		err   bool
	}{
		{"", false, 0, false}, {"0", false, 0, false}, {"720h", false, 720 * time.Hour, false}, {"30d", false, 30 * 24 * time.Hour, false},
		{"1d12h", false, 36 * time.Hour, false}, {"90m", false, 90 * time.Minute, false},
		{"never", true, 0, false}, {"0", true, 0, false}, {"never", false, 0, true}, {"", true, 0, true},
		{"-1h", false, 0, true}, {"soon", false, 0, true}, {"d", false, 0, true}, {"-2d", false, 0, true},
	} {
		got, err := parseTTL(tt.in, tt.never)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("parseTTL(%q, %v) = %v, %v, want %v (error %v)", tt.in, tt.never, got, err, tt.want, tt.err)
		}
	}
}

func TestTokensBadLimitFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"issue", "--label", "x", "--max-tokens", "2X"}, []string{"--max-tokens", `"2X"`, "500k or 2M"}},
		{[]string{"issue", "--label", "x", "--max-requests", "-5"}, []string{"--max-requests", `"-5"`}},
		{[]string{"issue", "--label", "x", "--max-requests", "5", "--per", "5 hours"}, []string{"--per", `"5 hours"`, "5h, 90m, 1d or 7d"}},
		{[]string{"issue", "--label", "x", "--per", "1d"}, []string{"--per", "--max-requests"}},
		{[]string{"issue", "--label", "x", "--ttl", "soon"}, []string{"--ttl", `"soon"`}},
		{[]string{"limit", "tok-1"}, []string{"nothing to change"}},
		{[]string{"limit", "tok-1", "--none", "--max-tokens", "5"}, []string{"--none"}},
		{[]string{"limit", "tok-1", "--max-cache-reads", "lots"}, []string{"--max-cache-reads", `"lots"`}},
		{[]string{"limit", "tok-1", "--ttl", ""}, []string{"--ttl", "never"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			b := &controltest.Backend{}
			cfg := startDaemon(t, b)
			_, _, err := run(t, append([]string{"--config", cfg, "tokens"}, tt.args...)...)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error = %v, want one mentioning %s", err, w)
				}
			}
			if len(b.Issues)+len(b.Updates) != 0 {
				t.Errorf("the daemon was asked despite the bad flags: %+v %+v", b.Issues, b.Updates)
			}
		})
	}
}

func TestTokensLimit(t *testing.T) {
	h5 := control.Period(5 * time.Hour)
	b := &controltest.Backend{TokenList: []control.Token{
		{ID: "0a1b", Label: "ci", Prefix: "la_sk_AbCd…", CreatedAt: march(1, 14), Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: h5}},
	}}
	cfg := startDaemon(t, b)
	n := func(v int64) *int64 { return &v }
	day := control.Period(24 * time.Hour)
	exp := usageNow.Add(30 * 24 * time.Hour)
	tests := []struct {
		args []string
		want control.TokenUpdate
		say  string
	}{
		{[]string{"--max-tokens", "3M", "--per", "1d"}, control.TokenUpdate{MaxTokens: n(3_000_000), Per: &day}, "500 requests, 3M tokens per 1d"},
		{[]string{"--max-requests", "none"}, control.TokenUpdate{MaxRequests: n(0)}, "3M tokens per 1d"},
		{[]string{"--ttl", "30d"}, control.TokenUpdate{ExpiresAt: &exp}, "expires 2026-04-09"},
		{[]string{"--ttl", "never"}, control.TokenUpdate{NeverExpires: true}, "expires never"},
		{[]string{"--none"}, control.TokenUpdate{MaxRequests: n(0), MaxTokens: n(0), MaxCacheReads: n(0)}, "no limits"},
	}
	for i, tt := range tests {
		_, errOut, err := run(t, append([]string{"--config", cfg, "tokens", "limit", "0a1b"}, tt.args...)...)
		if err != nil {
			t.Fatalf("limit %v: %v", tt.args, err)
		}
		if !strings.Contains(errOut, tt.say) {
			t.Errorf("limit %v said %q, want %q in it", tt.args, errOut, tt.say)
		}
		b.Lock()
		got := b.Updates[i]
		b.Unlock()
		if e := got.Update.ExpiresAt; e != nil && e.Equal(exp) {
			got.Update.ExpiresAt = &exp // the same instant, decoded in another zone
		}
		if got.ID != "0a1b" || !reflect.DeepEqual(got.Update, tt.want) {
			t.Errorf("limit %v sent %+v, want %+v", tt.args, got, tt.want)
		}
	}
	if _, _, err := run(t, "--config", cfg, "tokens", "limit", "nope", "--max-tokens", "1"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("limit of an unknown token: %v, want an error naming it", err)
	}
}

func TestTokensListShowsUse(t *testing.T) {
	h5 := control.Period(5 * time.Hour)
	start := usageNow.Add(-2 * time.Hour) // 10:19, ends 15:19
	b := &controltest.Backend{TokenList: []control.Token{
		{ID: "0a1b", Label: "ci", Prefix: "la_sk_AbCd…", CreatedAt: march(1, 14),
			Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: h5},
			Window: &control.TokenWindow{Start: start, ResetsAt: start.Add(5 * time.Hour), Requests: 500, Tokens: 1_234_000}},
		{ID: "9f8e", Label: "laptop", Prefix: "la_sk_XyZw…", CreatedAt: march(2, 8)},
	}}
	cfg := startDaemon(t, b)
	out, _, err := run(t, "--config", cfg, "tokens", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LIMITS", "THIS WINDOW", "500 requests, 2M tokens per 5h", "500/500 requests, 1.2M/2M tokens · resets 15:19", "spent until 15:19"} {
		if !strings.Contains(out, want) {
			t.Errorf("list =\n%s\nwant %q in it", out, want)
		}
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[2], "–") || !strings.HasSuffix(lines[2], "active") {
		t.Errorf("list =\n%s\nwant laptop without limits, active", out)
	}
	out, _, _ = run(t, "--config", cfg, "tokens", "show", "0a1b")
	for _, want := range []string{"Limits       500 requests, 2M tokens per 5h", "This window  500/500 requests", "Status       spent until 15:19"} {
		if !strings.Contains(out, want) {
			t.Errorf("show =\n%s\nwant %q in it", out, want)
		}
	}
}

// Without a daemon the tokens CLI writes the store itself, limits too.
func TestTokensLimitsWithoutDaemon(t *testing.T) {
	cfg, dataDir := usageSetup(t, closedAddr(t))
	out, _, err := run(t, "--config", cfg, "tokens", "issue", "--label", "agent", "--max-requests", "50", "--per", "1d")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(out)
	s, err := token.Open(filepath.Join(dataDir, "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Find(secret)
	if err != nil {
		t.Fatal(err)
	}
	if want := (control.Limits{MaxRequests: 50, Per: control.Period(24 * time.Hour)}); c.Limits() != want {
		t.Fatalf("stored limits = %+v, want %+v", c.Limits(), want)
	}
	if _, _, err := run(t, "--config", cfg, "tokens", "limit", c.ID(), "--max-tokens", "1.5M"); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := s.List()[0].Limits; got != (control.Limits{MaxRequests: 50, MaxTokens: 1_500_000, Per: control.Period(24 * time.Hour)}) {
		t.Errorf("limits after tokens limit = %+v, want 50 requests and 1.5M tokens per 1d", got)
	}
	out, _, _ = run(t, "--config", cfg, "tokens", "list")
	if !strings.Contains(out, "50 requests, 1.5M tokens per 1d") || !strings.Contains(out, "0/50 requests, 0/1.5M tokens") {
		t.Errorf("list =\n%s\nwant the limits and an untouched budget", out)
	}
}

func TestUsageByToken(t *testing.T) {
	b := &controltest.Backend{UsageValue: control.Usage{Step: control.StepDay, Buckets: []control.UsageBucket{
		{Start: march(9, 0), Token: "0a1b", Label: "ci", Requests: 500, RateLimited: 37, InputTokens: 1_200_000, OutputTokens: 80_000, CacheReadTokens: 9_000_000},
		{Start: march(10, 0), Token: "0a1b", Label: "ci", Requests: 12},
		{Start: march(10, 0), Token: "9f8e", Label: "laptop", Requests: 3, InputTokens: 900},
	}}}
	cfg := startDaemon(t, b)
	out, _, err := run(t, "--config", cfg, "usage", "--by", "token")
	if err != nil {
		t.Fatal(err)
	}
	want := `DAY             TOKEN   ID    REQUESTS  REFUSED  INPUT  OUTPUT  CACHE READ
Mon 2026-03-09  ci      0a1b       500       37   1.2M   80.0k        9.0M
                total              500       37   1.2M   80.0k        9.0M
Tue 2026-03-10  ci      0a1b        12        0      0       0           0
                laptop  9f8e         3        0    900       0           0
                total               15        0    900       0           0
`
	if out != want {
		t.Errorf("table =\n%s\nwant\n%s", out, want)
	}
	if len(b.Usages) != 1 || b.Usages[0].By != control.UsageByToken || b.Usages[0].Step != control.StepDay {
		t.Errorf("Usage calls = %+v, want one by token, per day", b.Usages)
	}
	if _, _, err := run(t, "--config", cfg, "usage", "--by", "token,hour"); err != nil || b.Usages[1].Step != control.StepHour || b.Usages[1].By != control.UsageByToken {
		t.Errorf("--by token,hour: %v, call %+v", err, b.Usages)
	}
}

func TestUsageByTokenWithoutDaemon(t *testing.T) {
	cfg, dataDir := usageSetup(t, closedAddr(t))
	s, err := token.Open(filepath.Join(dataDir, "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := s.Issue("desk", 0)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := usage.Open(filepath.Join(dataDir, "usage.json"), func() time.Time { return march(10, 9) })
	if err != nil {
		t.Fatal(err)
	}
	rec.Client(info.ID, false)
	rec.Tokens("work", info.ID, usage.Tokens{Input: 40, Output: 2})
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "--config", cfg, "usage", "--by", "token")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "desk "+info.ID+" 1 0 40 2 0 total") {
		t.Errorf("table =\n%s\nwant desk's line", out)
	}
}
