package jsonedit

import (
	"encoding/json"
	"strings"
	"testing"
)

const claudeSettings = `{
  "$schema": "https://json.schemastore.org/claude-code-settings.json",
  "model": "opus",
  "permissions": {
    "allow": ["Bash(go test:*)", "Read"],
    "deny": []
  },
  "env": {
    "DISABLE_TELEMETRY": "1"
  },
  "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo \"}{\""}]}]}
}
`

func TestSet(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		path      []string
		value     string
		want      string
	}{{
		name: "a new key in an existing object keeps everything else byte for byte",
		doc:  claudeSettings, path: []string{"env", "ANTHROPIC_BASE_URL"}, value: `"http://127.0.0.1:8787"`,
		want: strings.Replace(claudeSettings, `"DISABLE_TELEMETRY": "1"`, `"DISABLE_TELEMETRY": "1",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787"`, 1),
	}, {
		name: "an existing value is replaced in place",
		doc:  claudeSettings, path: []string{"model"}, value: `"sonnet"`,
		want: strings.Replace(claudeSettings, `"model": "opus"`, `"model": "sonnet"`, 1),
	}, {
		name: "a missing object is added, indented like the document",
		doc:  "{\n    \"model\": \"opus\"\n}\n", path: []string{"env", "X"}, value: `"1"`,
		want: "{\n    \"model\": \"opus\",\n    \"env\": {\n        \"X\": \"1\"\n    }\n}\n",
	}, {
		name: "an empty document object",
		doc:  "{\n}\n", path: []string{"env", "X"}, value: `"1"`,
		want: "{\n  \"env\": {\n    \"X\": \"1\"\n  }\n}\n",
	}, {
		name: "compact stays compact",
		doc:  `{"a":1}`, path: []string{"env", "X"}, value: `"1"`,
		want: `{"a":1,"env":{"X":"1"}}`,
	}, {
		name: "tabs",
		doc:  "{\n\t\"env\": {}\n}", path: []string{"env", "X"}, value: `true`,
		want: "{\n\t\"env\": {\n\t\t\"X\": true\n\t}\n}",
	}, {
		name: "duplicate keys are all set",
		doc:  `{"k": 1, "k": 2}`, path: []string{"k"}, value: `3`,
		want: `{"k": 3, "k": 3}`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Set([]byte(c.doc), c.path, json.RawMessage(c.value))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if !json.Valid(got) {
				t.Error("the result is not valid JSON")
			}
		})
	}
}

func TestDelete(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		path      []string
		want      string
	}{{
		name: "the last member",
		doc:  "{\n  \"a\": 1,\n  \"b\": 2\n}\n", path: []string{"b"},
		want: "{\n  \"a\": 1\n}\n",
	}, {
		name: "the first member",
		doc:  "{\n  \"a\": 1,\n  \"b\": 2\n}\n", path: []string{"a"},
		want: "{\n  \"b\": 2\n}\n",
	}, {
		name: "a middle member",
		doc:  `{"a": 1, "b": {"x": [1, "]"]}, "c": 3}`, path: []string{"b"},
		want: `{"a": 1, "c": 3}`,
	}, {
		name: "the only member",
		doc:  "{\n  \"env\": {\n    \"X\": \"1\"\n  }\n}\n", path: []string{"env", "X"},
		want: "{\n  \"env\": {}\n}\n",
	}, {
		name: "duplicates",
		doc:  `{"k": 1, "a": 2, "k": 3}`, path: []string{"k"},
		want: `{"a": 2}`,
	}, {
		name: "missing: unchanged",
		doc:  claudeSettings, path: []string{"nope", "X"},
		want: claudeSettings,
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Delete([]byte(c.doc), c.path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestSetDeleteRoundTrip(t *testing.T) {
	doc := []byte(claudeSettings)
	for _, k := range []string{"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"} {
		var err error
		if doc, err = Set(doc, []string{"env", k}, json.RawMessage(`"v"`)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"} {
		var err error
		if doc, err = Delete(doc, []string{"env", k}); err != nil {
			t.Fatal(err)
		}
	}
	if string(doc) != claudeSettings {
		t.Errorf("set then deleted:\n%s\nwant the document as it was:\n%s", doc, claudeSettings)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		doc  string
		path []string
		want string
	}{
		{`{"env": "x"}`, []string{"env", "X"}, "env is not an object"},
		{`{"env": {`, []string{"env", "X"}, "not valid JSON"},
		{`["a"]`, []string{"env"}, "not a JSON object"},
		{``, []string{"env"}, "not valid JSON"},
	} {
		if _, err := Set([]byte(c.doc), c.path, json.RawMessage(`1`)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%q) = %v, want an error with %q", c.doc, err, c.want)
		}
	}
	if _, err := Set([]byte(`{}`), []string{"a"}, json.RawMessage(`{oops`)); err == nil {
		t.Error("Set took an invalid value")
	}
}

func FuzzSet(f *testing.F) {
	f.Add(claudeSettings, "env", "X")
	f.Add(`{"a":[1,{"b":"}"}],"c":{}}`, "c", "d")
	f.Fuzz(func(t *testing.T, doc, k1, k2 string) {
		got, err := Set([]byte(doc), []string{k1, k2}, json.RawMessage(`"v"`))
		if err != nil {
			return
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("Set(%q) gave invalid JSON %q: %v", doc, got, err)
		}
		if inner, _ := v[k1].(map[string]any); inner[k2] != "v" {
			t.Fatalf("Set(%q) = %q: %s.%s is not set", doc, got, k1, k2)
		}
		back, err := Delete(got, []string{k1, k2})
		if err != nil || !json.Valid(back) {
			t.Fatalf("Delete(%q) = %q, %v", got, back, err)
		}
	})
}
