package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func boolPtr(b bool) *bool { return &b }

// fullConfig is testdata/full.toml decoded: every field away from its default.
func fullConfig() Config {
	return Config{
		Listen:          "127.0.0.1:9999",
		Upstream:        "http://127.0.0.1:8080",
		TokenURL:        "http://127.0.0.1:8080/v1/oauth/token",
		AuthorizeURL:    "http://127.0.0.1:8080/oauth/authorize",
		Strategy:        "headroom",
		Cooldown:        Duration(150 * time.Second),
		Notify:          false,
		DataDir:         "~/maxrouter-state",
		SessionAffinity: false,
		MaxBodyMB:       64,
		RefreshBefore:   Duration(10 * time.Minute),
		Notifications:   Notifications{},

		ResponseTimeout:   Duration(15 * time.Minute),
		StreamIdleTimeout: Duration(90 * time.Second),
		Models:            map[string]string{"fast": "claude-haiku-4-5", "gpt-4.1": "claude-opus-4-5"},
		QuotaPoll:         Duration(10 * time.Minute),
		ExtraUsage:        ExtraAllow,
		Accounts: []Account{
			{Name: "work", Dir: "~/.claude-work"},
			{Name: "ci", Token: "sk-ant-oat01-test-ci", Enabled: boolPtr(false)},
		},
	}
}

func TestFullConfigSetsEveryField(t *testing.T) {
	// Guards the round-trip tests: a field added to Config must be added to
	// fullConfig (and testdata/full.toml) with a non-default value.
	got, def := reflect.ValueOf(fullConfig()), reflect.ValueOf(Default())
	for i := range got.NumField() {
		if reflect.DeepEqual(got.Field(i).Interface(), def.Field(i).Interface()) {
			t.Errorf("fullConfig().%s has its default value", got.Type().Field(i).Name)
		}
	}
}

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "full.toml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data, "full.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if want := fullConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(full.toml) = %+v, want %+v", got, want)
	}
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want func(*Config)
	}{
		{"empty", "", func(*Config) {}},
		{"comments only", "# nothing here\n\n", func(*Config) {}},
		{"one key", `strategy = "priority"`, func(c *Config) { c.Strategy = "priority" }},
		{"strategy rr", `strategy = "rr"`, func(c *Config) { c.Strategy = "round-robin" }},
		{"strategy prio", `strategy = "prio"`, func(c *Config) { c.Strategy = "priority" }},
		{"strategy lru", `strategy = "lru"`, func(c *Config) { c.Strategy = "least-used" }},
		{"strategy least_used", `strategy = "least_used"`, func(c *Config) { c.Strategy = "least-used" }},
		{
			"a models table replaces the defaults",
			"[models]\n\"gpt-4o\" = \"claude-opus-4-5\"\n",
			func(c *Config) { c.Models = map[string]string{"gpt-4o": "claude-opus-4-5"} },
		},
		{
			"one notification",
			"[notifications]\nneeds_login = false\n",
			func(c *Config) { c.Notifications.NeedsLogin = false },
		},
		{
			"account keeps enabled unset",
			"[[account]]\nname = \"a\"\ndir = \"~/.claude\"\n",
			func(c *Config) { c.Accounts = []Account{{Name: "a", Dir: "~/.claude"}} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.doc), "config.toml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse = %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// want are the exact lines of the error, in order.
		want []string
		// fields are the FieldError fields when the error is a *ValidationError.
		fields []string
	}{
		{
			name: "unknown key",
			doc:  "listen = \"127.0.0.1:8787\"\n\nstratgy = \"priority\"\n",
			want: []string{`config.toml:3: unknown key "stratgy" (did you mean "strategy"?)`},
		},
		{
			name: "unknown keys in tables",
			doc: "[notifications]\nneeds_login = false\nfrobnicate = true\n" +
				"[[account]]\nname = \"a\"\ndir = \"~/.claude\"\nfolder = \"x\"\n",
			want: []string{
				`config.toml:3: unknown key "notifications.frobnicate"`,
				`config.toml:7: unknown key "account.folder"`,
			},
		},
		{
			name: "bad duration",
			doc:  "# comment\nnotify = true\ncooldown = \"abc\"\n",
			want: []string{`config.toml:3: key "cooldown": invalid duration "abc" (want e.g. "60s" or "5m")`},
		},
		{
			name: "number as duration",
			doc:  "refresh_before = 300\n",
			want: []string{`config.toml:1: key "refresh_before": invalid duration 300 (want a string such as "60s" or "5m")`},
		},
		{
			name: "wrong type",
			doc:  "\nmax_body_mb = \"big\"\n",
			want: []string{`config.toml:2: key "max_body_mb": want an integer, got a string`},
		},
		{
			name: "wrong type in account",
			doc:  "[[account]]\nname = \"a\"\ndir = \"~/.claude\"\nenabled = \"yes\"\n",
			want: []string{`config.toml:4: key "account.enabled": want true or false, got a string`},
		},
		{
			name: "syntax error",
			doc:  "notify = true\nlisten = \n",
			want: []string{`config.toml:2:10: unexpected character U+000A at start of value`},
		},
		{
			name: "key set twice",
			doc:  "notify = true\nnotify = false\n",
			want: []string{`config.toml:2: key "notify": set more than once`},
		},
		{
			name: "models that map nowhere",
			doc:  "[models]\nfast = \"gpt-4o\"\n\"claude-x\" = \"claude-y\"\n",
			want: []string{
				`config.toml:3: models.claude-x: claude-* names go to Anthropic as they are and cannot be mapped`,
				`config.toml:2: models.fast: want a Claude model (claude-…), got "gpt-4o"`,
			},
			fields: []string{"models.claude-x", "models.fast"},
		},
		{
			name:   "bad strategy lists valid ones",
			doc:    "notify = true\nstrategy = \"fastest\"\n",
			want:   []string{`config.toml:2: strategy: unknown strategy "fastest" (want one of round-robin, priority, least-used, headroom)`},
			fields: []string{"strategy"},
		},
		{
			name: "duplicate account names",
			doc: "[[account]]\nname = \"work\"\ndir = \"~/.claude\"\n\n" +
				"[[account]]\nname = \"work\"\ndir = \"~/.claude-work\"\n",
			want:   []string{`config.toml:6: accounts[1].name: name "work" is already used by accounts[0]`},
			fields: []string{"accounts[1].name"},
		},
		{
			name: "dir and token both set",
			doc: "[[account]]\nname = \"a\"\ndir = \"~/.claude\"\n" +
				"[[account]]\nname = \"b\"\ndir = \"~/.claude-b\"\ntoken = \"sk-ant-oat01-test-b\"\n",
			want:   []string{`config.toml:4: accounts[1]: set either dir or token, not both`},
			fields: []string{"accounts[1]"},
		},
		{
			name:   "neither dir nor token",
			doc:    "[[account]]\nname = \"a\"\n",
			want:   []string{"config.toml:1: accounts[0]: set dir (a Claude Code config directory) or token (from `claude setup-token`)"},
			fields: []string{"accounts[0]"},
		},
		{
			name:   "missing name points at the table",
			doc:    "\n[[account]]\ndir = \"~/.claude\"\n",
			want:   []string{`config.toml:2: accounts[0].name: name is required`},
			fields: []string{"accounts[0].name"},
		},
		{
			name:   "inline accounts",
			doc:    "account = [{name = \"a\", dir = \"~/a\"},\n  {name = \"a b\", dir = \"~/b\"}]\n",
			want:   []string{`config.toml:2: accounts[1].name: name "a b" may only hold letters, digits, '-', '_' and '.'`},
			fields: []string{"accounts[1].name"},
		},
		{
			name: "every problem listed",
			doc:  "listen = \"localhost\"\nupstream = \"api.anthropic.com\"\ncooldown = \"0s\"\nmax_body_mb = 0\n",
			want: []string{
				`config.toml:1: listen: want host:port, e.g. "127.0.0.1:8787", got "localhost"`,
				`config.toml:2: upstream: want an absolute http:// or https:// URL, got "api.anthropic.com"`,
				`config.toml:3: cooldown: must be more than 0, got 0s`,
				`config.toml:4: max_body_mb: must be between 1 and 1024, got 0`,
			},
			fields: []string{"listen", "upstream", "cooldown", "max_body_mb"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "config.toml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			var ve *ValidationError
			if got, want := errors.As(err, &ve), tt.fields != nil; got != want {
				t.Fatalf("errors.As(*ValidationError) = %v, want %v", got, want)
			}
			if ve == nil {
				return
			}
			if ve.File != "config.toml" {
				t.Errorf("File = %q, want %q", ve.File, "config.toml")
			}
			var fields []string
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("fields = %q, want %q", fields, tt.fields)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "config.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("\nstrategy = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: strategy: ") {
		t.Errorf("Load = %v, want an error starting with %q", err, path+":2: strategy: ")
	}
}

func TestDefaultPath(t *testing.T) {
	dir, err := os.UserConfigDir()
	if err != nil {
		t.Skipf("no user config dir: %v", err)
	}
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "maxrouter", "config.toml"); got != want {
		t.Errorf("DefaultPath() = %q, want %q", got, want)
	}
}

// TestParseManyKeysIsLinear: finding each key's line once counted the
// lines from the top of the file for every key: 5000 accounts took 2.9s,
// 20000 most of a minute. Now 20000 take about 0.1s (1s with -race); the
// bound leaves room for a slow machine.
func TestParseManyKeysIsLinear(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "[[account]]\nname = \"a%d\"\ndir = \"~/.claude-%d\"\n", i, i)
	}
	b.WriteString("[[account]]\nname = \"last\"\ndir = \"relative\"\n") // its line is still found
	done := make(chan error, 1)
	go func() {
		_, err := Parse([]byte(b.String()), "big.toml")
		done <- err
	}()
	select {
	case err := <-done:
		if want := "big.toml:60003: accounts[20000].dir:"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %.200v, want one containing %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Parse of 20000 accounts took more than 10s")
	}
}
