package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/control"
)

// sdkAnthropicVersion is the anthropic-version header that the pinned SDK
// (testdata/sdk/package.json) sends.
const sdkAnthropicVersion = "2026-10-21"

// sdkLine is one line printed by testdata/sdk/*.mjs.
type sdkLine struct {
	Delta   *string         `json:"delta"`
	MS      int             `json:"ms"`
	Final   json.RawMessage `json:"final"`
	Message json.RawMessage `json:"message"`
	Count   json.RawMessage `json:"count"`
}

func parseLines(t *testing.T, out string) []sdkLine {
	t.Helper()
	var lines []sdkLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var sl sdkLine
		if err := json.Unmarshal([]byte(l), &sl); err != nil {
			t.Fatalf("client printed a line that is not JSON: %q (%v)", l, err)
		}
		lines = append(lines, sl)
	}
	return lines
}

// sdkEnv is the whole environment of an SDK run.
func sdkEnv(t *testing.T, r *router, clientToken string) []string {
	return []string{
		"HOME=" + t.TempDir(),
		"ANTHROPIC_BASE_URL=" + r.base,
		"ANTHROPIC_AUTH_TOKEN=" + clientToken,
	}
}

func TestSDKStreamsThroughProxy(t *testing.T) {
	needNode(t)
	dir := needClient(t, "sdk")
	a, b := tok("a"), tok("b")
	r := startRouter(t, account{"a", ".claude-a", a}, account{"b", ".claude-b", b})
	r.fake.On(a, anthropictest.RateLimited(time.Now().Add(2*time.Hour)))
	const events, delay = 5, 200 * time.Millisecond
	r.fake.Events, r.fake.StreamDelay = events, delay
	client := r.issue(t)

	res := run(t, dir, 60*time.Second, sdkEnv(t, r, client), "node", "stream.mjs")
	t.Logf("node stream.mjs took %v", res.took.Round(time.Millisecond))
	if res.err != nil {
		t.Fatalf("node stream.mjs: %v\nstdout:\n%s\nstderr:\n%s", res.err, redact(res.stdout, client), redact(tail(res.stderr, 4000), client))
	}

	// The client saw the deltas in order, then the whole message.
	lines := parseLines(t, res.stdout)
	var deltas []string
	var times []int
	var final json.RawMessage
	for _, l := range lines {
		switch {
		case l.Delta != nil:
			deltas = append(deltas, *l.Delta)
			times = append(times, l.MS)
		case l.Final != nil:
			final = l.Final
		}
	}
	var want []string
	for i := range events {
		want = append(want, fmt.Sprintf("chunk %d ", i))
	}
	if got := strings.Join(deltas, "|"); got != strings.Join(want, "|") {
		t.Errorf("deltas = %q, want %q", deltas, want)
	}
	var msg struct {
		ID, Role, Model, StopReason string
		Content                     []struct{ Type, Text string }
	}
	if final == nil {
		t.Fatalf("no final message in output:\n%s", res.stdout)
	}
	if err := json.Unmarshal(final, &msg); err != nil {
		t.Fatalf("final message: %v", err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != strings.Join(want, "") || msg.Role != "assistant" || msg.ID != "msg_fake01" {
		t.Errorf("final message = %s, want the assistant's text %q", final, strings.Join(want, ""))
	}

	// The deltas arrived as they were sent, not all at once at the end: a
	// buffering proxy would put them within a few milliseconds of each
	// other. They were sent delay apart; allow for a loaded machine.
	if len(times) == events {
		span := time.Duration(times[len(times)-1]-times[0]) * time.Millisecond
		if least := time.Duration(events-1) * delay / 2; span < least {
			t.Errorf("deltas arrived within %v (at ms %v), want them spread over at least %v", span, times, least)
		}
		spread := 0
		for i := 1; i < len(times); i++ {
			if time.Duration(times[i]-times[i-1])*time.Millisecond >= delay/2 {
				spread++
			}
		}
		if spread < (events-1)/2 {
			t.Errorf("only %d of %d gaps between deltas were at least %v (at ms %v)", spread, events-1, delay/2, times)
		}
		t.Logf("deltas at ms %v", times)
	}

	// Upstream: A answered 429, B served the stream, both with the account's
	// own token and the OAuth beta; the SDK's headers passed through.
	got := r.received("/v1/messages")
	if len(got) != 2 {
		t.Fatalf("upstream saw %d message requests, want 2 (a then b): %v", len(got), names(r.fake.Tokens()))
	}
	if got[0].Token != a || got[1].Token != b {
		t.Errorf("upstream tokens in order = %s, %s, want a, b", name(got[0].Token), name(got[1].Token))
	}
	for i, rc := range got {
		checkUpstream(t, fmt.Sprintf("request %d", i), rc, client)
		for _, h := range []string{"X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-Runtime", "X-Stainless-Os", "X-Stainless-Arch"} {
			if rc.Header.Get(h) == "" {
				t.Errorf("request %d lacks the SDK's %s header", i, h)
			}
		}
		if ua := rc.Header.Get("User-Agent"); !strings.HasPrefix(ua, "Anthropic/JS ") {
			t.Errorf("request %d User-Agent = %q, want the SDK's Anthropic/JS …", i, ua)
		}
		var body struct {
			Model    string
			Stream   bool
			Messages []struct{ Role, Content string }
		}
		if err := json.Unmarshal(rc.Body, &body); err != nil || !body.Stream || len(body.Messages) != 1 || body.Messages[0].Content != "Count to five." {
			t.Errorf("request %d body = %s, want the SDK's streaming request", i, rc.Body)
		}
	}
	if got[0].Header.Get("X-Stainless-Retry-Count") != "0" || got[1].Header.Get("X-Stainless-Retry-Count") != "0" {
		t.Errorf("retry counts = %q, %q, want 0, 0: the failover must be the router's, not an SDK retry",
			got[0].Header.Get("X-Stainless-Retry-Count"), got[1].Header.Get("X-Stainless-Retry-Count"))
	}
	if !bytes.Equal(got[0].Body, got[1].Body) {
		t.Error("the failover replayed a different body")
	}
	// The SDK's own API version went through unchanged.
	if v := got[1].Header.Get("Anthropic-Version"); v != sdkAnthropicVersion {
		t.Errorf("anthropic-version = %q, want the SDK's %q", v, sdkAnthropicVersion)
	}
	// The router read A's 429 as a spent account.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accts, err := r.client.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	states := map[string]string{}
	for _, ac := range accts {
		states[ac.Name] = ac.State
	}
	if got, want := fmt.Sprint(states), fmt.Sprint(map[string]string{"a": control.StateCooling, "b": control.StateAvailable}); got != want {
		t.Errorf("account states = %s, want %s", got, want)
	}
}

func TestSDKCreateAndCountTokens(t *testing.T) {
	needNode(t)
	dir := needClient(t, "sdk")
	a := tok("a")
	r := startRouter(t, account{"a", ".claude-a", a})
	client := r.issue(t)

	res := run(t, dir, 60*time.Second, sdkEnv(t, r, client), "node", "create.mjs")
	t.Logf("node create.mjs took %v", res.took.Round(time.Millisecond))
	if res.err != nil {
		t.Fatalf("node create.mjs: %v\nstdout:\n%s\nstderr:\n%s", res.err, redact(res.stdout, client), redact(tail(res.stderr, 4000), client))
	}
	var text string
	var count int
	for _, l := range parseLines(t, res.stdout) {
		switch {
		case l.Message != nil:
			var m struct{ Content []struct{ Text string } }
			json.Unmarshal(l.Message, &m)
			if len(m.Content) > 0 {
				text = m.Content[0].Text
			}
		case l.Count != nil:
			var c struct {
				InputTokens int `json:"input_tokens"`
			}
			json.Unmarshal(l.Count, &c)
			count = c.InputTokens
		}
	}
	if got, want := text, "Hello from the fake Anthropic."; got != want {
		t.Errorf("message text = %q, want %q\n%s", got, want, res.stdout)
	}
	if got, want := count, 42; got != want {
		t.Errorf("input_tokens = %d, want %d\n%s", got, want, res.stdout)
	}
	for _, path := range []string{"/v1/messages", "/v1/messages/count_tokens"} {
		got := r.received(path)
		if len(got) != 1 {
			t.Errorf("upstream saw %d requests on %s, want 1", len(got), path)
			continue
		}
		checkUpstream(t, path, got[0], client)
		if got[0].Token != a {
			t.Errorf("%s went upstream with another token", path)
		}
	}
}

// checkUpstream asserts what every proxied request must look like: the
// account's bearer token (never the client's), no API key, and the OAuth
// beta merged in.
func checkUpstream(t *testing.T, what string, rc anthropictest.Received, clientToken string) {
	t.Helper()
	if !strings.HasPrefix(rc.Token, "sk-ant-oat01-test-") {
		t.Errorf("%s: upstream Authorization is not an account token", what)
	}
	for k, vs := range rc.Header {
		for _, v := range vs {
			if strings.Contains(v, clientToken) {
				t.Errorf("%s: the client token went upstream in %s", what, k)
			}
		}
	}
	if strings.Contains(string(rc.Body), clientToken) {
		t.Errorf("%s: the client token went upstream in the body", what)
	}
	if rc.Header.Get("X-Api-Key") != "" {
		t.Errorf("%s: upstream got an x-api-key header", what)
	}
	if beta := strings.Join(rc.Header.Values("Anthropic-Beta"), ","); !strings.Contains(beta, "oauth-2025-04-20") {
		t.Errorf("%s: anthropic-beta = %q, want it to contain oauth-2025-04-20", what, beta)
	}
	if rc.Header.Get("Anthropic-Version") == "" {
		t.Errorf("%s: no anthropic-version upstream", what)
	}
}
