package e2e

import (
	"context"
	"encoding/json"
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
