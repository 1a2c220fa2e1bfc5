package openai

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// created is the time every answer and stream in the tests is made at.
var created = time.Unix(1767225600, 0)

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// streams are the translations under test, by golden file suffix.
var streams = []struct {
	suffix string
	new    func() Stream
}{
	{"chat", func() Stream { return NewChatStream(Request{Claude: "claude-sonnet-4-5"}, created) }},
	{"chat-usage", func() Stream {
		return NewChatStream(Request{Claude: "claude-sonnet-4-5", IncludeUsage: true}, created)
	}},
	{"responses", func() Stream {
		req, err := ResponsesRequest([]byte(`{"model":"gpt-4o","input":"hi","stream":true}`), nil)
		if err != nil {
			panic(err)
		}
		return NewResponsesStream(req, created)
	}},
}

// TestStreamGolden translates each recorded Anthropic stream in
// testdata/stream/*.sse with each translation, fed whole, and compares the
// result with its golden file.
func TestStreamGolden(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "stream", "*.sse"))
	if len(inputs) == 0 {
		t.Fatal("no streams in testdata/stream")
	}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(in), ".sse")
		for _, s := range streams {
			t.Run(base+"/"+s.suffix, func(t *testing.T) {
				golden(t, filepath.Join("stream", base+"."+s.suffix+".golden"), s.new().Translate(nil, src))
			})
		}
	}
}

// TestStreamSplitAnywhere feeds each stream in pieces of every size from
// one byte up: the translation must not depend on where reads end.
func TestStreamSplitAnywhere(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "stream", "tools.sse"))
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")) // and CRLF lines read alike
	for _, s := range streams {
		whole := s.new().Translate(nil, src)
		for size := 1; size < 64; size++ {
			tr := s.new()
			var got []byte
			for p := src; len(p) > 0; {
				n := min(size, len(p))
				got = tr.Translate(got, p[:n])
				p = p[n:]
			}
			if !bytes.Equal(got, whole) {
				t.Fatalf("%s in pieces of %d bytes:\n%s\nwant, as when fed whole:\n%s", s.suffix, size, got, whole)
			}
		}
	}
}

// TestStreamEventByEvent checks that nothing is held back: each event's
// translation comes out as soon as the event's blank line is in.
func TestStreamEventByEvent(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "stream", "text.sse"))
	if err != nil {
		t.Fatal(err)
	}
	events := bytes.SplitAfter(src, []byte("\n\n"))
	for _, c := range []struct {
		suffix string
		want   []string // what the translation of each event holds, in order
	}{
		{"chat", []string{`"role":"assistant"`, "", "", `"content":"Hello"`, `"content":", world"`, "", `"finish_reason":"stop"`, "[DONE]"}},
		{"responses", []string{"response.in_progress", "response.content_part.added", "", `"delta":"Hello"`, `"delta":", world"`, "response.output_item.done", "", "response.completed"}},
	} {
		var tr Stream
		for _, s := range streams {
			if s.suffix == c.suffix {
				tr = s.new()
			}
		}
		for i, ev := range events {
			if len(ev) == 0 {
				continue
			}
			head := ev[:len(ev)-1] // all but the last newline: the event is not complete yet
			if out := tr.Translate(nil, head); len(out) > 0 {
				t.Errorf("%s: event %d came out before its end: %s", c.suffix, i, out)
			}
			out := string(tr.Translate(nil, ev[len(ev)-1:]))
			if want := c.want[i]; want == "" && out != "" || !strings.Contains(out, want) {
				t.Errorf("%s: event %d translated to %q, want it to hold %q", c.suffix, i, out, want)
			}
		}
	}
}
