package openai

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// anthropicMessage is a Messages API answer, as much as the translation
// reads.
type anthropicMessage struct {
	ID         string         `json:"id"`
	Model      string         `json:"model"`
	StopReason string         `json:"stop_reason"`
	Content    []contentBlock `json:"content"`
	Usage      anthropicUsage `json:"usage"`
}

type contentBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type anthropicUsage struct {
	InputTokens   int64 `json:"input_tokens"`
	OutputTokens  int64 `json:"output_tokens"`
	CacheRead     int64 `json:"cache_read_input_tokens"`
	CacheCreation int64 `json:"cache_creation_input_tokens"`
}

// prompt is every input token, cached ones included, as OpenAI counts
// them (Anthropic's input_tokens leaves the cache out).
func (u anthropicUsage) prompt() int64 { return u.InputTokens + u.CacheRead + u.CacheCreation }

// finishReason maps Anthropic's stop_reason to Chat Completions'
// finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

// chatID is the completion id for an Anthropic message id.
func chatID(msgID string) string { return "chatcmpl-" + strings.TrimPrefix(msgID, "msg_") }

type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *chatUsage   `json:"usage,omitempty"`
}

type chatChoice struct {
	Index        int              `json:"index"`
	Message      *chatAnswer      `json:"message,omitempty"`
	Delta        *chatDelta       `json:"delta,omitempty"`
	Logprobs     *json.RawMessage `json:"logprobs"`
	FinishReason *string          `json:"finish_reason"`
}

type chatAnswer struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
}

type chatDelta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func newChatUsage(u anthropicUsage) *chatUsage {
	c := &chatUsage{PromptTokens: u.prompt(), CompletionTokens: u.OutputTokens, TotalTokens: u.prompt() + u.OutputTokens}
	c.PromptTokensDetails.CachedTokens = u.CacheRead
	return c
}

// ChatAnswer translates a Messages API answer into a chat.completion: the
// text blocks joined as the content, tool_use blocks as tool_calls,
// stop_reason as finish_reason, and the usage with cached prompt tokens.
// Thinking blocks are left out. created is the completion's time.
func ChatAnswer(anthropic []byte, created time.Time) ([]byte, error) {
	var m anthropicMessage
	if err := json.Unmarshal(anthropic, &m); err != nil {
		return nil, fmt.Errorf("reading the upstream message: %w", err)
	}
	msg := &chatAnswer{Role: "assistant"}
	var text strings.Builder
	hasText := false
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			hasText = true
		case "tool_use":
			var tc chatToolCall
			tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments = b.ID, "function", b.Name, arguments(b.Input)
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
	}
	if hasText {
		s := text.String()
		msg.Content = &s
	}
	reason := finishReason(m.StopReason)
	return json.Marshal(chatCompletion{
		ID: chatID(m.ID), Object: "chat.completion", Created: created.Unix(), Model: m.Model,
		Choices: []chatChoice{{Message: msg, FinishReason: &reason}},
		Usage:   newChatUsage(m.Usage),
	})
}

// arguments is a tool call's input as the JSON string OpenAI sends.
func arguments(input json.RawMessage) string {
	if isNull(input) {
		return "{}"
	}
	return string(input)
}

// The Responses API answer.
type response struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	CreatedAt         int64           `json:"created_at"`
	Status            string          `json:"status"`
	Error             *responseError  `json:"error"`
	IncompleteDetails *incomplete     `json:"incomplete_details"`
	Model             string          `json:"model"`
	Output            []any           `json:"output"`
	Usage             *responsesUsage `json:"usage"`
	echo
}

type responseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type incomplete struct {
	Reason string `json:"reason"`
}

type messageItem struct {
	Type    string       `json:"type"` // message
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []outputText `json:"content"`
}

type outputText struct {
	Type        string `json:"type"` // output_text
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

type functionCallItem struct {
	Type      string `json:"type"` // function_call
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Status    string `json:"status"`
}

type responsesUsage struct {
	InputTokens        int64 `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int64 `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int64 `json:"total_tokens"`
}

func newResponsesUsage(u anthropicUsage) *responsesUsage {
	r := &responsesUsage{InputTokens: u.prompt(), OutputTokens: u.OutputTokens, TotalTokens: u.prompt() + u.OutputTokens}
	r.InputTokensDetails.CachedTokens = u.CacheRead
	return r
}

// responseID, messageID and callItemID name a response and its output
// items after the Anthropic message and tool_use ids.
func responseID(msgID string) string { return "resp_" + strings.TrimPrefix(msgID, "msg_") }

func messageID(msgID string, n int) string {
	return "msg_" + strings.TrimPrefix(msgID, "msg_") + "_" + strconv.Itoa(n)
}

func callItemID(toolID string) string { return "fc_" + strings.TrimPrefix(toolID, "toolu_") }

// status is a response's status and why it is incomplete, for a
// stop_reason.
func status(stop string) (string, *incomplete) {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "incomplete", &incomplete{Reason: "max_output_tokens"}
	case "refusal":
		return "incomplete", &incomplete{Reason: "content_filter"}
	}
	return "completed", nil
}

// ResponsesAnswer translates a Messages API answer into a Responses API
// response: each text block a message item, each tool_use block a
// function_call item, max_tokens as an incomplete response, and the usage
// with cached input tokens. req is the translated request, whose
// parameters the response repeats; created is the response's time.
func ResponsesAnswer(anthropic []byte, req Request, created time.Time) ([]byte, error) {
	var m anthropicMessage
	if err := json.Unmarshal(anthropic, &m); err != nil {
		return nil, fmt.Errorf("reading the upstream message: %w", err)
	}
	st, inc := status(m.StopReason)
	r := response{
		ID: responseID(m.ID), Object: "response", CreatedAt: created.Unix(), Status: st, IncompleteDetails: inc,
		Model: m.Model, Output: []any{}, Usage: newResponsesUsage(m.Usage), echo: req.echo,
	}
	for i, b := range m.Content {
		switch b.Type {
		case "text":
			r.Output = append(r.Output, messageItem{Type: "message", ID: messageID(m.ID, i), Status: "completed", Role: "assistant",
				Content: []outputText{{Type: "output_text", Text: b.Text, Annotations: []any{}}}})
		case "tool_use":
			r.Output = append(r.Output, functionCallItem{Type: "function_call", ID: callItemID(b.ID), CallID: b.ID, Name: b.Name, Arguments: arguments(b.Input), Status: "completed"})
		}
	}
	return json.Marshal(r)
}
