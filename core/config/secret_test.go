package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMaskToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"sk-ant-oat01-test-work", "sk-ant-oat01-…work"},
		{"sk-ant-oat01-abcdefghijklmnop1234", "sk-ant-oat01-…1234"},
		{"sk-ant-short", "sk-ant-oat01-…"},
	}
	for _, tt := range tests {
		if got := MaskToken(tt.in); got != tt.want {
			t.Errorf("MaskToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func secretConfig() Config {
	c := Default()
	c.Accounts = []Account{
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "ci", Token: "sk-ant-oat01-test-ci-1111", Enabled: boolPtr(false)},
		{Name: "bot", Token: "sk-ant-oat01-test-bot-2222"},
	}
	return c
}

func TestRedacted(t *testing.T) {
	c := secretConfig()
	r := c.Redacted()
	want := secretConfig()
	want.Accounts[1].Token = "sk-ant-oat01-…1111"
	want.Accounts[2].Token = "sk-ant-oat01-…2222"
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Redacted() = %+v, want %+v", r, want)
	}
	*r.Accounts[1].Enabled = true // the copy shares nothing with c
	if !reflect.DeepEqual(c, secretConfig()) {
		t.Errorf("Redacted changed its receiver, or shares state with it: %+v", c)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Accounts {
		if a.Token != "" && strings.Contains(string(data), a.Token) {
			t.Errorf("redacted JSON holds the token of %q: %s", a.Name, data)
		}
	}
}

func TestMergeSecrets(t *testing.T) {
	prev := secretConfig()
	tests := []struct {
		name string
		edit func(*Config) // applied to the redacted form
		want func(*Config) // applied to prev
	}{
		{"unchanged", func(*Config) {}, func(*Config) {}},
		{
			"other field edited",
			func(c *Config) { c.Strategy = "priority"; c.Accounts[1].Enabled = nil },
			func(c *Config) { c.Strategy = "priority"; c.Accounts[1].Enabled = nil },
		},
		{
			"new token kept",
			func(c *Config) { c.Accounts[1].Token = "sk-ant-oat01-test-new" },
			func(c *Config) { c.Accounts[1].Token = "sk-ant-oat01-test-new" },
		},
		{
			"renamed account",
			func(c *Config) { c.Accounts[2].Name = "robot" },
			func(c *Config) { c.Accounts[2].Name = "robot" },
		},
		{
			"reordered",
			func(c *Config) { c.Accounts[1], c.Accounts[2] = c.Accounts[2], c.Accounts[1] },
			func(c *Config) { c.Accounts[1], c.Accounts[2] = c.Accounts[2], c.Accounts[1] },
		},
		{
			"account removed",
			func(c *Config) { c.Accounts = c.Accounts[:2] },
			func(c *Config) { c.Accounts = c.Accounts[:2] },
		},
		{
			"unknown mask stays masked",
			func(c *Config) { c.Accounts = append(c.Accounts, Account{Name: "x", Token: "sk-ant-oat01-…9999"}) },
			func(c *Config) { c.Accounts = append(c.Accounts, Account{Name: "x", Token: "sk-ant-oat01-…9999"}) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through JSON, as the settings window does with GET/PUT config.
			data, err := json.Marshal(prev.Redacted())
			if err != nil {
				t.Fatal(err)
			}
			var next Config
			if err := json.Unmarshal(data, &next); err != nil {
				t.Fatal(err)
			}
			tt.edit(&next)
			got := MergeSecrets(next, prev)
			want := secretConfig()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("MergeSecrets =\n%+v\nwant\n%+v", got, want)
			}
			if !reflect.DeepEqual(prev, secretConfig()) {
				t.Errorf("MergeSecrets changed prev")
			}
		})
	}
}

func TestMergeSecretsAmbiguousRename(t *testing.T) {
	prev := Default()
	prev.Accounts = []Account{
		{Name: "a", Token: "sk-ant-oat01-test-a-same"},
		{Name: "b", Token: "sk-ant-oat01-test-b-same"},
	}
	next := prev.Redacted()
	next.Accounts[0].Name = "c"
	got := MergeSecrets(next, prev)
	if tok := got.Accounts[0].Token; tok != "sk-ant-oat01-…same" {
		t.Errorf("renamed account with an ambiguous mask got token %q, want it left masked", MaskToken(tok))
	}
	if err := got.Validate(); err == nil || !strings.Contains(err.Error(), "accounts[0].token: token is masked") {
		t.Errorf("Validate() = %v, want the masked token refused", err)
	}
	if tok := got.Accounts[1].Token; tok != prev.Accounts[1].Token {
		t.Errorf("account b token not restored")
	}
}
