package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// DefaultPath returns the default configuration file,
// <os.UserConfigDir()>/maxrouter/config.toml.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the user config directory: %w", err)
	}
	return filepath.Join(dir, "maxrouter", "config.toml"), nil
}

// Load reads and parses the configuration file at path (see Parse). A missing
// file gives an error wrapping fs.ErrNotExist.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a TOML configuration over Default and validates the result.
// name is the file name used in error messages. Unknown keys are refused.
// Every problem is reported with the file and line, one per line of the
// error:
//
//	config.toml:7: unknown key "stratgy" (did you mean "strategy"?)
//	config.toml:3: key "cooldown": invalid duration "abc" (want e.g. "60s" or "5m")
//	config.toml:2:10: unexpected character U+000A at start of value
//
// Invalid values give a *ValidationError.
func Parse(data []byte, name string) (Config, error) {
	c := Default()
	c.Models = nil // a [models] table replaces the defaults
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(name, err)
	}
	if c.Models == nil {
		c.Models = Default().Models
	}
	if s, ok := strategyAlias(c.Strategy); ok {
		c.Strategy = s
	}
	pos := locate(data)
	// A bare number decodes into a Duration as nanoseconds; nobody means that.
	for _, key := range []string{"cooldown", "refresh_before", "response_timeout", "stream_idle_timeout", "quota_poll"} {
		if v, ok := pos.numbers[key]; ok {
			return Config{}, fmt.Errorf("%s:%d: key %q: invalid duration %s (want a string such as \"60s\" or \"5m\")",
				name, pos.lines[key], key, v)
		}
	}
	if err := c.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = name
			ve.lines = pos.lines
		}
		return Config{}, err
	}
	return c, nil
}

// decodeError rewrites a go-toml error into "file:line: ..." lines.
func decodeError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		msgs := make([]string, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			line, _ := e.Position()
			key := e.Key()
			msg := fmt.Sprintf("%s:%d: unknown key %q", name, line, strings.Join(key, "."))
			if s := suggest(key); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			msgs = append(msgs, msg)
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if len(de.Key()) == 0 {
			return fmt.Errorf("%s:%d:%d: %s", name, line, col, msg)
		}
		key := strings.Join(de.Key(), ".")
		return fmt.Errorf("%s:%d: key %q: %s", name, line, key, friendlyDecodeMessage(msg))
	}
	return fmt.Errorf("%s: %w", name, err)
}

// friendlyDecodeMessage turns go-toml's type mismatch message, which names Go
// types, into one that names what the file should hold.
func friendlyDecodeMessage(msg string) string {
	if strings.Contains(msg, "already defined") {
		return "set more than once"
	}
	rest, ok := strings.CutPrefix(msg, "cannot decode TOML ")
	if !ok {
		return msg
	}
	got, rest, ok := strings.Cut(rest, " into struct field ")
	if !ok {
		return msg
	}
	_, goType, ok := strings.Cut(rest, " of type ")
	if !ok {
		return msg
	}
	var want string
	switch goType {
	case "string":
		want = "a string"
	case "int":
		want = "an integer"
	case "bool", "*bool":
		want = "true or false"
	case "config.Duration":
		want = `a duration string such as "60s" or "5m"`
	case "config.Notifications":
		want = "a table"
	case "[]config.Account":
		want = "[[account]] tables"
	default:
		return msg
	}
	return fmt.Sprintf("want %s, got %s", want, withArticle(got))
}

func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// suggest returns the known key closest to the last part of an unknown key,
// or "" when none is close.
func suggest(key []string) string {
	if len(key) == 0 {
		return ""
	}
	t := reflect.TypeFor[Config]()
	for _, part := range key[:len(key)-1] {
		f, ok := fieldByTOMLName(t, part)
		if !ok {
			return ""
		}
		t = f.Type
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return ""
		}
	}
	unknown := key[len(key)-1]
	best, bestDist := "", 3
	for i := range t.NumField() {
		name := tomlName(t.Field(i))
		if d := editDistance(unknown, name); d < bestDist && d < len(unknown) {
			best, bestDist = name, d
		}
	}
	return best
}

func fieldByTOMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if tomlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// positions records where a document sets each configuration field.
type positions struct {
	// lines maps field names as used in FieldError ("listen",
	// "notifications.needs_login", "accounts[1]", "accounts[1].dir") to the
	// 1-based line that sets them.
	lines map[string]int
	// numbers holds the text of integer and float values by field name.
	numbers map[string]string
}

// locate finds the line of every key and table in a TOML document. It is
// best effort: on a syntax error it returns what it found before.
func locate(data []byte) positions {
	pos := positions{lines: map[string]int{}, numbers: map[string]string{}}
	var p unstable.Parser
	p.Reset(data)
	// The parser's Shape counts lines from the start of the document on
	// every call: quadratic in a file of many keys (a minute for 20000
	// accounts). The line is the number of newlines before the offset.
	var newlines []int
	for i, c := range data {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	line := func(r unstable.Range) int {
		n, _ := slices.BinarySearch(newlines, int(r.Offset))
		return n + 1
	}
	arrays := map[string]int{} // next index of each array of tables
	prefix := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			prefix = ""
			var first unstable.Range
			for it := e.Key(); it.Next(); {
				if prefix == "" {
					first = it.Node().Raw
				}
				prefix = fieldName(prefix, string(it.Node().Data))
			}
			if e.Kind == unstable.ArrayTable {
				n := arrays[prefix]
				arrays[prefix] = n + 1
				prefix = fmt.Sprintf("%s[%d]", prefix, n)
			}
			pos.lines[prefix] = line(first)
		case unstable.KeyValue:
			pos.keyValue(prefix, e, line)
		}
	}
	return pos
}

// keyValue records a key-value node found under the field prefix, and the
// contents of an inline table or array it holds.
func (pos positions) keyValue(prefix string, kv *unstable.Node, line func(unstable.Range) int) {
	field := prefix
	for it := kv.Key(); it.Next(); {
		field = fieldName(field, string(it.Node().Data))
	}
	pos.lines[field] = line(kv.Raw)
	pos.value(field, kv.Value(), line(kv.Raw), line)
}

func (pos positions) value(field string, v *unstable.Node, at int, line func(unstable.Range) int) {
	switch v.Kind {
	case unstable.Integer, unstable.Float:
		pos.numbers[field] = string(v.Data)
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				pos.keyValue(field, n, line)
			}
		}
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); {
			elem := fmt.Sprintf("%s[%d]", field, i)
			pos.lines[elem] = at
			pos.value(elem, it.Node(), at, line)
			i++
		}
	}
}

// fieldName appends a TOML key part to a field name. The top-level key
// "account" is the field "accounts", as in the JSON form.
func fieldName(prefix, part string) string {
	if prefix == "" {
		if part == "account" {
			return "accounts"
		}
		return part
	}
	return prefix + "." + part
}

// lineOf returns the line that sets field, or of the nearest enclosing table
// that the document has, or 0.
func lineOf(lines map[string]int, field string) int {
	for field != "" {
		if n, ok := lines[field]; ok {
			return n
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}
