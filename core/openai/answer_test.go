package openai

import (
	"encoding/json"
	"net/http"
	"testing"
)

const toolAnswer = `{"id":"msg_01Abc","type":"message","role":"assistant","model":"claude-sonnet-4-5",
	"content":[{"type":"thinking","thinking":"hmm","signature":"x"},{"type":"text","text":"Checking "},{"type":"text","text":"now."},
		{"type":"tool_use","id":"toolu_01Xyz","name":"get_weather","input":{"city":"Paris"}}],
	"stop_reason":"tool_use","stop_sequence":null,
	"usage":{"input_tokens":20,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":30}}`

func TestChatAnswer(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{{
		name: "text and tool calls, usage with the cache",
		in:   toolAnswer,
		want: `{"id":"chatcmpl-01Abc","object":"chat.completion","created":1767225600,"model":"claude-sonnet-4-5",
			"choices":[{"index":0,"message":{"role":"assistant","content":"Checking now.","refusal":null,
				"tool_calls":[{"id":"toolu_01Xyz","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
				"logprobs":null,"finish_reason":"tool_calls"}],
			"usage":{"prompt_tokens":125,"completion_tokens":30,"total_tokens":155,"prompt_tokens_details":{"cached_tokens":100}}}`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ChatAnswer([]byte(c.in), created)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, []byte(c.want)) {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
	for _, c := range []struct{ stop, want string }{
		{"end_turn", "stop"}, {"stop_sequence", "stop"}, {"max_tokens", "length"}, {"tool_use", "tool_calls"},
		{"refusal", "content_filter"}, {"pause_turn", "stop"}, {"model_context_window_exceeded", "length"},
	} {
		if got := finishReason(c.stop); got != c.want {
			t.Errorf("finishReason(%q) = %q, want %q", c.stop, got, c.want)
		}
	}
	// Only a tool call: the content is null.
	got, _ := ChatAnswer([]byte(`{"id":"msg_1","model":"m","content":[{"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use","usage":{}}`), created)
	if want := `{"id":"chatcmpl-1","object":"chat.completion","created":1767225600,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,
		"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
		"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0}}}`; !jsonEqual(t, got, []byte(want)) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestResponsesAnswer(t *testing.T) {
	req, err := ResponsesRequest([]byte(`{"model":"gpt-4o","input":"x","instructions":"Be nice.","max_output_tokens":64,"temperature":0.2,"metadata":{"k":"v"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResponsesAnswer([]byte(toolAnswer), req, created)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"resp_01Abc","object":"response","created_at":1767225600,"status":"completed","error":null,"incomplete_details":null,"model":"claude-sonnet-4-5",
		"output":[
			{"type":"message","id":"msg_01Abc_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Checking ","annotations":[]}]},
			{"type":"message","id":"msg_01Abc_2","status":"completed","role":"assistant","content":[{"type":"output_text","text":"now.","annotations":[]}]},
			{"type":"function_call","id":"fc_01Xyz","call_id":"toolu_01Xyz","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"}],
		"usage":{"input_tokens":125,"input_tokens_details":{"cached_tokens":100},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":155},
		"instructions":"Be nice.","max_output_tokens":64,"metadata":{"k":"v"},"parallel_tool_calls":true,"temperature":0.2,"tool_choice":"auto","tools":[],"top_p":null}`
	if !jsonEqual(t, got, []byte(want)) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got, _ = ResponsesAnswer([]byte(`{"id":"msg_2","model":"m","content":[{"type":"text","text":"One"}],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":1}}`), req, created)
	var r response
	if err := json.Unmarshal(got, &r); err != nil || r.Status != "incomplete" || r.IncompleteDetails == nil || r.IncompleteDetails.Reason != "max_output_tokens" {
		t.Errorf("max_tokens answer = %s, want status incomplete for max_output_tokens", got)
	}
}

func TestError(t *testing.T) {
	for _, c := range []struct {
		status   int
		in, want string
	}{
		{429, `{"type":"error","error":{"type":"rate_limit_error","message":"MaxRouter: every account is resting"}}`,
			`{"error":{"message":"MaxRouter: every account is resting","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`},
		{401, `{"type":"error","error":{"type":"authentication_error","message":"invalid client token"}}`,
			`{"error":{"message":"invalid client token","type":"authentication_error","param":null,"code":"invalid_api_key"}}`},
		{400, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too big"}}`,
			`{"error":{"message":"max_tokens: too big","type":"invalid_request_error","param":null,"code":null}}`},
		{502, `<html>Bad gateway</html>`, `{"error":{"message":"<html>Bad gateway</html>","type":"api_error","param":null,"code":null}}`},
		{503, ``, `{"error":{"message":"upstream answered Service Unavailable","type":"api_error","param":null,"code":null}}`},
	} {
		if got := Error(c.status, []byte(c.in)); !jsonEqual(t, got, []byte(c.want)) {
			t.Errorf("Error(%d, %s) =\n%s\nwant\n%s", c.status, c.in, got, c.want)
		}
	}
	if got := (&RequestError{Param: "x", Message: "m"}).StatusCode(); got != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", got)
	}
}
