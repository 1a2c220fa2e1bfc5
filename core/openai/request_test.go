package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON (want): %v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

func TestChatRequest(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		stream, usage  bool
	}{{
		name: "system and developer messages become the system prompt; an alias is mapped; max_tokens has a default",
		in:   `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Use French."}]},{"role":"user","content":"Hi","name":"ann"}]}`,
		want: `{"model":"claude-sonnet-4-5","max_tokens":8192,"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Use French."}],
			"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
	}, {
		name: "claude models pass through; sampling parameters, stop, stream, user",
		in: `{"model":"claude-opus-4-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":100,"max_completion_tokens":200,
			"temperature":0.5,"top_p":0.9,"stop":"END","stream":true,"stream_options":{"include_usage":true},"user":"u-1",
			"n":1,"presence_penalty":0,"frequency_penalty":0,"seed":7,"store":false,"response_format":{"type":"text"},"reasoning_effort":"low"}`,
		want: `{"model":"claude-opus-4-5","max_tokens":200,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
			"temperature":0.5,"top_p":0.9,"stop_sequences":["END"],"stream":true,"metadata":{"user_id":"u-1"}}`,
		stream: true, usage: true,
	}, {
		name: "images as data: and https: URLs, text parts",
		in: `{"model":"gpt-4o-mini","max_tokens":50,"stop":["a","b"],"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},
			{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
			{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}`,
		want: `{"model":"claude-haiku-4-5","max_tokens":50,"stop_sequences":["a","b"],"messages":[{"role":"user","content":[
			{"type":"text","text":"What is this?"},
			{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
			{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}`,
	}, {
		name: "a tool round trip: tool calls become tool_use, tool messages one user turn of tool_result with what follows",
		in: `{"model":"o3","messages":[{"role":"user","content":"Weather in Paris and Rome?"},
			{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
				{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":""}}]},
			{"role":"tool","tool_call_id":"call_1","content":"Sunny"},
			{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"Rain"}]},
			{"role":"user","content":"Thanks"}],
			"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
				{"type":"function","function":{"name":"now"}}],
			"tool_choice":"required","parallel_tool_calls":false}`,
		want: `{"model":"claude-opus-4-5","max_tokens":8192,"messages":[
			{"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},
			{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"get_weather","input":{}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":[{"type":"text","text":"Sunny"}]},
				{"type":"tool_result","tool_use_id":"call_2","content":[{"type":"text","text":"Rain"}]},{"type":"text","text":"Thanks"}]}],
			"tools":[{"name":"get_weather","description":"Weather by city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},
				{"name":"now","input_schema":{"type":"object","properties":{}}}],
			"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`,
	}, {
		name: "a named function as tool_choice",
		in:   `{"model":"gpt-4.1","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		want: `{"model":"claude-sonnet-4-5","max_tokens":8192,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],
			"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"tool","name":"f"}}`,
	}, {
		name: "tool_choice none, and auto without tools (dropped)",
		in:   `{"model":"gpt-4.1","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}`,
		want: `{"model":"claude-sonnet-4-5","max_tokens":8192,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],
			"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"none"}}`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ChatRequest([]byte(c.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got.Body, []byte(c.want)) {
				t.Errorf("body =\n%s\nwant\n%s", got.Body, c.want)
			}
			if !strings.HasPrefix(string(got.Body), `{"model":`) {
				t.Errorf("body does not start with the model: %.40s", got.Body)
			}
			if got.Stream != c.stream || got.IncludeUsage != c.usage {
				t.Errorf("stream, include usage = %v, %v, want %v, %v", got.Stream, got.IncludeUsage, c.stream, c.usage)
			}
			var in struct{ Model string }
			json.Unmarshal([]byte(c.in), &in)
			if got.Model != in.Model {
				t.Errorf("Model = %q, want the client's %q", got.Model, in.Model)
			}
		})
	}
}

func TestChatRequestRefused(t *testing.T) {
	user := `"messages":[{"role":"user","content":"x"}]`
	for _, c := range []struct {
		in, param, msg string
		status         int
	}{
		{`{"model":"gpt-4o",` + user + `,"temperature":1.5}`, "temperature", "from 0 to 1", 400},
		{`{"model":"gpt-4o",` + user + `,"n":2}`, "n", "one choice", 400},
		{`{"model":"gpt-4o",` + user + `,"presence_penalty":0.5}`, "presence_penalty", "no presence penalty", 400},
		{`{"model":"gpt-4o",` + user + `,"frequency_penalty":-1}`, "frequency_penalty", "no frequency penalty", 400},
		{`{"model":"gpt-4o",` + user + `,"logit_bias":{"50256":-100}}`, "logit_bias", "logit bias", 400},
		{`{"model":"gpt-4o",` + user + `,"logprobs":true}`, "logprobs", "log probabilities", 400},
		{`{"model":"gpt-4o",` + user + `,"response_format":{"type":"json_schema","json_schema":{}}}`, "response_format", "no JSON mode", 400},
		{`{"model":"gpt-4o",` + user + `,"functions":[{"name":"f"}]}`, "functions", "use tools", 400},
		{`{"model":"gpt-4o",` + user + `,"modalities":["text","audio"]}`, "modalities", "text only", 400},
		{`{"model":"gpt-4o",` + user + `,"max_tokens":0}`, "max_tokens", "at least 1", 400},
		{`{"model":"gpt-4o",` + user + `,"tool_choice":"required"}`, "tool_choice", "no tools", 400},
		{`{"model":"gpt-4o",` + user + `,"tools":[{"type":"custom","custom":{"name":"x"}}]}`, "tools[0].type", "only function tools", 400},
		{`{"model":"gpt-4o",` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools"}}`, "tool_choice", "named function", 400},
		{`{"model":"gpt-unknown",` + user + `}`, "model", "[models]", 404},
		{`{` + user + `}`, "model", "required", 400},
		{`{"model":"gpt-4o","messages":[]}`, "messages", "no user or assistant message", 400},
		{`{"model":"gpt-4o","messages":[{"role":"system","content":"only a system prompt"}]}`, "messages", "no user or assistant message", 400},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":""}]}`, "messages[0].content", "needs some content", 400},
		{`{"model":"gpt-4o","messages":[{"role":"critic","content":"x"}]}`, "messages[0].role", "unknown role", 400},
		{`{"model":"gpt-4o","messages":[{"role":"function","name":"f","content":"x"}]}`, "messages[0].role", "deprecated function role", 400},
		{`{"model":"gpt-4o","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id", "id of the call", 400},
		{`{"model":"gpt-4o","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`, "messages[0].tool_calls[0].arguments", "JSON object", 400},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, "messages[0].content[0].type", `"input_audio"`, 400},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://example.com/a.png"}}]}]}`, "messages[0].content[0].image_url", "data: or https:", 400},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,raw"}}]}]}`, "messages[0].content[0].image_url", "base64", 400},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]}`, "messages[0].content[0].image_url", "image/bmp", 400},
		{`{"model":"gpt-4o","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]},{"role":"user","content":"x"}]}`, "messages[0].content[0]", "user and tool messages only", 400},
		{`{"model":"gpt-4o","messages":"hi"}`, "", "not a valid JSON request", 400},
	} {
		_, err := ChatRequest([]byte(c.in), nil)
		var re *RequestError
		if !errors.As(err, &re) {
			t.Errorf("%s: err = %v, want a *RequestError", c.in, err)
			continue
		}
		if re.Param != c.param || !strings.Contains(re.Message, c.msg) || re.StatusCode() != c.status {
			t.Errorf("%s:\nerr = %d %q (param %q), want %d, param %q, a message with %q", c.in, re.StatusCode(), re.Message, re.Param, c.status, c.param, c.msg)
		}
		var body ErrorBody
		if err := json.Unmarshal(re.Body(), &body); err != nil || body.Error.Message == "" || body.Error.Type == "" {
			t.Errorf("%s: body %s is not OpenAI's error shape", c.in, re.Body())
		}
	}
}

func TestResponsesRequest(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{{
		name: "a string input, instructions, max_output_tokens",
		in:   `{"model":"gpt-5","input":"Tell me a joke","instructions":"You are funny.","max_output_tokens":300,"stream":true,"store":false,"reasoning":{"effort":"low"}}`,
		want: `{"model":"claude-sonnet-4-5","max_tokens":300,"system":[{"type":"text","text":"You are funny."}],
			"messages":[{"role":"user","content":[{"type":"text","text":"Tell me a joke"}]}],"stream":true}`,
	}, {
		name: "items: messages with parts, a function call and its output, reasoning dropped",
		in: `{"model":"gpt-4o-mini","input":[
			{"role":"developer","content":"Answer in one word."},
			{"type":"message","role":"user","content":[{"type":"input_text","text":"Weather?"},{"type":"input_image","image_url":"data:image/jpeg;base64,/9j/","detail":"auto"}]},
			{"type":"reasoning","id":"rs_1","summary":[]},
			{"type":"function_call","id":"fc_1","call_id":"call_9","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"},
			{"type":"function_call_output","call_id":"call_9","output":"Snow"},
			{"role":"assistant","content":[{"type":"output_text","text":"Snow."}]},
			{"role":"user","content":"Thanks"}],
			"tools":[{"type":"function","name":"get_weather","description":"d","parameters":{"type":"object"},"strict":true}],
			"tool_choice":{"type":"function","name":"get_weather"}}`,
		want: `{"model":"claude-haiku-4-5","max_tokens":8192,"system":[{"type":"text","text":"Answer in one word."}],"messages":[
			{"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}]},
			{"role":"assistant","content":[{"type":"tool_use","id":"call_9","name":"get_weather","input":{"city":"Oslo"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_9","content":[{"type":"text","text":"Snow"}]}]},
			{"role":"assistant","content":[{"type":"text","text":"Snow."}]},
			{"role":"user","content":[{"type":"text","text":"Thanks"}]}],
			"tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object"}}],
			"tool_choice":{"type":"tool","name":"get_weather"}}`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ResponsesRequest([]byte(c.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got.Body, []byte(c.want)) {
				t.Errorf("body =\n%s\nwant\n%s", got.Body, c.want)
			}
		})
	}
}

func TestResponsesRequestRefused(t *testing.T) {
	for _, c := range []struct{ in, param, msg string }{
		{`{"model":"gpt-4o","input":"x","previous_response_id":"resp_1"}`, "previous_response_id", "keeps no responses"},
		{`{"model":"gpt-4o","input":"x","conversation":"conv_1"}`, "conversation", "keeps no conversations"},
		{`{"model":"gpt-4o","input":"x","background":true}`, "background", "background"},
		{`{"model":"gpt-4o","input":"x","tools":[{"type":"web_search"}]}`, "tools[0].type", "only function tools"},
		{`{"model":"gpt-4o","input":"x","text":{"format":{"type":"json_schema","name":"x","schema":{}}}}`, "text.format", "no JSON mode"},
		{`{"model":"gpt-4o","input":[{"type":"item_reference","id":"msg_1"}]}`, "input[0].type", `"item_reference"`},
		{`{"model":"gpt-4o","input":[{"type":"function_call_output","output":"x"}]}`, "input[0].call_id", "call_id"},
		{`{"model":"gpt-4o"}`, "input", "required"},
		{`{"model":"gpt-4o","input":[]}`, "input", "no user or assistant message"},
		{`{"model":"gpt-4o","input":"x","tool_choice":{"type":"file_search"},"tools":[{"type":"function","name":"f"}]}`, "tool_choice", "named function"},
	} {
		_, err := ResponsesRequest([]byte(c.in), nil)
		var re *RequestError
		if !errors.As(err, &re) || re.Param != c.param || !strings.Contains(re.Message, c.msg) {
			t.Errorf("%s: err = %v, want param %q and a message with %q", c.in, err, c.param, c.msg)
		}
	}
}

func TestModelsResolve(t *testing.T) {
	m := Models{"fast": "claude-haiku-4-5", "off": ""}
	for _, c := range []struct{ in, want, err string }{
		{"fast", "claude-haiku-4-5", ""},
		{"claude-3-7-sonnet-latest", "claude-3-7-sonnet-latest", ""},
		{"gpt-4o", "", `"gpt-4o" is not a Claude model`}, // a map replaces the defaults
		{"off", "", "not a Claude model"},
	} {
		got, err := m.Resolve(c.in)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("Resolve(%q) = %q, %v, want %q, %q", c.in, got, err, c.want, c.err)
		}
	}
	if got, _ := Models(nil).Resolve("o3"); got != Opus {
		t.Errorf("default o3 = %q, want %q", got, Opus)
	}
}

func TestModelList(t *testing.T) {
	in := `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false}`
	got, err := ModelList([]byte(in), Models{"gpt-4o": "claude-sonnet-4-5", "mini": "claude-haiku-4-5"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"id":"claude-sonnet-4-5","object":"model","created":1759104000,"owned_by":"anthropic"},
		{"id":"gpt-4o","object":"model","created":1759104000,"owned_by":"maxrouter"},{"id":"mini","object":"model","created":0,"owned_by":"maxrouter"}]}`
	if !jsonEqual(t, got, []byte(want)) {
		t.Errorf("ModelList =\n%s\nwant\n%s", got, want)
	}
}
