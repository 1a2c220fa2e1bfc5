package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// DefaultMaxTokens is the max_tokens sent to Anthropic when the client
// gave no limit: Anthropic requires one, OpenAI does not.
const DefaultMaxTokens = 8192

// Request is a client request translated to Anthropic's Messages API.
type Request struct {
	// Body is the /v1/messages request body.
	Body []byte
	// Model is the model the client named; Claude the one sent upstream.
	Model, Claude string
	// Stream reports that the client asked for an event stream.
	Stream bool
	// IncludeUsage is Chat Completions' stream_options.include_usage: the
	// stream ends with a chunk carrying the usage.
	IncludeUsage bool

	echo echo // what a Responses answer repeats of its request
}

// echo is what a Responses answer repeats of its request.
type echo struct {
	Instructions      *string         `json:"instructions"`
	MaxOutputTokens   *int            `json:"max_output_tokens"`
	Metadata          json.RawMessage `json:"metadata"`
	ParallelToolCalls bool            `json:"parallel_tool_calls"`
	Temperature       *float64        `json:"temperature"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	Tools             json.RawMessage `json:"tools"`
	TopP              *float64        `json:"top_p"`
	User              *string         `json:"user,omitempty"`
}

// The Messages API request, as much of it as the translation writes. The
// model comes first: the proxy finds it there without decoding the body.
type anthropicRequest struct {
	Model         string      `json:"model"`
	MaxTokens     int         `json:"max_tokens"`
	System        []block     `json:"system,omitempty"`
	Messages      []message   `json:"messages"`
	Tools         []tool      `json:"tools,omitempty"`
	ToolChoice    *toolChoice `json:"tool_choice,omitempty"`
	Temperature   *float64    `json:"temperature,omitempty"`
	TopP          *float64    `json:"top_p,omitempty"`
	StopSequences []string    `json:"stop_sequences,omitempty"`
	Stream        bool        `json:"stream,omitempty"`
	Metadata      *metadata   `json:"metadata,omitempty"`
}

type message struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// block is a content block: text, image, tool_use or tool_result.
type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *source         `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   []block         `json:"content,omitempty"`
}

type source struct {
	Type      string `json:"type"` // base64 | url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type toolChoice struct {
	Type                   string `json:"type"` // auto | any | tool | none
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

type metadata struct {
	UserID string `json:"user_id"`
}

// conversation collects the system prompt and the messages, merging
// consecutive messages of one role (Anthropic wants the tool results of an
// assistant turn in the one user message that follows it).
type conversation struct {
	system []block
	msgs   []message
}

func (c *conversation) add(role string, blocks []block) {
	if len(blocks) == 0 {
		return
	}
	if n := len(c.msgs); n > 0 && c.msgs[n-1].Role == role {
		c.msgs[n-1].Content = append(c.msgs[n-1].Content, blocks...)
		return
	}
	c.msgs = append(c.msgs, message{Role: role, Content: blocks})
}

// common holds the sampling parameters both APIs share.
type common struct {
	maxTokens        *int
	temperature      *float64
	topP             *float64
	stream           bool
	user             string
	tools            []tool
	toolChoice       json.RawMessage
	parallel         *bool
	maxTokensParam   string
	toolChoiceParam  string
	responsesChoices bool // tool_choice in the Responses shape
}

// build finishes the Anthropic request from c and conv.
func (c common) build(claude string, conv conversation, stop []string) ([]byte, error) {
	if len(conv.msgs) == 0 {
		return nil, bad("messages", "no user or assistant message to send")
	}
	out := anthropicRequest{
		Model: claude, MaxTokens: DefaultMaxTokens, System: conv.system, Messages: conv.msgs,
		Tools: c.tools, TopP: c.topP, StopSequences: stop, Stream: c.stream,
	}
	if c.maxTokens != nil {
		if *c.maxTokens < 1 {
			return nil, bad(c.maxTokensParam, "must be at least 1, got %d", *c.maxTokens)
		}
		out.MaxTokens = *c.maxTokens
	}
	if t := c.temperature; t != nil {
		if *t < 0 || *t > 1 {
			return nil, bad("temperature", "Claude takes a temperature from 0 to 1, got %g", *t)
		}
		out.Temperature = t
	}
	if p := c.topP; p != nil && (*p < 0 || *p > 1) {
		return nil, bad("top_p", "must be from 0 to 1, got %g", *p)
	}
	if c.user != "" {
		out.Metadata = &metadata{UserID: c.user}
	}
	tc, err := translateToolChoice(c.toolChoice, c.toolChoiceParam, c.responsesChoices)
	if err != nil {
		return nil, err
	}
	if c.parallel != nil && !*c.parallel {
		if tc == nil {
			tc = &toolChoice{Type: "auto"}
		}
		if tc.Type != "none" {
			tc.DisableParallelToolUse = true
		}
	}
	if tc != nil && len(out.Tools) == 0 && tc.Type != "none" && tc.Type != "auto" {
		return nil, bad(c.toolChoiceParam, "names a tool, but the request has no tools")
	}
	if len(out.Tools) > 0 {
		out.ToolChoice = tc
	}
	return json.Marshal(out)
}

// translateToolChoice reads tool_choice: "auto", "none", "required" or a
// named function ({"type":"function","function":{"name"}} in Chat
// Completions, {"type":"function","name"} in Responses).
func translateToolChoice(raw json.RawMessage, param string, responses bool) (*toolChoice, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto":
			return &toolChoice{Type: "auto"}, nil
		case "none":
			return &toolChoice{Type: "none"}, nil
		case "required":
			return &toolChoice{Type: "any"}, nil
		}
		return nil, bad(param, "want \"auto\", \"none\", \"required\" or a named function, got %q", s)
	}
	var o struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, bad(param, "want a string or an object: %v", err)
	}
	name := o.Function.Name
	if responses {
		name = o.Name
	}
	if o.Type != "function" || name == "" {
		return nil, bad(param, "only \"auto\", \"none\", \"required\" and a named function can be sent to Claude, got type %q", o.Type)
	}
	return &toolChoice{Type: "tool", Name: name}, nil
}

// chatRequest is a Chat Completions request; the fields Anthropic cannot
// honour are read only to refuse them.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	User              string          `json:"user"`
	Tools             []chatTool      `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`

	N                *int            `json:"n"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	LogitBias        map[string]any  `json:"logit_bias"`
	Logprobs         bool            `json:"logprobs"`
	TopLogprobs      *int            `json:"top_logprobs"`
	ResponseFormat   json.RawMessage `json:"response_format"`
	Functions        json.RawMessage `json:"functions"`
	FunctionCall     json.RawMessage `json:"function_call"`
	Audio            json.RawMessage `json:"audio"`
	Modalities       []string        `json:"modalities"`
	WebSearch        json.RawMessage `json:"web_search_options"`
}

type chatMessage struct {
	Role         string          `json:"role"`
	Content      json.RawMessage `json:"content"`
	ToolCalls    []chatToolCall  `json:"tool_calls"`
	ToolCallID   string          `json:"tool_call_id"`
	FunctionCall json.RawMessage `json:"function_call"`
}

type chatToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// ChatRequest translates a Chat Completions request body. system and
// developer messages become the system prompt; tool calls and tool
// messages become tool_use and tool_result blocks; parameters Claude
// cannot honour are refused with a *RequestError, and the ones it can do
// without (seed, store, metadata, service_tier, reasoning_effort, …) are
// ignored.
func ChatRequest(body []byte, models Models) (Request, error) {
	var in chatRequest
	if err := decode(body, &in); err != nil {
		return Request{}, err
	}
	if err := in.refuse(); err != nil {
		return Request{}, err
	}
	claude, err := models.Resolve(in.Model)
	if err != nil {
		return Request{}, err
	}
	var conv conversation
	for i, m := range in.Messages {
		if err := chatMessageInto(&conv, m, fmt.Sprintf("messages[%d]", i)); err != nil {
			return Request{}, err
		}
	}
	tools := make([]tool, 0, len(in.Tools))
	for i, t := range in.Tools {
		if t.Type != "function" {
			return Request{}, bad(fmt.Sprintf("tools[%d].type", i), "only function tools can be sent to Claude, got %q", t.Type)
		}
		tl, err := newTool(t.Function.Name, t.Function.Description, t.Function.Parameters, fmt.Sprintf("tools[%d].function", i))
		if err != nil {
			return Request{}, err
		}
		tools = append(tools, tl)
	}
	stop, err := stopSequences(in.Stop)
	if err != nil {
		return Request{}, err
	}
	c := common{
		maxTokens: in.MaxCompletionTokens, maxTokensParam: "max_completion_tokens",
		temperature: in.Temperature, topP: in.TopP, stream: in.Stream, user: in.User,
		tools: tools, toolChoice: in.ToolChoice, toolChoiceParam: "tool_choice", parallel: in.ParallelToolCalls,
	}
	if c.maxTokens == nil {
		c.maxTokens, c.maxTokensParam = in.MaxTokens, "max_tokens"
	}
	out, err := c.build(claude, conv, stop)
	if err != nil {
		return Request{}, err
	}
	r := Request{Body: out, Model: in.Model, Claude: claude, Stream: in.Stream}
	r.IncludeUsage = in.Stream && in.StreamOptions != nil && in.StreamOptions.IncludeUsage
	return r, nil
}

// refuse names the first parameter Claude cannot honour.
func (in *chatRequest) refuse() error {
	switch {
	case in.N != nil && *in.N != 1:
		return bad("n", "Claude answers with one choice; send n = 1 or leave it out")
	case in.PresencePenalty != nil && *in.PresencePenalty != 0:
		return bad("presence_penalty", "Claude has no presence penalty; send 0 or leave it out")
	case in.FrequencyPenalty != nil && *in.FrequencyPenalty != 0:
		return bad("frequency_penalty", "Claude has no frequency penalty; send 0 or leave it out")
	case len(in.LogitBias) > 0:
		return bad("logit_bias", "Claude has no logit bias")
	case in.Logprobs || in.TopLogprobs != nil && *in.TopLogprobs > 0:
		return bad("logprobs", "Claude does not return log probabilities")
	case !isNull(in.Functions) || !isNull(in.FunctionCall):
		return bad("functions", "the deprecated functions and function_call are not translated: use tools and tool_choice")
	case !isNull(in.Audio):
		return bad("audio", "Claude does not answer with audio")
	case !isNull(in.WebSearch):
		return bad("web_search_options", "web search is not available through the Chat Completions translation")
	}
	for _, m := range in.Modalities {
		if m != "text" {
			return bad("modalities", "Claude answers with text only, got %q", m)
		}
	}
	return refuseFormat(in.ResponseFormat, "response_format")
}

// refuseFormat accepts a text format and refuses JSON modes, which Claude
// has no switch for.
func refuseFormat(raw json.RawMessage, param string) error {
	if isNull(raw) {
		return nil
	}
	var f struct {
		Type string `json:"type"`
	}
	json.Unmarshal(raw, &f)
	if f.Type == "" || f.Type == "text" {
		return nil
	}
	return bad(param, "%q is not translated: Claude has no JSON mode; ask for JSON in the prompt (or use a tool)", f.Type)
}

// chatMessageInto adds one Chat Completions message to conv.
func chatMessageInto(conv *conversation, m chatMessage, param string) error {
	switch m.Role {
	case "system", "developer":
		blocks, err := content(m.Content, param+".content", textOnly)
		if err != nil {
			return err
		}
		conv.system = append(conv.system, blocks...)
	case "user":
		blocks, err := content(m.Content, param+".content", withImages)
		if err != nil {
			return err
		}
		if len(blocks) == 0 {
			return bad(param+".content", "a user message needs some content")
		}
		conv.add("user", blocks)
	case "assistant":
		if !isNull(m.FunctionCall) {
			return bad(param+".function_call", "the deprecated function_call is not translated: use tool_calls")
		}
		blocks, err := content(m.Content, param+".content", textOnly)
		if err != nil {
			return err
		}
		for j, tc := range m.ToolCalls {
			p := fmt.Sprintf("%s.tool_calls[%d]", param, j)
			if tc.Type != "" && tc.Type != "function" {
				return bad(p+".type", "only function calls can be sent to Claude, got %q", tc.Type)
			}
			b, err := toolUse(tc.ID, tc.Function.Name, tc.Function.Arguments, p)
			if err != nil {
				return err
			}
			blocks = append(blocks, b)
		}
		conv.add("assistant", blocks)
	case "tool":
		if m.ToolCallID == "" {
			return bad(param+".tool_call_id", "a tool message needs the id of the call it answers")
		}
		blocks, err := content(m.Content, param+".content", withImages)
		if err != nil {
			return err
		}
		conv.add("user", []block{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: blocks}})
	case "function":
		return bad(param+".role", "the deprecated function role is not translated: use tool messages")
	default:
		return bad(param+".role", "unknown role %q (want system, developer, user, assistant or tool)", m.Role)
	}
	return nil
}

// toolUse is a tool_use block for a call whose arguments are a JSON object
// in a string.
func toolUse(id, name, args, param string) (block, error) {
	if id == "" || name == "" {
		return block{}, bad(param, "a tool call needs an id and a function name")
	}
	input := json.RawMessage(strings.TrimSpace(args))
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	if !json.Valid(input) || input[0] != '{' {
		return block{}, bad(param+".arguments", "must be a JSON object in a string")
	}
	return block{Type: "tool_use", ID: id, Name: name, Input: input}, nil
}

// newTool is a tool definition; a function without parameters takes an
// empty object.
func newTool(name, description string, params json.RawMessage, param string) (tool, error) {
	if name == "" {
		return tool{}, bad(param+".name", "a function tool needs a name")
	}
	if isNull(params) {
		params = json.RawMessage(`{"type":"object","properties":{}}`)
	} else if p := bytes.TrimSpace(params); len(p) == 0 || p[0] != '{' {
		return tool{}, bad(param+".parameters", "must be a JSON Schema object")
	}
	return tool{Name: name, Description: description, InputSchema: params}, nil
}

// stopSequences reads stop: a string or a list of strings.
func stopSequences(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, bad("stop", "want a string or a list of strings")
	}
	return list, nil
}

// contentKind says what a message's content may hold.
type contentKind int

const (
	textOnly contentKind = iota
	withImages
)

// part is one content part of either API.
type part struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Refusal  string          `json:"refusal"`
	ImageURL json.RawMessage `json:"image_url"`
	FileID   string          `json:"file_id"`
}

// content reads message content: a string, or a list of parts (text and
// images in Chat Completions' and Responses' spellings).
func content(raw json.RawMessage, param string, kind contentKind) ([]block, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return textBlock(s), nil
	}
	var parts []part
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, bad(param, "want a string or a list of content parts")
	}
	var out []block
	for i, p := range parts {
		pp := fmt.Sprintf("%s[%d]", param, i)
		switch p.Type {
		case "text", "input_text", "output_text":
			out = append(out, textBlock(p.Text)...)
		case "refusal":
			out = append(out, textBlock(p.Refusal)...)
		case "image_url", "input_image":
			if kind != withImages {
				return nil, bad(pp, "images can be sent in user and tool messages only")
			}
			if p.FileID != "" {
				return nil, bad(pp+".file_id", "uploaded files are not available: send the image as a data: or https: URL")
			}
			b, err := image(p.ImageURL, pp+".image_url")
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		default:
			return nil, bad(pp+".type", "content of type %q cannot be sent to Claude (text and images can)", p.Type)
		}
	}
	return out, nil
}

func textBlock(s string) []block {
	if s == "" {
		return nil // Anthropic refuses empty text blocks
	}
	return []block{{Type: "text", Text: s}}
}

// imageTypes are the image media types Claude reads.
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// image reads an image URL ({"url": …} or a plain string): a base64 data:
// URL or an https: URL.
func image(raw json.RawMessage, param string) (block, error) {
	var u string
	if json.Unmarshal(raw, &u) != nil {
		var o struct {
			URL string `json:"url"`
		}
		json.Unmarshal(raw, &o)
		u = o.URL
	}
	switch {
	case strings.HasPrefix(u, "data:"):
		meta, data, ok := strings.Cut(u[len("data:"):], ",")
		mt, enc, _ := strings.Cut(meta, ";")
		if !ok || enc != "base64" || data == "" {
			return block{}, bad(param, "a data: URL must be base64 (data:image/png;base64,…)")
		}
		if !imageTypes[mt] {
			return block{}, bad(param, "Claude reads JPEG, PNG, GIF and WebP images, got %q", mt)
		}
		return block{Type: "image", Source: &source{Type: "base64", MediaType: mt, Data: data}}, nil
	case strings.HasPrefix(u, "https://"):
		return block{Type: "image", Source: &source{Type: "url", URL: u}}, nil
	case u == "":
		return block{}, bad(param, "an image needs a url")
	}
	return block{}, bad(param, "want a data: or https: URL")
}

// decode reads a JSON object request body.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &RequestError{Message: "the request body is not a valid JSON request: " + err.Error()}
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	r := bytes.TrimSpace(raw)
	return len(r) == 0 || bytes.Equal(r, []byte("null"))
}
