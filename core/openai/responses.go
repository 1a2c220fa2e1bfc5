package openai

import (
	"encoding/json"
	"fmt"
)

// responsesRequest is a Responses API request; the fields Anthropic cannot
// honour are read only to refuse them.
type responsesRequest struct {
	Model             string          `json:"model"`
	Input             json.RawMessage `json:"input"`
	Instructions      *string         `json:"instructions"`
	MaxOutputTokens   *int            `json:"max_output_tokens"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	Tools             json.RawMessage `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	Stream            bool            `json:"stream"`
	User              string          `json:"user"`
	Metadata          json.RawMessage `json:"metadata"`

	PreviousResponseID string          `json:"previous_response_id"`
	Conversation       json.RawMessage `json:"conversation"`
	Prompt             json.RawMessage `json:"prompt"`
	Background         bool            `json:"background"`
	Text               *struct {
		Format json.RawMessage `json:"format"`
	} `json:"text"`
	TopLogprobs *int `json:"top_logprobs"`
}

type responsesTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// item is one input item of a Responses request: a message, a function
// call the model made, or a function call's output.
type item struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

// ResponsesRequest translates a Responses API request body. instructions
// and system or developer messages become the system prompt; function
// calls and their outputs become tool_use and tool_result blocks; reasoning
// items are dropped. What needs state kept by OpenAI (previous_response_id,
// conversation, stored prompts, background runs), hosted tools and JSON
// output formats are refused with a *RequestError; store, reasoning,
// truncation and include are ignored.
func ResponsesRequest(body []byte, models Models) (Request, error) {
	var in responsesRequest
	if err := decode(body, &in); err != nil {
		return Request{}, err
	}
	switch {
	case in.PreviousResponseID != "":
		return Request{}, bad("previous_response_id", "MaxRouter keeps no responses: send the whole conversation as input")
	case !isNull(in.Conversation):
		return Request{}, bad("conversation", "MaxRouter keeps no conversations: send the whole conversation as input")
	case !isNull(in.Prompt):
		return Request{}, bad("prompt", "stored prompts are not available: send the instructions and input")
	case in.Background:
		return Request{}, bad("background", "background responses are not available")
	case in.TopLogprobs != nil && *in.TopLogprobs > 0:
		return Request{}, bad("top_logprobs", "Claude does not return log probabilities")
	}
	if in.Text != nil {
		if err := refuseFormat(in.Text.Format, "text.format"); err != nil {
			return Request{}, err
		}
	}
	claude, err := models.Resolve(in.Model)
	if err != nil {
		return Request{}, err
	}
	var conv conversation
	if in.Instructions != nil {
		conv.system = textBlock(*in.Instructions)
	}
	if err := inputInto(&conv, in.Input); err != nil {
		return Request{}, err
	}
	var rtools []responsesTool
	if !isNull(in.Tools) {
		if err := json.Unmarshal(in.Tools, &rtools); err != nil {
			return Request{}, bad("tools", "want a list of tools")
		}
	}
	tools := make([]tool, 0, len(rtools))
	for i, t := range rtools {
		if t.Type != "function" {
			return Request{}, bad(fmt.Sprintf("tools[%d].type", i), "only function tools can be sent to Claude, got %q", t.Type)
		}
		tl, err := newTool(t.Name, t.Description, t.Parameters, fmt.Sprintf("tools[%d]", i))
		if err != nil {
			return Request{}, err
		}
		tools = append(tools, tl)
	}
	c := common{
		maxTokens: in.MaxOutputTokens, maxTokensParam: "max_output_tokens",
		temperature: in.Temperature, topP: in.TopP, stream: in.Stream, user: in.User,
		tools: tools, toolChoice: in.ToolChoice, toolChoiceParam: "tool_choice", parallel: in.ParallelToolCalls,
		responsesChoices: true,
	}
	out, err := c.build(claude, conv, nil)
	if err != nil {
		if re, ok := err.(*RequestError); ok && re.Param == "messages" {
			re.Param = "input"
		}
		return Request{}, err
	}
	e := echo{
		Instructions: in.Instructions, MaxOutputTokens: in.MaxOutputTokens, Metadata: in.Metadata,
		ParallelToolCalls: in.ParallelToolCalls == nil || *in.ParallelToolCalls,
		Temperature:       in.Temperature, TopP: in.TopP, ToolChoice: in.ToolChoice, Tools: in.Tools,
	}
	if isNull(e.Metadata) {
		e.Metadata = json.RawMessage("{}")
	}
	if isNull(e.ToolChoice) {
		e.ToolChoice = json.RawMessage(`"auto"`)
	}
	if isNull(e.Tools) {
		e.Tools = json.RawMessage("[]")
	}
	if in.User != "" {
		e.User = &in.User
	}
	return Request{Body: out, Model: in.Model, Claude: claude, Stream: in.Stream, echo: e}, nil
}

// inputInto adds the input (a string, or a list of items) to conv.
func inputInto(conv *conversation, raw json.RawMessage) error {
	if isNull(raw) {
		return bad("input", "input is required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		conv.add("user", textBlock(s))
		return nil
	}
	var items []item
	if err := json.Unmarshal(raw, &items); err != nil {
		return bad("input", "want a string or a list of input items")
	}
	for i, it := range items {
		p := fmt.Sprintf("input[%d]", i)
		switch it.Type {
		case "", "message":
			if err := chatMessageInto(conv, chatMessage{Role: it.Role, Content: it.Content}, p); err != nil {
				return err
			}
		case "function_call":
			b, err := toolUse(it.CallID, it.Name, it.Arguments, p)
			if err != nil {
				return err
			}
			conv.add("assistant", []block{b})
		case "function_call_output":
			if it.CallID == "" {
				return bad(p+".call_id", "a function call output needs the call_id of its call")
			}
			blocks, err := content(it.Output, p+".output", withImages)
			if err != nil {
				return err
			}
			conv.add("user", []block{{Type: "tool_result", ToolUseID: it.CallID, Content: blocks}})
		case "reasoning":
			// OpenAI's reasoning of an earlier turn: nothing Claude can read.
		default:
			return bad(p+".type", "input items of type %q cannot be sent to Claude (messages, function calls and their outputs can)", it.Type)
		}
	}
	return nil
}
