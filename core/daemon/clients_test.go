package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/openai"
	"github.com/maxrouter/maxrouter/core/token"
)

// TestClientSurface covers what other clients than Claude Code reach: the
// OpenAI paths (with the configured [models]), the original router's path
// prefix and strategy spelling, and GET /v1/usage.
func TestClientSurface(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		cfg := "strategy = \"prio\"\n[models]\nmine = \"claude-haiku-4-5\"\n[[account]]\nname = \"main\"\ndir = \"~/.claude\"\n"
		if err := os.WriteFile(h.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	client := h.issue(t)
	if got := h.d.pool.Strategy(); got != "priority" {
		t.Errorf("strategy prio runs as %q, want priority", got)
	}

	t.Run("chat completions with a configured model", func(t *testing.T) {
		resp, body := h.send(t, "POST", "/v1/chat/completions", client, `{"model":"mine","messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"object":"chat.completion"`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		rcv := h.fake.Received()
		var sent struct{ Model string }
		json.Unmarshal(rcv[len(rcv)-1].Body, &sent)
		if sent.Model != "claude-haiku-4-5" {
			t.Errorf("upstream model = %q, want the [models] entry's claude-haiku-4-5", sent.Model)
		}
		// The table replaced the defaults.
		resp, body = h.send(t, "POST", "/v1/responses", client, `{"model":"gpt-4o","input":"hi"}`)
		var e openai.ErrorBody
		if json.Unmarshal(body, &e); resp.StatusCode != 404 || !strings.Contains(e.Error.Message, "mine") {
			t.Errorf("gpt-4o = %d %s, want 404 listing the configured names", resp.StatusCode, body)
		}
	})

	t.Run("models in each client's shape", func(t *testing.T) {
		resp, body := h.send(t, "GET", "/v1/models", client, "")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"object":"list"`) || !strings.Contains(string(body), `"id":"mine"`) {
			t.Errorf("OpenAI client: %d %s", resp.StatusCode, body)
		}
		req, _ := http.NewRequest("GET", h.base+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer "+client)
		req.Header.Set("Anthropic-Version", "2023-06-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var anth struct {
			HasMore *bool `json:"has_more"`
		}
		json.NewDecoder(resp.Body).Decode(&anth)
		resp.Body.Close()
		if resp.StatusCode != 200 || anth.HasMore == nil {
			t.Errorf("Anthropic client: %d, want Anthropic's list as it is", resp.StatusCode)
		}
	})

	t.Run("the original router's prefix", func(t *testing.T) {
		n := len(h.fake.Received())
		resp, body := h.send(t, "POST", "/api/latest/anthropic/v1/messages", client, `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Hello from the fake") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if rcv := h.fake.Received(); len(rcv) != n+1 || rcv[n].Path != "/v1/messages" {
			t.Errorf("upstream path = %q, want /v1/messages", rcv[len(rcv)-1].Path)
		}
		for _, p := range []string{"/api/latest/anthropic/health", "/api/latest/anthropic"} {
			if resp, body := h.send(t, "GET", p, "", ""); resp.StatusCode != 200 {
				t.Errorf("GET %s = %d %s", p, resp.StatusCode, body)
			}
		}
		if resp, _ := h.send(t, "GET", "/api/latest/anthropicx/health", "", ""); resp.StatusCode != 404 {
			t.Errorf("a longer first segment = %d, want 404", resp.StatusCode)
		}
	})

	t.Run("today's usage", func(t *testing.T) {
		sec, _ := os.ReadFile(filepath.Join(filepath.Dir(h.cfg), "control.secret"))
		for _, auth := range []string{client, strings.TrimSpace(string(sec))} {
			resp, body := h.send(t, "GET", "/v1/usage", auth, "")
			var u struct {
				Day      string
				Accounts []struct {
					Account      string
					Requests     int
					InputTokens  int `json:"input_tokens"`
					OutputTokens int `json:"output_tokens"`
				}
			}
			if err := json.Unmarshal(body, &u); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%d %s (%v)", resp.StatusCode, body, err)
			}
			if u.Day != time.Now().Format(time.DateOnly) || len(u.Accounts) != 1 || u.Accounts[0].Account != "main" ||
				u.Accounts[0].Requests != 4 || u.Accounts[0].InputTokens != 20 || u.Accounts[0].OutputTokens != 10 {
				t.Errorf("usage = %s, want today's 4 requests on main (the chat completion, both model lists, the message), 20 tokens in, 10 out", body)
			}
		}
		if resp, _ := h.send(t, "GET", "/v1/usage", "", ""); resp.StatusCode != 401 {
			t.Errorf("without a token: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("paused, in OpenAI's shape", func(t *testing.T) {
		if err := h.client.Pause(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer h.client.Resume(context.Background())
		resp, body := h.send(t, "POST", "/v1/chat/completions", client, `{"model":"mine","messages":[{"role":"user","content":"hi"}]}`)
		var e openai.ErrorBody
		if json.Unmarshal(body, &e); resp.StatusCode != 503 || !strings.Contains(e.Error.Message, "paused") || resp.Header.Get("X-Should-Retry") != "false" {
			t.Errorf("%d %s, want 503 in OpenAI's shape", resp.StatusCode, body)
		}
	})
}

// TestTokenLastUseIsSaved: the control API says when a client token was
// last used, and the daemon saves it when it stops.
func TestTokenLastUseIsSaved(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	client := h.issue(t)
	before := time.Now().Truncate(time.Second)
	if resp, body := h.send(t, "GET", "/v1/usage", client, ""); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	toks, err := h.client.Tokens(context.Background())
	if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil || toks[0].LastUsedAt.Before(before) {
		t.Fatalf("tokens = %+v (%v), want one used just now", toks, err)
	}
	h.stop(t)
	s, err := token.Open(filepath.Join(filepath.Dir(h.cfg), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.List(); len(got) != 1 || got[0].LastUsedAt == nil || !got[0].LastUsedAt.Equal(*toks[0].LastUsedAt) {
		t.Errorf("saved = %+v, want the last use %v", got, toks[0].LastUsedAt)
	}
}
