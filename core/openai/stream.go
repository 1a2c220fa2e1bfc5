package openai

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Stream translates Anthropic's event stream into an OpenAI one as it
// arrives: each Translate hands over the next bytes of the upstream body
// and appends the translation of every event they complete to dst. Nothing
// is held back but the start of an event whose end has not come yet.
type Stream interface {
	Translate(dst, p []byte) []byte
}

// events splits an event stream into events as its bytes arrive.
type events struct {
	line []byte // the start of a line split across chunks
	name string
	data []byte
}

// feed reads p and calls fn for every event it completes.
func (e *events) feed(p []byte, fn func(name string, data []byte)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			e.line = append(e.line, p...)
			return
		}
		l := p[:i]
		p = p[i+1:]
		if len(e.line) > 0 {
			e.line = append(e.line, l...)
			l = e.line
		}
		e.lineDone(bytes.TrimSuffix(l, []byte("\r")), fn)
		e.line = e.line[:0]
	}
}

func (e *events) lineDone(l []byte, fn func(string, []byte)) {
	switch {
	case len(l) == 0:
		if e.name != "" || len(e.data) > 0 {
			fn(e.name, e.data)
		}
		e.name, e.data = "", e.data[:0]
	case bytes.HasPrefix(l, []byte("event:")):
		e.name = string(bytes.TrimSpace(l[len("event:"):]))
	case bytes.HasPrefix(l, []byte("data:")):
		d := bytes.TrimPrefix(l[len("data:"):], []byte(" "))
		if len(e.data) > 0 {
			e.data = append(e.data, '\n')
		}
		e.data = append(e.data, d...)
	}
}

// The events of Anthropic's stream, as much as the translation reads.
type streamEvent struct {
	Index        int               `json:"index"`
	Message      *anthropicMessage `json:"message"`
	ContentBlock *contentBlock     `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *struct {
		InputTokens   *int64 `json:"input_tokens"`
		OutputTokens  *int64 `json:"output_tokens"`
		CacheRead     *int64 `json:"cache_read_input_tokens"`
		CacheCreation *int64 `json:"cache_creation_input_tokens"`
	} `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// mergeUsage takes the counts a message_delta reports (output_tokens is
// the total so far; newer streams repeat the input counts there too).
func (ev *streamEvent) mergeUsage(u *anthropicUsage) {
	if ev.Usage == nil {
		return
	}
	for _, f := range [...]struct {
		v   *int64
		dst *int64
	}{{ev.Usage.InputTokens, &u.InputTokens}, {ev.Usage.OutputTokens, &u.OutputTokens}, {ev.Usage.CacheRead, &u.CacheRead}, {ev.Usage.CacheCreation, &u.CacheCreation}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
}

// streamError is the error of an `event: error`, in OpenAI's shape.
func streamError(ev *streamEvent) ErrorDetail {
	typ, msg := "api_error", "the upstream stream ended with an error"
	if ev.Error != nil {
		typ = cmpOr(ev.Error.Type, typ)
		msg = cmpOr(ev.Error.Message, msg)
	}
	d := ErrorDetail{Message: msg, Type: typ}
	if c := codes[typ]; c != "" {
		d.Code = &c
	}
	return d
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// chatStream translates to Chat Completions chunks.
type chatStream struct {
	ev      events
	req     Request
	created int64
	id      string
	model   string
	tools   map[int]int // content block index → tool call index
	usage   anthropicUsage
	out     []byte
}

// NewChatStream returns the Stream for a streamed Chat Completions
// request: a first chunk with the role, then content deltas and tool-call
// deltas with their argument fragments, a last chunk with the
// finish_reason, the usage chunk when req.IncludeUsage, and `data: [DONE]`.
// An `event: error` becomes a chunk {"error":{…}} that OpenAI's SDKs raise.
func NewChatStream(req Request, created time.Time) Stream {
	return &chatStream{req: req, created: created.Unix(), model: req.Claude, tools: map[int]int{}}
}

func (s *chatStream) Translate(dst, p []byte) []byte {
	s.out = dst
	s.ev.feed(p, s.event)
	dst, s.out = s.out, nil
	return dst
}

func (s *chatStream) chunk(delta *chatDelta, finish *string, usage *chatUsage) {
	c := chatCompletion{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model, Usage: usage, Choices: []chatChoice{}}
	if delta != nil {
		c.Choices = append(c.Choices, chatChoice{Delta: delta, FinishReason: finish})
	}
	s.data(c)
}

func (s *chatStream) data(v any) {
	b, _ := json.Marshal(v)
	s.out = append(s.out, "data: "...)
	s.out = append(s.out, b...)
	s.out = append(s.out, "\n\n"...)
}

func (s *chatStream) event(name string, data []byte) {
	var ev streamEvent
	switch name {
	case "ping", "content_block_stop", "":
		return
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return // not an event this translation knows
	}
	switch name {
	case "message_start":
		if ev.Message != nil {
			s.id, s.model, s.usage = chatID(ev.Message.ID), cmpOr(ev.Message.Model, s.model), ev.Message.Usage
		}
		empty := ""
		s.chunk(&chatDelta{Role: "assistant", Content: &empty}, nil, nil)
	case "content_block_start":
		b := ev.ContentBlock
		switch {
		case b == nil:
		case b.Type == "tool_use":
			k := len(s.tools)
			s.tools[ev.Index] = k
			td := toolCallDelta{Index: k, ID: b.ID, Type: "function"}
			td.Function.Name = b.Name
			s.chunk(&chatDelta{ToolCalls: []toolCallDelta{td}}, nil, nil)
		case b.Type == "text" && b.Text != "":
			s.chunk(&chatDelta{Content: &b.Text}, nil, nil)
		}
	case "content_block_delta":
		switch ev.Delta.Type {
		case "text_delta":
			s.chunk(&chatDelta{Content: &ev.Delta.Text}, nil, nil)
		case "input_json_delta":
			k, ok := s.tools[ev.Index]
			if !ok || ev.Delta.PartialJSON == "" {
				return
			}
			td := toolCallDelta{Index: k}
			td.Function.Arguments = ev.Delta.PartialJSON
			s.chunk(&chatDelta{ToolCalls: []toolCallDelta{td}}, nil, nil)
		}
	case "message_delta":
		ev.mergeUsage(&s.usage)
		reason := finishReason(ev.Delta.StopReason)
		s.chunk(&chatDelta{}, &reason, nil)
	case "message_stop":
		if s.req.IncludeUsage {
			s.chunk(nil, nil, newChatUsage(s.usage))
		}
		s.out = append(s.out, "data: [DONE]\n\n"...)
	case "error":
		s.data(ErrorBody{streamError(&ev)})
	}
}

// responsesStream translates to Responses API events.
type responsesStream struct {
	ev     events
	seq    int
	resp   response
	blocks map[int]*openItem // content block index → its output item
	usage  anthropicUsage
	stop   string
	out    []byte
}

// openItem is an output item being streamed.
type openItem struct {
	index int // in the output
	id    string
	call  *functionCallItem // nil: a message
	text  strings.Builder
	args  strings.Builder
}

// NewResponsesStream returns the Stream for a streamed Responses request:
// response.created and response.in_progress, then for each text block a
// message item (output_item.added, content_part.added, output_text.delta…,
// output_text.done, content_part.done, output_item.done) and for each
// tool_use block a function_call item (with function_call_arguments.delta
// and .done), and response.completed (or response.incomplete) with the
// whole response and its usage. An `event: error` becomes an error event
// followed by response.failed.
func NewResponsesStream(req Request, created time.Time) Stream {
	return &responsesStream{
		blocks: map[int]*openItem{},
		resp:   response{Object: "response", CreatedAt: created.Unix(), Status: "in_progress", Model: req.Claude, Output: []any{}, echo: req.echo},
	}
}

func (s *responsesStream) Translate(dst, p []byte) []byte {
	s.out = dst
	s.ev.feed(p, s.event)
	dst, s.out = s.out, nil
	return dst
}

// responseEvent is one Responses streaming event; the fields an event type
// does not carry are left out.
type responseEvent struct {
	Type           string      `json:"type"`
	SequenceNumber int         `json:"sequence_number"`
	Response       *response   `json:"response,omitempty"`
	OutputIndex    *int        `json:"output_index,omitempty"`
	ItemID         string      `json:"item_id,omitempty"`
	ContentIndex   *int        `json:"content_index,omitempty"`
	Item           any         `json:"item,omitempty"`
	Part           *outputText `json:"part,omitempty"`
	Delta          *string     `json:"delta,omitempty"`
	Text           *string     `json:"text,omitempty"`
	Arguments      *string     `json:"arguments,omitempty"`
	Logprobs       *[]any      `json:"logprobs,omitempty"`
	Code           *string     `json:"code,omitempty"`
	Message        string      `json:"message,omitempty"`
}

func (s *responsesStream) emit(e responseEvent) {
	e.SequenceNumber = s.seq
	s.seq++
	b, _ := json.Marshal(e)
	s.out = append(s.out, "event: "...)
	s.out = append(s.out, e.Type...)
	s.out = append(s.out, "\ndata: "...)
	s.out = append(s.out, b...)
	s.out = append(s.out, "\n\n"...)
}

// snapshot is a copy of the response as it stands, for an event to carry.
func (s *responsesStream) snapshot() *response {
	r := s.resp
	r.Output = append([]any{}, s.resp.Output...)
	return &r
}

func (s *responsesStream) event(name string, data []byte) {
	var ev streamEvent
	switch name {
	case "ping", "":
		return
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return
	}
	zero := 0
	switch name {
	case "message_start":
		if ev.Message != nil {
			s.resp.ID, s.resp.Model, s.usage = responseID(ev.Message.ID), cmpOr(ev.Message.Model, s.resp.Model), ev.Message.Usage
		}
		s.emit(responseEvent{Type: "response.created", Response: s.snapshot()})
		s.emit(responseEvent{Type: "response.in_progress", Response: s.snapshot()})
	case "content_block_start":
		b := ev.ContentBlock
		if b == nil || (b.Type != "text" && b.Type != "tool_use") {
			return
		}
		it := &openItem{index: len(s.resp.Output)}
		s.blocks[ev.Index] = it
		if b.Type == "tool_use" {
			it.id = callItemID(b.ID)
			it.call = &functionCallItem{Type: "function_call", ID: it.id, CallID: b.ID, Name: b.Name, Status: "in_progress"}
			s.resp.Output = append(s.resp.Output, *it.call)
			s.emit(responseEvent{Type: "response.output_item.added", OutputIndex: &it.index, Item: *it.call})
			return
		}
		it.id = messageID(strings.TrimPrefix(s.resp.ID, "resp_"), ev.Index)
		item := messageItem{Type: "message", ID: it.id, Status: "in_progress", Role: "assistant", Content: []outputText{}}
		s.resp.Output = append(s.resp.Output, item)
		s.emit(responseEvent{Type: "response.output_item.added", OutputIndex: &it.index, Item: item})
		s.emit(responseEvent{Type: "response.content_part.added", ItemID: it.id, OutputIndex: &it.index, ContentIndex: &zero,
			Part: &outputText{Type: "output_text", Annotations: []any{}}})
		if b.Text != "" {
			s.textDelta(it, b.Text)
		}
	case "content_block_delta":
		it := s.blocks[ev.Index]
		switch {
		case it == nil:
		case it.call == nil && ev.Delta.Type == "text_delta":
			s.textDelta(it, ev.Delta.Text)
		case it.call != nil && ev.Delta.Type == "input_json_delta" && ev.Delta.PartialJSON != "":
			it.args.WriteString(ev.Delta.PartialJSON)
			s.emit(responseEvent{Type: "response.function_call_arguments.delta", ItemID: it.id, OutputIndex: &it.index, Delta: &ev.Delta.PartialJSON})
		}
	case "content_block_stop":
		it := s.blocks[ev.Index]
		if it == nil {
			return
		}
		delete(s.blocks, ev.Index)
		if it.call != nil {
			call := *it.call
			call.Arguments, call.Status = arguments(json.RawMessage(it.args.String())), "completed"
			s.resp.Output[it.index] = call
			s.emit(responseEvent{Type: "response.function_call_arguments.done", ItemID: it.id, OutputIndex: &it.index, Arguments: &call.Arguments})
			s.emit(responseEvent{Type: "response.output_item.done", OutputIndex: &it.index, Item: call})
			return
		}
		text := it.text.String()
		part := outputText{Type: "output_text", Text: text, Annotations: []any{}}
		item := messageItem{Type: "message", ID: it.id, Status: "completed", Role: "assistant", Content: []outputText{part}}
		s.resp.Output[it.index] = item
		s.emit(responseEvent{Type: "response.output_text.done", ItemID: it.id, OutputIndex: &it.index, ContentIndex: &zero, Text: &text, Logprobs: &[]any{}})
		s.emit(responseEvent{Type: "response.content_part.done", ItemID: it.id, OutputIndex: &it.index, ContentIndex: &zero, Part: &part})
		s.emit(responseEvent{Type: "response.output_item.done", OutputIndex: &it.index, Item: item})
	case "message_delta":
		ev.mergeUsage(&s.usage)
		if ev.Delta.StopReason != "" {
			s.stop = ev.Delta.StopReason
		}
	case "message_stop":
		s.resp.Status, s.resp.IncompleteDetails = status(s.stop)
		s.resp.Usage = newResponsesUsage(s.usage)
		typ := "response.completed"
		if s.resp.Status == "incomplete" {
			typ = "response.incomplete"
		}
		s.emit(responseEvent{Type: typ, Response: s.snapshot()})
	case "error":
		d := streamError(&ev)
		code := d.Type
		if d.Code != nil {
			code = *d.Code
		}
		s.emit(responseEvent{Type: "error", Code: &code, Message: d.Message})
		s.resp.Status, s.resp.Error = "failed", &responseError{Code: code, Message: d.Message}
		s.emit(responseEvent{Type: "response.failed", Response: s.snapshot()})
	}
}

func (s *responsesStream) textDelta(it *openItem, d string) {
	if d == "" {
		return
	}
	it.text.WriteString(d)
	zero := 0
	s.emit(responseEvent{Type: "response.output_text.delta", ItemID: it.id, OutputIndex: &it.index, ContentIndex: &zero, Delta: &d, Logprobs: &[]any{}})
}
