package proxy

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/openai"
)

const chatBody = `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}`

// openAIError reads an answer in OpenAI's error shape.
func openAIError(t *testing.T, resp *http.Response) openai.ErrorDetail {
	t.Helper()
	var body openai.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Message == "" || body.Error.Type == "" {
		t.Fatalf("answer is not OpenAI's error shape: %v %+v", err, body)
	}
	return body.Error
}

func TestChatCompletion(t *testing.T) {
	e := setup(t, "priority", "work")
	resp := e.post(t, ChatPath, chatBody, "OpenAI-Organization", "org-1", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	var got struct {
		Object  string
		Model   string
		Choices []struct {
			Message      struct{ Role, Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Object != "chat.completion" || len(got.Choices) != 1 || got.Choices[0].Message.Content != "Hello from the fake Anthropic." ||
		got.Choices[0].FinishReason != "stop" || got.Usage.PromptTokens != 10 || got.Usage.CompletionTokens != 5 {
		t.Errorf("answer = %+v, want the fake's message as a chat.completion", got)
	}
	if got.Model != openai.Sonnet {
		t.Errorf("model = %q, want the Claude model that answered, %q", got.Model, openai.Sonnet)
	}
	rcv := e.fake.Received()
	if len(rcv) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(rcv))
	}
	r := rcv[0]
	var sent struct {
		Model     string
		MaxTokens int `json:"max_tokens"`
		System    []struct{ Text string }
	}
	json.Unmarshal(r.Body, &sent)
	for _, c := range []struct{ name, got, want string }{
		{"path", r.Path, "/v1/messages"},
		{"authorization", r.Header.Get("Authorization"), "Bearer " + tok("work")},
		{"anthropic-beta", r.Header.Get("Anthropic-Beta"), OAuthBeta},
		{"anthropic-version", r.Header.Get("Anthropic-Version"), DefaultVersion},
		{"openai-organization", r.Header.Get("Openai-Organization"), ""},
		{"accept-encoding (the Transport's own)", r.Header.Get("Accept-Encoding"), "gzip"},
		{"model", sent.Model, openai.Sonnet},
		{"system", sent.System[0].Text, "Be brief."},
	} {
		if c.got != c.want {
			t.Errorf("upstream %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if strings.Contains(string(r.Body)+strings.Join(r.Header.Values("Authorization"), ""), e.secret) {
		t.Error("the client token went upstream")
	}
}

func TestChatCompletionStreamsEventByEvent(t *testing.T) {
	e := setup(t, "priority", "a")
	e.fake.StreamDelay = 150 * time.Millisecond
	e.fake.Events = 4
	start := time.Now()
	resp := e.post(t, ChatPath, `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var (
		content    []string
		firstDelta time.Duration
		finish     string
		usage      bool
		done       bool
	)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			done = true
			continue
		}
		var c struct {
			Choices []struct {
				Delta        struct{ Role, Content string }
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				TotalTokens int `json:"total_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("chunk %q: %v", line, err)
		}
		if c.Usage != nil {
			usage = c.Usage.TotalTokens == 10+8 // message_start's input, message_delta's output
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != "" {
				if len(content) == 0 {
					firstDelta = time.Since(start)
				}
				content = append(content, ch.Delta.Content)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	total := time.Since(start)
	if got := strings.Join(content, "|"); got != "chunk 0 |chunk 1 |chunk 2 |chunk 3 " {
		t.Errorf("content deltas = %q", got)
	}
	if finish != "stop" || !usage || !done {
		t.Errorf("finish_reason %q, usage chunk %v, [DONE] %v; want stop, true, true", finish, usage, done)
	}
	if firstDelta > total/2 {
		t.Errorf("first delta after %v of %v: the stream was buffered", firstDelta, total)
	}
}

func TestOpenAIFailsOverAndRecordsUsage(t *testing.T) {
	fake, up := anthropictest.New(t)
	rec := newRecorder()
	e := newEnv(t, up.URL, nil, fake, rec, "priority", "a", "b")
	fake.On(tok("a"), anthropictest.RateLimited(time.Now().Add(time.Hour)))
	resp := e.post(t, ChatPath, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(body, "[DONE]") {
		t.Fatalf("status %d, body %q: want b's stream", resp.StatusCode, body)
	}
	answers, tokens := rec.calls(t)
	if len(answers) != 2 || answers[0].account != "a" || answers[0].status != 429 || answers[1].account != "b" || answers[1].status != 200 {
		t.Errorf("answers = %+v, want a's 429 then b's 200", answers)
	}
	if len(tokens) != 1 || tokens[0].account != "b" || tokens[0].tokens.Input != 10 || tokens[0].tokens.Output != 6 {
		t.Errorf("tokens = %+v, want b's 10 in, 6 out", tokens)
	}
	if e.handler.Metrics().Failovers() != 1 {
		t.Errorf("failovers = %d, want 1", e.handler.Metrics().Failovers())
	}
	if st := e.pool.Snapshots()[0].State; st != control.StateCooling {
		t.Errorf("a is %s, want cooling", st)
	}
}

func TestOpenAIErrors(t *testing.T) {
	e := setup(t, "priority", "a")
	t.Run("no client token", func(t *testing.T) {
		resp := e.post(t, ChatPath, chatBody, "Authorization", "")
		if d := openAIError(t, resp); resp.StatusCode != 401 || d.Type != "authentication_error" || *d.Code != "invalid_api_key" {
			t.Errorf("%d %+v, want 401 authentication_error", resp.StatusCode, d)
		}
	})
	t.Run("a parameter Claude cannot honour", func(t *testing.T) {
		resp := e.post(t, ChatPath, `{"model":"gpt-4o","n":3,"messages":[{"role":"user","content":"x"}]}`)
		if d := openAIError(t, resp); resp.StatusCode != 400 || d.Param == nil || *d.Param != "n" {
			t.Errorf("%d %+v, want 400 naming n", resp.StatusCode, d)
		}
	})
	t.Run("an unknown model", func(t *testing.T) {
		resp := e.post(t, ResponsesPath, `{"model":"davinci","input":"x"}`)
		if d := openAIError(t, resp); resp.StatusCode != 404 || !strings.Contains(d.Message, "[models]") {
			t.Errorf("%d %+v, want 404 naming the [models] config", resp.StatusCode, d)
		}
	})
	t.Run("the upstream refuses", func(t *testing.T) {
		e.fake.On(tok("a"), anthropictest.Invalid("max_tokens: 999999 > 64000, which is the maximum"), anthropictest.OK)
		resp := e.post(t, ChatPath, chatBody)
		if d := openAIError(t, resp); resp.StatusCode != 400 || d.Type != "invalid_request_error" || !strings.Contains(d.Message, "64000") {
			t.Errorf("%d %+v, want Anthropic's 400 in OpenAI's shape", resp.StatusCode, d)
		}
	})
	t.Run("GET is not translated", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.proxy.URL+ChatPath, nil)
		req.Header.Set("Authorization", "Bearer "+e.secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if d := openAIError(t, resp); resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
			t.Errorf("%d %+v, want 405", resp.StatusCode, d)
		}
	})
	t.Run("every account resting", func(t *testing.T) {
		e.fake.On(tok("a"), anthropictest.RateLimited(time.Now().Add(30*time.Second)))
		resp := e.post(t, ChatPath, chatBody)
		d := openAIError(t, resp)
		if resp.StatusCode != 429 || d.Type != "rate_limit_error" || *d.Code != "rate_limit_exceeded" || !strings.Contains(d.Message, "MaxRouter") {
			t.Errorf("%d %+v, want 429 rate_limit_exceeded", resp.StatusCode, d)
		}
		if ra := resp.Header.Get("Retry-After"); ra == "" || ra > "30" {
			t.Errorf("retry-after = %q, want the seconds until a is back", ra)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content-type = %q", ct)
		}
	})
	// WriteErrorFor (the paused daemon's answer) speaks each client's language.
	for _, c := range []struct {
		method, path, version string
		openAI                bool
	}{{"POST", ChatPath, "", true}, {"GET", ModelsPath, "", true}, {"GET", ModelsPath, "2023-06-01", false}, {"POST", "/v1/messages", "", false}} {
		req, _ := http.NewRequest(c.method, "http://x"+c.path, nil)
		if c.version != "" {
			req.Header.Set("Anthropic-Version", c.version)
		}
		w := httptest.NewRecorder()
		WriteErrorFor(w, req, 503, "api_error", "paused")
		var shape map[string]any
		json.Unmarshal(w.Body.Bytes(), &shape)
		if _, anthropic := shape["type"]; w.Code != 503 || anthropic == c.openAI {
			t.Errorf("%s %s (version %q): %d %s, want OpenAI's shape %v", c.method, c.path, c.version, w.Code, w.Body, c.openAI)
		}
	}
}

func TestOpenAIToolCallRoundTrip(t *testing.T) {
	e := setup(t, "priority", "a")
	e.fake.On(tok("a"), anthropictest.ToolUse("toolu_01A", "get_weather", `{"city":"Paris"}`), anthropictest.OK)
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	resp := e.post(t, ChatPath, `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],`+tools+`}`)
	var first struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					ID       string
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&first); err != nil || len(first.Choices) != 1 || len(first.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("first answer: %v %+v", err, first)
	}
	call := first.Choices[0].Message.ToolCalls[0]
	if call.ID != "toolu_01A" || call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` || first.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("tool call = %+v (%s)", call, first.Choices[0].FinishReason)
	}
	second := `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
		{"role":"tool","tool_call_id":"toolu_01A","content":"Sunny, 24°C"}],` + tools + `}`
	if resp := e.post(t, ChatPath, second); resp.StatusCode != 200 {
		t.Fatalf("second status = %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	rcv := e.fake.Received()
	var sent struct {
		Messages []struct {
			Role    string
			Content []struct {
				Type      string
				ToolUseID string `json:"tool_use_id"`
			}
		}
	}
	json.Unmarshal(rcv[len(rcv)-1].Body, &sent)
	if n := len(sent.Messages); n != 3 || sent.Messages[1].Content[0].Type != "tool_use" || sent.Messages[2].Content[0].ToolUseID != "toolu_01A" {
		t.Errorf("second request upstream = %s, want user, tool_use, tool_result", rcv[len(rcv)-1].Body)
	}
}

func TestResponsesThroughProxy(t *testing.T) {
	e := setup(t, "priority", "a")
	resp := e.post(t, ResponsesPath, `{"model":"gpt-4o","input":"hi","instructions":"Be brief."}`)
	var r struct {
		Object, Status string
		Output         []struct {
			Type    string
			Content []struct{ Text string }
		}
		Instructions string
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Object != "response" || r.Status != "completed" ||
		len(r.Output) != 1 || r.Output[0].Content[0].Text != "Hello from the fake Anthropic." || r.Instructions != "Be brief." {
		t.Errorf("response = %+v (%v)", r, err)
	}
	resp = e.post(t, ResponsesPath, `{"model":"gpt-4o","input":"hi","stream":true}`)
	body := readAll(t, resp.Body)
	for _, want := range []string{"event: response.created", "event: response.output_text.delta", `"delta":"chunk 1 "`, "event: response.completed"} {
		if !strings.Contains(body, want) {
			t.Errorf("stream lacks %q:\n%s", want, body)
		}
	}
}

func TestOpenAIModelList(t *testing.T) {
	e := setup(t, "priority", "a")
	e.handler.SetModels(map[string]string{"gpt-4o": "claude-sonnet-4-5"})
	req, _ := http.NewRequest("GET", e.proxy.URL+ModelsPath, nil)
	req.Header.Set("Authorization", "Bearer "+e.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string
		Data   []struct{ ID, Object, OwnedBy string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || len(list.Data) != 2 || list.Data[0].ID != "claude-sonnet-4-5" || list.Data[1].ID != "gpt-4o" || list.Data[1].Object != "model" {
		t.Errorf("list = %+v, want the fake's model and the alias", list)
	}
	rcv := e.fake.Received()
	if len(rcv) != 1 || rcv[0].Path != ModelsPath || rcv[0].RawQuery != "limit=1000" || rcv[0].Token != tok("a") {
		t.Errorf("upstream got %+v, want GET /v1/models?limit=1000 with a's token", rcv)
	}
}
