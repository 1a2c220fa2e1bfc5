package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

// openAIEnv is the whole environment of an openai package run: the
// router's /v1 as OPENAI_BASE_URL and a client token as the API key.
func openAIEnv(t *testing.T, r *router, clientToken string) []string {
	return []string{
		"HOME=" + t.TempDir(),
		"OPENAI_BASE_URL=" + r.base + "/v1",
		"OPENAI_API_KEY=" + clientToken,
	}
}

// openAIStep runs one step of testdata/openai/client.mjs and returns the
// JSON lines it printed.
func openAIStep(t *testing.T, dir string, env []string, step ...string) []map[string]json.RawMessage {
	t.Helper()
	res := run(t, dir, 60*time.Second, env, "node", append([]string{"client.mjs"}, step...)...)
	secret := strings.TrimPrefix(env[2], "OPENAI_API_KEY=")
	if res.err != nil {
		t.Fatalf("node client.mjs %s: %v\nstdout:\n%s\nstderr:\n%s", step, res.err, redact(res.stdout, secret), redact(tail(res.stderr, 4000), secret))
	}
	var lines []map[string]json.RawMessage
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("client printed a line that is not JSON: %q", l)
		}
		lines = append(lines, m)
	}
	return lines
}

// field decodes key of the first line that has it.
func field(t *testing.T, lines []map[string]json.RawMessage, key string, v any) {
	t.Helper()
	for _, l := range lines {
		if raw, ok := l[key]; ok {
			if err := json.Unmarshal(raw, v); err != nil {
				t.Fatalf("%s: %v in %s", key, err, raw)
			}
			return
		}
	}
	t.Fatalf("no %q in the client's output: %v", key, lines)
}

// TestOpenAIClient drives the official openai package through MaxRouter to
// the fake Anthropic: Chat Completions plain, streamed and with a tool
// call round trip, the Responses API plain and streamed, the model list,
// and errors, with the first account spent so that every request fails
// over before the client sees a byte.
func TestOpenAIClient(t *testing.T) {
	needNode(t)
	dir := needClient(t, "openai")
	a, b := tok("a"), tok("b")
	r := startRouter(t, account{"a", ".claude-a", a}, account{"b", ".claude-b", b})
	r.fake.On(a, anthropictest.RateLimited(time.Now().Add(2*time.Hour)))
	// Streams take events×delay: long enough to tell event by event from
	// all at once. (The fake's settings are fixed before it serves.)
	const events, delay = 5, 150 * time.Millisecond
	r.fake.Events, r.fake.StreamDelay = events, delay
	client := r.issue(t)
	env := openAIEnv(t, r, client)

	t.Run("chat.completions.create", func(t *testing.T) {
		var c struct {
			Object  string
			Model   string
			Choices []struct {
				Message      struct{ Role, Content string }
				FinishReason string `json:"finish_reason"`
			}
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			}
		}
		field(t, openAIStep(t, dir, env, "chat"), "completion", &c)
		if c.Object != "chat.completion" || len(c.Choices) != 1 || c.Choices[0].Message.Content != "Hello from the fake Anthropic." ||
			c.Choices[0].Message.Role != "assistant" || c.Choices[0].FinishReason != "stop" || c.Usage.TotalTokens != 15 {
			t.Errorf("completion = %+v", c)
		}
		got := r.received("/v1/messages")
		if len(got) != 2 || got[0].Token != a || got[1].Token != b {
			t.Fatalf("upstream saw %d message requests (tokens %v), want a's 429 then b", len(got), names(r.fake.Tokens()))
		}
		for _, rc := range got {
			checkUpstream(t, "chat request", rc, client)
			var body struct {
				Model  string
				System []struct{ Text string }
			}
			json.Unmarshal(rc.Body, &body)
			if body.Model != "claude-sonnet-4-5" || len(body.System) != 1 || body.System[0].Text != "Be brief." {
				t.Errorf("upstream body = %s, want gpt-4o as Sonnet with the system prompt", rc.Body)
			}
			if ua := rc.Header.Get("User-Agent"); !strings.HasPrefix(ua, "OpenAI/JS ") {
				t.Errorf("User-Agent = %q, want the openai package's", ua)
			}
		}
	})

	t.Run("chat.completions.create streamed", func(t *testing.T) {
		lines := openAIStep(t, dir, env, "chat-stream")
		var deltas []string
		var times []int
		for _, l := range lines {
			if raw, ok := l["delta"]; ok {
				var d string
				var ms int
				json.Unmarshal(raw, &d)
				json.Unmarshal(l["ms"], &ms)
				deltas, times = append(deltas, d), append(times, ms)
			}
		}
		var want []string
		for i := range events {
			want = append(want, fmt.Sprintf("chunk %d ", i))
		}
		if strings.Join(deltas, "|") != strings.Join(want, "|") {
			t.Errorf("deltas = %q, want %q", deltas, want)
		}
		var finish string
		var usage struct {
			TotalTokens int `json:"total_tokens"`
		}
		field(t, lines, "finish", &finish)
		field(t, lines, "usage", &usage)
		if finish != "stop" || usage.TotalTokens != 10+2*events {
			t.Errorf("finish %q, usage %+v; want stop and %d tokens", finish, usage, 10+2*events)
		}
		// Translated as the events came, not all at once at the end.
		if len(times) == events {
			span := time.Duration(times[len(times)-1]-times[0]) * time.Millisecond
			if least := time.Duration(events-1) * delay / 2; span < least {
				t.Errorf("deltas arrived within %v (at ms %v), want them spread over at least %v", span, times, least)
			}
			t.Logf("deltas at ms %v", times)
		}
	})

	t.Run("a tool call round trip", func(t *testing.T) {
		r.fake.On(b, anthropictest.ToolUse("toolu_01Paris", "get_weather", `{"city":"Paris"}`), anthropictest.OK)
		lines := openAIStep(t, dir, env, "tools")
		var call struct {
			ID       string
			Type     string
			Function struct{ Name, Arguments string }
		}
		field(t, lines, "call", &call)
		if call.ID != "toolu_01Paris" || call.Type != "function" || call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` {
			t.Errorf("call = %+v", call)
		}
		var c struct {
			Choices []struct{ Message struct{ Content string } }
		}
		field(t, lines, "completion", &c)
		if len(c.Choices) != 1 || c.Choices[0].Message.Content != "Hello from the fake Anthropic." {
			t.Errorf("final completion = %+v", c)
		}
		got := r.received("/v1/messages")
		var body struct {
			Tools    []struct{ Name string }
			Messages []struct {
				Role    string
				Content []struct {
					Type      string
					ID        string
					ToolUseID string `json:"tool_use_id"`
					Input     json.RawMessage
				}
			}
		}
		json.Unmarshal(got[len(got)-1].Body, &body)
		if len(body.Tools) != 1 || len(body.Messages) != 3 || body.Messages[1].Content[0].Type != "tool_use" ||
			body.Messages[2].Content[0].Type != "tool_result" || body.Messages[2].Content[0].ToolUseID != "toolu_01Paris" {
			t.Errorf("the tool result went upstream as %s", got[len(got)-1].Body)
		}
	})

	t.Run("responses.create", func(t *testing.T) {
		var text string
		var resp struct {
			Object, Status string
			Instructions   string
		}
		lines := openAIStep(t, dir, env, "responses")
		field(t, lines, "text", &text)
		field(t, lines, "response", &resp)
		if text != "Hello from the fake Anthropic." || resp.Object != "response" || resp.Status != "completed" || resp.Instructions != "Be brief." {
			t.Errorf("response = %+v, text %q", resp, text)
		}
	})

	t.Run("responses.create streamed", func(t *testing.T) {
		lines := openAIStep(t, dir, env, "responses-stream")
		var evs, deltas []string
		for _, l := range lines {
			if raw, ok := l["event"]; ok {
				var e string
				json.Unmarshal(raw, &e)
				evs = append(evs, e)
				if e == "response.output_text.delta" {
					var d string
					json.Unmarshal(l["delta"], &d)
					deltas = append(deltas, d)
				}
			}
		}
		var text string
		field(t, lines, "text", &text)
		if text != "chunk 0 chunk 1 chunk 2 chunk 3 chunk 4 " || strings.Join(deltas, "") != text {
			t.Errorf("text %q from deltas %q", text, deltas)
		}
		if len(evs) < 2 || evs[0] != "response.created" || evs[len(evs)-1] != "response.completed" {
			t.Errorf("events = %v, want response.created … response.completed", evs)
		}
	})

	t.Run("models.list", func(t *testing.T) {
		var models []struct {
			ID      string
			OwnedBy string `json:"owned_by"`
		}
		field(t, openAIStep(t, dir, env, "models"), "models", &models)
		ids := map[string]string{}
		for _, m := range models {
			ids[m.ID] = m.OwnedBy
		}
		if ids["claude-sonnet-4-5"] != "anthropic" || ids["gpt-4o"] != "maxrouter" || ids["o3"] != "maxrouter" {
			t.Errorf("models = %+v, want the fake's Claude model and the default aliases", models)
		}
	})

	type apiError struct {
		Status     int
		Type, Code string
		Message    string
		RetryAfter *string
		Name       string
	}
	t.Run("an unknown model", func(t *testing.T) {
		var e apiError
		field(t, openAIStep(t, dir, env, "error", "davinci-002"), "error", &e)
		if e.Status != 404 || e.Name != "NotFoundError" || e.Code != "model_not_found" || !strings.Contains(e.Message, "[models]") {
			t.Errorf("error = %+v, want the SDK's NotFoundError naming [models]", e)
		}
	})

	t.Run("every account resting", func(t *testing.T) {
		r.fake.On(b, anthropictest.RateLimited(time.Now().Add(20*time.Second)))
		var e apiError
		field(t, openAIStep(t, dir, env, "error", "gpt-4o"), "error", &e)
		if e.Status != 429 || e.Name != "RateLimitError" || e.Type != "rate_limit_error" || e.Code != "rate_limit_exceeded" || e.RetryAfter == nil || *e.RetryAfter == "" {
			t.Errorf("error = %+v, want the SDK's RateLimitError with retry-after", e)
		}
	})
}
