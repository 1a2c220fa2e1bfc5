package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// retriesLine is what testdata/sdk/retries.mjs prints.
type retriesLine struct {
	Message json.RawMessage `json:"message"`
	Error   *struct {
		Status                  int
		Name, Type, Message     string
		RetryAfter, ShouldRetry *string
	} `json:"error"`
	Attempts int `json:"attempts"`
	MS       int `json:"ms"`
}

// TestSDKStopsAtASpentBudget: a client token that spent its budget gets a
// 429 the real SDK shows at once, with MaxRouter's words (the token's
// label, when its window frees up), instead of waiting hours for the
// window: it honours retry-after whatever its length unless told not to
// retry. The OpenAI package sees the same refusal in OpenAI's shape.
func TestSDKStopsAtASpentBudget(t *testing.T) {
	needNode(t)
	dir := needClient(t, "sdk")
	r := startRouter(t, account{"a", ".claude-a", tok("a")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	is, err := r.client.IssueTokenWith(ctx, control.IssueRequest{Label: "nightly agent", Limits: control.Limits{MaxRequests: 1, Per: control.Period(5 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	sdk := func() retriesLine {
		t.Helper()
		res := run(t, dir, 60*time.Second, sdkEnv(t, r, is.Secret), "node", "retries.mjs")
		if res.err != nil {
			t.Fatalf("node retries.mjs: %v\nstdout:\n%s\nstderr:\n%s", res.err, redact(res.stdout, is.Secret), redact(tail(res.stderr, 4000), is.Secret))
		}
		var l retriesLine
		if err := json.Unmarshal([]byte(strings.TrimSpace(res.stdout)), &l); err != nil {
			t.Fatalf("retries.mjs printed %q: %v", res.stdout, err)
		}
		return l
	}

	if first := sdk(); first.Message == nil || first.Attempts != 1 {
		t.Fatalf("first message: %+v, want it answered in one attempt", first)
	}
	second := sdk()
	e := second.Error
	if e == nil {
		t.Fatalf("second message answered (%s), want the budget refusal", second.Message)
	}
	if e.Status != 429 || e.Name != "RateLimitError" || e.Type != "rate_limit_error" {
		t.Errorf("error = %+v, want the SDK's RateLimitError of type rate_limit_error", e)
	}
	for _, want := range []string{`client token "nightly agent" has used its 1 request per 5h`, "it can send again at "} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q lacks %q", e.Message, want)
		}
	}
	if e.ShouldRetry == nil || *e.ShouldRetry != "false" || e.RetryAfter == nil {
		t.Errorf("headers: x-should-retry %v, retry-after %v, want false and the wait", e.ShouldRetry, e.RetryAfter)
	} else if secs, _ := strconv.Atoi(*e.RetryAfter); secs < 5*3600-120 || secs > 5*3600 {
		t.Errorf("retry-after = %s, want about 5 hours", *e.RetryAfter)
	}
	if second.Attempts != 1 || second.MS > 10_000 {
		t.Errorf("the SDK made %d attempts over %d ms, want one, at once", second.Attempts, second.MS)
	}
	if got := len(r.received("/v1/messages")); got != 1 {
		t.Errorf("upstream saw %d messages, want 1", got)
	}

	t.Run("openai", func(t *testing.T) {
		dir := needClient(t, "openai")
		env := []string{"HOME=" + t.TempDir(), "OPENAI_BASE_URL=" + r.base + "/v1", "OPENAI_API_KEY=" + is.Secret}
		var oe struct {
			Status     int
			Type, Code string
			Message    string
			RetryAfter *string
			Name       string
		}
		field(t, openAIStep(t, dir, env, "error", "gpt-4o"), "error", &oe)
		if oe.Status != 429 || oe.Name != "RateLimitError" || oe.Code != "rate_limit_exceeded" || oe.RetryAfter == nil || !strings.Contains(oe.Message, `"nightly agent"`) {
			t.Errorf("error = %+v, want the openai package's RateLimitError naming the token, with retry-after", oe)
		}
	})
}

// TestClaudeCodeShowsSpentBudgetAtOnce runs claude with a client token
// that spent its budget: it must fail at once with MaxRouter's words, not
// wait for the window (hours) nor retry.
func TestClaudeCodeShowsSpentBudgetAtOnce(t *testing.T) {
	dir := needClient(t, "claude")
	bin := claudeBinary(t, dir)
	r := startRouter(t, account{"a", ".claude-a", tok("a")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	is, err := r.client.IssueTokenWith(ctx, control.IssueRequest{Label: "agent", Limits: control.Limits{MaxRequests: 1, Per: control.Period(24 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", r.base+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+is.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the request that spends the budget: %d", resp.StatusCode)
	}

	env, work, _ := claudeEnv(t, r, is.Secret)
	res := run(t, work, 45*time.Second, env, bin, "-p", "say hi")
	t.Logf("claude -p took %v", res.took.Round(time.Millisecond))
	out := res.stdout + res.stderr
	if res.err == nil {
		t.Errorf("claude -p succeeded with a spent budget:\n%s", redact(tail(out, 2000), is.Secret))
	}
	if strings.Contains(fmt.Sprint(res.err), "killed after") {
		t.Fatalf("claude -p was still waiting after 45s: %v\n%s", res.err, redact(tail(out, 2000), is.Secret))
	}
	if want := `client token "agent" has used its 1 request per 1d`; !strings.Contains(out, want) {
		t.Errorf("claude -p output lacks %q:\n%s", want, redact(tail(out, 2000), is.Secret))
	}
	if got := r.received("/v1/messages"); len(got) != 1 {
		t.Errorf("upstream saw %d message requests, want only the one that spent the budget", len(got))
	}
}
