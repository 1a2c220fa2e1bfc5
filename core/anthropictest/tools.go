package anthropictest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// ToolUse answers like a model that calls a tool: a message with one
// tool_use block (id, name, input: a JSON object) and stop_reason
// "tool_use", streamed when the request asked for it (the input in two
// input_json_delta fragments).
func ToolUse(id, name, input string) Reply {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		f := fakeOf(r.Context())
		limitHeaders(w.Header(), f.now(), "allowed", 0.25, 0.1)
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		json.Unmarshal(body, &req)
		msg := message(req.Model, "")
		block := map[string]any{"type": "tool_use", "id": id, "name": name, "input": json.RawMessage(input)}
		msg["stop_reason"] = "tool_use"
		if !req.Stream {
			msg["content"] = []any{block}
			writeJSON(w, 200, msg)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fl, _ := w.(http.Flusher)
		send := func(name string, data any) {
			b, _ := json.Marshal(data)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
			if fl != nil {
				fl.Flush()
			}
		}
		msg["content"], msg["stop_reason"] = []any{}, nil
		send("message_start", map[string]any{"type": "message_start", "message": msg})
		block["input"] = map[string]any{}
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": block})
		half := len(input) / 2
		for _, part := range []string{input[:half], input[half:]} {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]string{"type": "input_json_delta", "partial_json": part}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
		send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "tool_use", "stop_sequence": nil}, "usage": map[string]int{"output_tokens": 12}})
		send("message_stop", map[string]string{"type": "message_stop"})
	}
}

// Invalid answers 400 invalid_request_error with msg, as Anthropic does
// for a request it cannot take (an unknown model, a bad parameter).
func Invalid(msg string) Reply {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 400, errorBody("invalid_request_error", msg))
	}
}
