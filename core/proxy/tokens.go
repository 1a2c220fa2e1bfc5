package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/maxrouter/maxrouter/core/usage"
)

// Token usage is best-effort: what cannot be read is left out of the
// history, never a reason to touch the answer.
const (
	// jsonTailSize is how much of the end of a JSON answer is kept for its
	// usage object, which Anthropic puts last.
	jsonTailSize = 4 << 10
	// maxCarry bounds a wanted event-stream line split across reads; a
	// longer one is dropped.
	maxCarry = 64 << 10
)

var (
	eventPrefix  = []byte("event:")
	dataPrefix   = []byte("data:")
	messageStart = []byte("message_start")
	messageDelta = []byte("message_delta")
	usageKey     = []byte(`"usage"`)
)

// errNoUsage is reported (at Debug) for a JSON answer without a usage
// object; an event without one is no error.
var errNoUsage = errors.New(`no "usage" object at the end of the answer`)

// errUsageCut is reported (at Debug) for a usage object that ends early.
var errUsageCut = errors.New("the usage object is cut short")

// wireUsage is a usage object as the API sends it; a field left at -1 was
// absent.
type wireUsage struct {
	Input         int64 `json:"input_tokens"`
	Output        int64 `json:"output_tokens"`
	CacheRead     int64 `json:"cache_read_input_tokens"`
	CacheCreation int64 `json:"cache_creation_input_tokens"`
}

var absentUsage = wireUsage{-1, -1, -1, -1}

// mergeInto sets the fields of t that u carries and reports whether it
// carried any.
func (u wireUsage) mergeInto(t *usage.Tokens) bool {
	got := false
	for _, f := range [...]struct {
		v   int64
		dst *int64
	}{{u.Input, &t.Input}, {u.Output, &t.Output}, {u.CacheRead, &t.CacheRead}, {u.CacheCreation, &t.CacheCreation}} {
		if f.v >= 0 {
			*f.dst, got = f.v, true
		}
	}
	return got
}

// sseTokens follows an event stream line by line for the token usage that
// message_start and message_delta report. Only the data lines of those two
// events are decoded; any other line is passed over without a copy. A
// wanted line split across reads is carried to the next one, up to
// maxCarry bytes.
type sseTokens struct {
	t     usage.Tokens
	seen  bool      // some usage was read
	inUse bool      // the lines follow `event: message_start` or `event: message_delta`
	skip  bool      // the rest of the current line is of no interest
	carry []byte    // the start of a wanted line split across reads
	err   error     // the first data line that did not decode
	u     wireUsage // the last event's usage (here to spare an allocation)
}

// feed reads the next chunk of the stream.
func (s *sseTokens) feed(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial(p)
			return
		}
		line := p[:i]
		p = p[i+1:]
		switch {
		case s.skip:
			s.skip = false
		case len(s.carry) > 0:
			if len(s.carry)+len(line) <= maxCarry {
				s.carry = append(s.carry, line...)
				s.line(s.carry)
			}
			s.carry = s.carry[:0]
		default:
			s.line(line)
		}
	}
}

// partial takes the start of a line the chunk ends in.
func (s *sseTokens) partial(p []byte) {
	if s.skip {
		return
	}
	var buf [8]byte
	head := append(buf[:0], s.carry[:min(len(s.carry), len(eventPrefix))]...)
	head = append(head, p[:min(len(p), len(eventPrefix)-len(head))]...)
	if !s.wants(head) || len(s.carry)+len(p) > maxCarry {
		s.carry = s.carry[:0]
		s.skip = true
		return
	}
	s.carry = append(s.carry, p...)
}

// wants reports whether a line starting with head (up to 6 bytes) may be
// one to read.
func (s *sseTokens) wants(head []byte) bool {
	switch {
	case bytes.HasPrefix(head, eventPrefix):
		return true
	case bytes.HasPrefix(head, dataPrefix):
		return s.inUse
	case len(head) == 1 && head[0] == '\r':
		return true // may be the blank line (CRLF) that ends an event
	}
	// Too short to tell yet.
	return len(head) < len(eventPrefix) && (bytes.HasPrefix(eventPrefix, head) || bytes.HasPrefix(dataPrefix, head))
}

// line reads one whole line.
func (s *sseTokens) line(l []byte) {
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	switch {
	case len(l) == 0: // the event ends
		s.inUse = false
	case bytes.HasPrefix(l, eventPrefix):
		name := bytes.TrimPrefix(l[len(eventPrefix):], []byte(" "))
		s.inUse = bytes.Equal(name, messageStart) || bytes.Equal(name, messageDelta)
	case s.inUse && bytes.HasPrefix(l, dataPrefix):
		s.data(l[len(dataPrefix):])
	}
}

// data decodes the usage in the data of a message_start or message_delta
// event.
func (s *sseTokens) data(d []byte) {
	if err := decodeUsage(d, &s.u); err != nil {
		if s.err == nil && err != errNoUsage {
			s.err = fmt.Errorf("reading a stream event: %w", err)
		}
		return
	}
	if s.u.mergeInto(&s.t) {
		s.seen = true
	}
}

// result is the usage the stream reported, and whether it reported any.
func (s *sseTokens) result() (usage.Tokens, bool, error) {
	return s.t, s.seen, s.err
}

// jsonTokens reads the usage object of a JSON message from the end of its
// body.
func jsonTokens(end []byte) (usage.Tokens, bool, error) {
	var (
		t usage.Tokens
		u wireUsage
	)
	if err := decodeUsage(end, &u); err != nil {
		return t, false, err
	}
	ok := u.mergeInto(&t)
	return t, ok, nil
}

// decodeUsage decodes into u the value of the last "usage" key in b,
// which is the message's own: in a message_start event the content is
// empty, and in a message Anthropic puts the usage after the content. Only
// the usage object is decoded, not what surrounds it.
func decodeUsage(b []byte, u *wireUsage) error {
	*u = absentUsage
	v, err := usageValue(b)
	if err != nil || v == nil {
		return err
	}
	if err := json.Unmarshal(v, u); err != nil {
		*u = absentUsage
		return fmt.Errorf("decoding the usage object: %w", err)
	}
	return nil
}

// usageValue returns the object that the last "usage" key in b holds, or
// nil when it holds something else (null). A "usage" key is `"usage"`
// followed by a colon: inside a JSON string the quotes would be escaped.
func usageValue(b []byte) ([]byte, error) {
	// Forward, since bytes.Index is much faster than bytes.LastIndex.
	var v []byte
	found := false
	for rest := b; ; {
		i := bytes.Index(rest, usageKey)
		if i < 0 {
			break
		}
		rest = rest[i+len(usageKey):]
		if after := bytes.TrimLeft(rest, " \t\r\n"); len(after) > 0 && after[0] == ':' {
			v, found = bytes.TrimLeft(after[1:], " \t\r\n"), true
		}
	}
	if !found {
		return nil, errNoUsage
	}
	switch {
	case len(v) == 0:
		return nil, errUsageCut
	case v[0] != '{':
		return nil, nil
	}
	depth, inString := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return v[:i+1], nil
			}
		}
	}
	return nil, errUsageCut
}
