// Package jsonedit changes a JSON document in place: setting a value or
// removing a member rewrites only those bytes, so every other key, their
// order, the formatting and whatever the document holds that this program
// does not know survive an edit. A member added to an object takes the
// indentation of its siblings (or, in an empty object of an indented
// document, one level more than the object's line).
package jsonedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Object is a JSON object as written: its members in order and where each
// one sits in the document.
type Object struct {
	Members     []Member
	open, close int // offsets of its braces
}

// Member is one key of an Object and its raw value.
type Member struct {
	Key   string
	Value json.RawMessage
	// Offsets in the document: the key's opening quote, just past its
	// closing quote, and the value's bounds.
	keyStart, keyEnd, valStart, valEnd int
}

// Get returns the value of key; with duplicate keys the last one wins, as
// in encoding/json.
func (o *Object) Get(key string) (json.RawMessage, bool) {
	if m := o.last(key); m != nil {
		return m.Value, true
	}
	return nil, false
}

func (o *Object) last(key string) *Member {
	for i := len(o.Members) - 1; i >= 0; i-- {
		if o.Members[i].Key == key {
			return &o.Members[i]
		}
	}
	return nil
}

// Parse reads a document that is one JSON object (with whitespace around
// it).
func Parse(data []byte) (*Object, error) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	s := scanner{data: data}
	s.space()
	if s.i >= len(data) || data[s.i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return s.object()
}

// Lookup returns the object at path: the top-level object for an empty
// path, else the object held by each key in turn. ok is false when a key
// is missing; a key that holds something else than an object is an error.
func Lookup(data []byte, path ...string) (obj *Object, ok bool, err error) {
	obj, err = Parse(data)
	if err != nil {
		return nil, false, err
	}
	for i, key := range path {
		m := obj.last(key)
		if m == nil {
			return nil, false, nil
		}
		if len(m.Value) == 0 || m.Value[0] != '{' {
			return nil, false, fmt.Errorf("%s is not an object", strings.Join(path[:i+1], "."))
		}
		s := scanner{data: data, i: m.valStart}
		if obj, err = s.object(); err != nil {
			return nil, false, err
		}
	}
	return obj, true, nil
}

// Set returns data with the member at path (the keys of nested objects,
// then the member's) set to value, a JSON value. Every member of that
// name is set (a duplicate too); a missing one is added after the last
// member of its object, and objects missing on the way are added as well.
// A key on the way that holds something else than an object is an error.
func Set(data []byte, path []string, value json.RawMessage) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("jsonedit: no key to set")
	}
	if !json.Valid(value) {
		return nil, fmt.Errorf("jsonedit: the value for %s is not valid JSON", strings.Join(path, "."))
	}
	for _, k := range path {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("jsonedit: key %q is not valid UTF-8", k)
		}
	}
	for depth := 0; depth < len(path); depth++ {
		obj, ok, err := Lookup(data, path[:depth]...)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("jsonedit: %s went missing", strings.Join(path[:depth], "."))
		}
		key := path[depth]
		if obj.last(key) != nil {
			continue
		}
		v := value
		if depth < len(path)-1 {
			v = json.RawMessage("{}")
		}
		data = insert(data, obj, key, v)
	}
	obj, ok, err := Lookup(data, path[:len(path)-1]...)
	if err != nil || !ok {
		return nil, errors.Join(err, errors.New("jsonedit: the object to set went missing"))
	}
	key := path[len(path)-1]
	var edits []edit
	for _, m := range obj.Members {
		if m.Key == key {
			edits = append(edits, edit{m.valStart, m.valEnd, value})
		}
	}
	return splice(data, edits), nil
}

// Delete returns data without the member at path (every member of that
// name). A missing member, or object on the way, leaves data as it is.
func Delete(data []byte, path []string) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("jsonedit: no key to delete")
	}
	for {
		obj, ok, err := Lookup(data, path[:len(path)-1]...)
		if err != nil || !ok {
			return data, err
		}
		i := -1
		for j, m := range obj.Members {
			if m.Key == path[len(path)-1] {
				i = j
			}
		}
		if i < 0 {
			return data, nil
		}
		ms := obj.Members
		var e edit
		switch {
		case i > 0: // from the end of the one before: its comma goes
			e = edit{ms[i-1].valEnd, ms[i].valEnd, nil}
		case len(ms) > 1: // the first of several: up to the next key
			e = edit{ms[0].keyStart, ms[1].keyStart, nil}
		default: // the only one: the object is left empty
			e = edit{obj.open + 1, obj.close, nil}
		}
		data = splice(data, []edit{e})
	}
}

// insert adds "key": value to obj, formatted like its members.
func insert(data []byte, obj *Object, key string, value json.RawMessage) []byte {
	k, _ := json.Marshal(key)
	if n := len(obj.Members); n > 0 {
		last := obj.Members[n-1]
		indent := data[lineSpaceStart(data, last.keyStart):last.keyStart]
		colon := data[last.keyEnd:last.valStart]
		var b bytes.Buffer
		b.WriteByte(',')
		b.Write(indent)
		b.Write(k)
		b.Write(colon)
		b.Write(value)
		return splice(data, []edit{{last.valEnd, last.valEnd, b.Bytes()}})
	}
	// An empty object: indented when the document is.
	var b bytes.Buffer
	if bytes.IndexByte(data, '\n') >= 0 {
		own := lineIndent(data, obj.open)
		b.WriteString("\n" + own + indentUnit(data))
		b.Write(k)
		b.WriteString(": ")
		b.Write(value)
		b.WriteString("\n" + own)
	} else {
		b.Write(k)
		b.WriteByte(':')
		b.Write(value)
	}
	return splice(data, []edit{{obj.open + 1, obj.close, b.Bytes()}})
}

// lineSpaceStart is where the whitespace before offset i begins (a newline
// included).
func lineSpaceStart(data []byte, i int) int {
	for i > 0 && isSpace(data[i-1]) {
		i--
	}
	return i
}

// lineIndent is the leading whitespace of the line holding offset i.
func lineIndent(data []byte, i int) string {
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	end := start
	for end < len(data) && (data[end] == ' ' || data[end] == '\t') {
		end++
	}
	return string(data[start:end])
}

// indentUnit guesses one level of the document's indentation: the
// indentation of its first indented line, else two spaces.
func indentUnit(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n"))[1:] {
		n := 0
		for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
			n++
		}
		if n > 0 && n < len(line) {
			return string(line[:n])
		}
	}
	return "  "
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// edit replaces data[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// splice applies non-overlapping edits to a copy of data.
func splice(data []byte, edits []edit) []byte {
	out := make([]byte, 0, len(data)+64)
	at := 0
	for _, e := range sortedEdits(edits) {
		out = append(out, data[at:e.start]...)
		out = append(out, e.repl...)
		at = e.end
	}
	return append(out, data[at:]...)
}

func sortedEdits(edits []edit) []edit {
	out := append([]edit(nil), edits...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// scanner walks a document already known to be valid JSON.
type scanner struct {
	data []byte
	i    int
}

func (s *scanner) space() {
	for s.i < len(s.data) && isSpace(s.data[s.i]) {
		s.i++
	}
}

// object reads the object starting at s.i.
func (s *scanner) object() (*Object, error) {
	o := &Object{open: s.i}
	s.i++ // {
	for {
		s.space()
		if s.data[s.i] == '}' {
			o.close = s.i
			s.i++
			return o, nil
		}
		if s.data[s.i] == ',' {
			s.i++
			s.space()
		}
		m := Member{keyStart: s.i}
		s.skipString()
		m.keyEnd = s.i
		if err := json.Unmarshal(s.data[m.keyStart:m.keyEnd], &m.Key); err != nil {
			return nil, fmt.Errorf("reading a key at offset %d: %w", m.keyStart, err)
		}
		s.space()
		s.i++ // :
		s.space()
		m.valStart = s.i
		s.skipValue()
		m.valEnd = s.i
		m.Value = json.RawMessage(s.data[m.valStart:m.valEnd])
		o.Members = append(o.Members, m)
	}
}

// skipString moves past the string starting at s.i.
func (s *scanner) skipString() {
	for s.i++; s.i < len(s.data); s.i++ {
		switch s.data[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return
		}
	}
}

// skipValue moves past the value starting at s.i.
func (s *scanner) skipValue() {
	switch s.data[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for ; s.i < len(s.data); s.i++ {
			switch s.data[s.i] {
			case '"':
				s.skipString()
				s.i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.i++
					return
				}
			}
		}
	default: // a number, true, false or null
		for s.i < len(s.data) && !isSpace(s.data[s.i]) && !strings.ContainsRune(",}]", rune(s.data[s.i])) {
			s.i++
		}
	}
}
