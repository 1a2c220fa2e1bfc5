package usage_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/usage"
)

// A client token's history sits beside the accounts': its requests,
// refusals and tokens per hour and day, kept in the same file.
func TestClients(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	clk := &clock{t: t0.Add(10 * time.Minute)}
	r := open(t, path, clk)
	r.Client("ci", false)
	r.Answered("work", 200, -1, -1)
	r.Tokens("work", "ci", usage.Tokens{Input: 10, Output: 5, CacheRead: 100, CacheCreation: 1})
	r.Client("ci", false)
	r.Client("ci", true)
	r.Client("laptop", false)
	r.Tokens("work", "laptop", usage.Tokens{Input: 1})
	clk.add(time.Hour)
	r.Client("ci", true)

	tok := func(start time.Time, id string, requests, refused int64, in, out, read, write int64) control.UsageBucket {
		return control.UsageBucket{Start: start, Token: id, Requests: requests, RateLimited: refused,
			InputTokens: in, OutputTokens: out, CacheReadTokens: read, CacheCreationTokens: write}
	}
	wantHours := []control.UsageBucket{
		tok(t0, "ci", 2, 1, 10, 5, 100, 1),
		tok(t0, "laptop", 1, 0, 1, 0, 0, 0),
		tok(t0.Add(time.Hour), "ci", 0, 1, 0, 0, 0, 0),
	}
	checkBuckets(t, r.QueryClients(t0, control.StepHour, time.UTC).Buckets, wantHours)
	checkBuckets(t, r.QueryClients(t0, control.StepDay, time.UTC).Buckets, []control.UsageBucket{
		tok(t0.Truncate(24*time.Hour), "ci", 2, 2, 10, 5, 100, 1),
		tok(t0.Truncate(24*time.Hour), "laptop", 1, 0, 1, 0, 0, 0),
	})
	// The accounts' history is as before: the account got the tokens of
	// both clients, and no client request counts as an answer.
	acct := b(t0, "work", 1, 0, 0, nil, nil)
	acct.InputTokens, acct.OutputTokens, acct.CacheReadTokens, acct.CacheCreationTokens = 11, 5, 100, 1
	checkBuckets(t, r.QueryIn(t0, control.StepHour, time.UTC).Buckets, []control.UsageBucket{acct})

	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{
		"\n],\"tokens\":[\n",
		`{"start":"2026-11-26T09:00:00Z","token":"ci","requests":2,"rate_limited":1,"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":1}`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("file lacks %q:\n%s", want, data)
		}
	}
	r2 := open(t, path, clk)
	checkBuckets(t, r2.QueryClients(t0, control.StepHour, time.UTC).Buckets, wantHours)
	r2.Client("ci", false) // counting goes on in the loaded hour
	wantHours[2].Requests++
	checkBuckets(t, r2.QueryClients(t0, control.StepHour, time.UTC).Buckets, wantHours)

	// Old hours go from both lists.
	clk.add(control.UsageRetention + 2*time.Hour)
	if err := r2.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := r2.QueryClients(t0, control.StepHour, time.UTC).Buckets; len(got) != 0 {
		t.Errorf("after 90 days, client buckets = %+v, want none", got)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "tokens") {
		t.Errorf("file still lists tokens:\n%s", data)
	}
}

func TestClientsCorrupt(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"no token", `{"version":1,"hours":[],"tokens":[{"start":"2026-11-26T09:00:00Z","requests":1}]}`, "tokens[0]: no token"},
		{"negative", `{"version":1,"hours":[],"tokens":[{"start":"2026-11-26T09:00:00Z","token":"a","requests":-1}]}`, "tokens[0]: a negative count"},
		{"no start", `{"version":1,"hours":[],"tokens":[{"token":"a"}]}`, "tokens[0]: no start"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "usage.json")
			os.WriteFile(path, []byte(tt.body), 0o600)
			_, err := usage.Open(path, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want an error naming %s and %q", err, path, tt.want)
			}
		})
	}
}

// TestClientsConcurrent: no count is lost when many requests of a few
// tokens are recorded at once.
func TestClientsConcurrent(t *testing.T) {
	clk := &clock{t: t0}
	r := open(t, filepath.Join(t.TempDir(), "usage.json"), clk)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			id := []string{"a", "b"}[i%2]
			r.Client(id, i%10 == 0)
			r.Tokens("work", id, usage.Tokens{Input: 3, Output: 1})
		})
	}
	wg.Wait()
	got := r.QueryClients(t0, control.StepHour, time.UTC).Buckets
	if len(got) != 2 || got[0].Requests+got[1].Requests != 180 || got[0].RateLimited+got[1].RateLimited != 20 || got[0].InputTokens+got[1].InputTokens != 600 {
		t.Errorf("buckets = %+v, want 180 requests, 20 refusals, 600 input tokens in all", got)
	}
}
