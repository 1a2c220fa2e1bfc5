package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	const secret = "sk-ant-api03-test-secret"
	tests := []struct {
		name    string
		mutate  func(*Config)
		field   string // "" = valid
		message string // substring of the message
	}{
		{"default", func(*Config) {}, "", ""},
		{"full", func(c *Config) { *c = fullConfig() }, "", ""},
		{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, "listen", "want host:port"},
		{"listen port zero", func(c *Config) { c.Listen = "127.0.0.1:0" }, "listen", `port "0" is not a number between 1 and 65535`},
		{"listen port too big", func(c *Config) { c.Listen = "127.0.0.1:65536" }, "listen", "between 1 and 65535"},
		{"listen named port", func(c *Config) { c.Listen = "localhost:http" }, "listen", "between 1 and 65535"},
		{"listen any host", func(c *Config) { c.Listen = ":8787" }, "", ""},
		{"listen ipv6", func(c *Config) { c.Listen = "[::1]:8787" }, "", ""},
		{"upstream relative", func(c *Config) { c.Upstream = "/v1" }, "upstream", "absolute http:// or https:// URL"},
		{"upstream other scheme", func(c *Config) { c.Upstream = "ftp://example.com" }, "upstream", "absolute"},
		{"upstream with path", func(c *Config) { c.Upstream = "http://127.0.0.1:9/prefix" }, "", ""},
		{"token_url empty", func(c *Config) { c.TokenURL = "" }, "token_url", "absolute"},
		{"authorize_url relative", func(c *Config) { c.AuthorizeURL = "/oauth/authorize" }, "authorize_url", "absolute"},
		{"quota_poll off", func(c *Config) { c.QuotaPoll = 0 }, "", ""},
		{"quota_poll of a minute", func(c *Config) { c.QuotaPoll = Duration(time.Minute) }, "", ""},
		{"quota_poll too often", func(c *Config) { c.QuotaPoll = Duration(10 * time.Second) }, "quota_poll", "0 (never) or at least 1m0s"},
		{"quota_poll negative", func(c *Config) { c.QuotaPoll = Duration(-time.Minute) }, "quota_poll", "at least"},
		{"extra_usage", func(c *Config) { c.ExtraUsage = "never" }, "extra_usage", `want "avoid" or "allow"`},
		{"strategy", func(c *Config) { c.Strategy = "random" }, "strategy", "want one of round-robin, priority, least-used, headroom"},
		{"every strategy valid", func(c *Config) { c.Strategy = "least-used" }, "", ""},
		{"cooldown negative", func(c *Config) { c.Cooldown = Duration(-time.Second) }, "cooldown", "more than 0"},
		{"refresh_before zero", func(c *Config) { c.RefreshBefore = 0 }, "", ""},
		{"refresh_before negative", func(c *Config) { c.RefreshBefore = Duration(-time.Second) }, "refresh_before", "negative"},
		{"max_body_mb too big", func(c *Config) { c.MaxBodyMB = 1025 }, "max_body_mb", "between 1 and 1024"},
		{"max_body_mb bounds", func(c *Config) { c.MaxBodyMB = 1024 }, "", ""},
		{"response_timeout off", func(c *Config) { c.ResponseTimeout = 0 }, "", ""},
		{"response_timeout tiny", func(c *Config) { c.ResponseTimeout = Duration(5 * time.Millisecond) }, "response_timeout", "at least 1s"},
		{"stream_idle_timeout negative", func(c *Config) { c.StreamIdleTimeout = Duration(-time.Minute) }, "stream_idle_timeout", "at least 1s"},
		{"stream_idle_timeout of 1s", func(c *Config) { c.StreamIdleTimeout = Duration(time.Second) }, "", ""},
		{"name too long", func(c *Config) { c.Accounts = []Account{{Name: strings.Repeat("a", 65), Dir: "~/x"}} }, "accounts[0].name", "longer than 64"},
		{"name of 64", func(c *Config) { c.Accounts = []Account{{Name: strings.Repeat("a", 64), Dir: "~/x"}} }, "", ""},
		{"name with slash", func(c *Config) { c.Accounts = []Account{{Name: "a/b", Dir: "~/x"}} }, "accounts[0].name", "may only hold"},
		{"name dot dot", func(c *Config) { c.Accounts = []Account{{Name: "..", Dir: "~/x"}} }, "accounts[0].name", "reserved"},
		{"name charset", func(c *Config) { c.Accounts = []Account{{Name: "Work_2.b-c", Dir: "~/x"}} }, "", ""},
		{"relative dir", func(c *Config) { c.Accounts = []Account{{Name: "a", Dir: "claude"}} }, "accounts[0].dir", "absolute or start with ~/"},
		{"home dir", func(c *Config) { c.Accounts = []Account{{Name: "a", Dir: "~"}} }, "", ""},
		{"token not oauth", func(c *Config) { c.Accounts = []Account{{Name: "a", Token: "hunter2-secret"}} }, "accounts[0].token", "does not look like a Claude OAuth token"},
		{"token is api key", func(c *Config) { c.Accounts = []Account{{Name: "a", Token: secret}} }, "accounts[0].token", "API key"},
		{"token masked", func(c *Config) { c.Accounts = []Account{{Name: "a", Token: "sk-ant-oat01-…abcd"}} }, "accounts[0].token", "masked"},
		{"token with space", func(c *Config) { c.Accounts = []Account{{Name: "a", Token: "sk-ant-oat01-test secret"}} }, "accounts[0].token", "spaces"},
		{"second account", func(c *Config) {
			c.Accounts = []Account{{Name: "a", Dir: "~/a"}, {Name: "b"}}
		}, "accounts[1]", "set dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a *ValidationError", err)
			}
			if len(ve.Fields) != 1 {
				t.Fatalf("Fields = %+v, want one", ve.Fields)
			}
			if got := ve.Fields[0]; got.Field != tt.field || !strings.Contains(got.Message, tt.message) {
				t.Errorf("Fields[0] = %+v, want field %q with message containing %q", got, tt.field, tt.message)
			}
			for _, a := range c.Accounts {
				if a.Token != "" && strings.Contains(err.Error(), a.Token) {
					t.Errorf("error %q repeats the token", err)
				}
			}
		})
	}
}

func TestValidationErrorFormat(t *testing.T) {
	fields := []FieldError{{"strategy", "bad"}, {"accounts[0].dir", "worse"}}
	tests := []struct {
		name string
		err  *ValidationError
		want string
	}{
		{"no file", &ValidationError{Fields: fields}, "strategy: bad\naccounts[0].dir: worse"},
		{"file", &ValidationError{File: "c.toml", Fields: fields}, "c.toml: strategy: bad\nc.toml: accounts[0].dir: worse"},
		{
			"file and lines",
			&ValidationError{File: "c.toml", Fields: fields, lines: map[string]int{"accounts[0]": 9}},
			"c.toml: strategy: bad\nc.toml:9: accounts[0].dir: worse",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
