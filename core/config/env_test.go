package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestApplyEnv(t *testing.T) {
	home := t.TempDir()
	root := t.TempDir()
	work := filepath.Join(home, ".claude-work")
	team := filepath.Join(root, "team")
	withAccounts := func(a ...Account) Config {
		c := Default()
		c.Accounts = a
		return c
	}
	tests := []struct {
		name    string
		in      Config
		env     map[string]string
		want    func(*Config)
		wantErr string
	}{
		{"nothing set", fullConfig(), nil, func(*Config) {}, ""},
		{
			"CLAUDE_CODE_HOME adds default",
			Default(),
			map[string]string{"CLAUDE_CODE_HOME": work},
			func(c *Config) { c.Accounts = []Account{{Name: "default", Dir: work}} },
			"",
		},
		{
			"CLAUDE_CODE_HOME replaces the first dir",
			fullConfig(),
			map[string]string{"CLAUDE_CODE_HOME": "~/.claude-x"},
			func(c *Config) { c.Accounts[0].Dir = "~/.claude-x" },
			"",
		},
		{
			"CLAUDE_CODE_HOME replaces a token",
			withAccounts(Account{Name: "t", Token: "sk-ant-oat01-test-t"}),
			map[string]string{"CLAUDE_CODE_HOME": work},
			func(c *Config) { c.Accounts = []Account{{Name: "t", Dir: work}} },
			"",
		},
		{
			"ADDITIONAL_ACCOUNT_DIRS",
			withAccounts(Account{Name: "work", Dir: "~/.claude-work"}),
			map[string]string{"ADDITIONAL_ACCOUNT_DIRS": " " + work + ", " + team + ",," + filepath.Join(root, ".claude-work") + "," + team},
			func(c *Config) {
				c.Accounts = append(c.Accounts,
					Account{Name: "team", Dir: team},
					Account{Name: "work-2", Dir: filepath.Join(root, ".claude-work")},
				)
			},
			"",
		},
		{"strategy round_robin", fullConfig(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "round_robin"}, func(c *Config) { c.Strategy = "round-robin" }, ""},
		{"strategy roundrobin", fullConfig(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "roundrobin"}, func(c *Config) { c.Strategy = "round-robin" }, ""},
		{"strategy least_used", Default(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "least_used"}, func(c *Config) { c.Strategy = "least-used" }, ""},
		{"strategy priority", Default(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "priority"}, func(c *Config) { c.Strategy = "priority" }, ""},
		{"strategy rr", fullConfig(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "rr"}, func(c *Config) { c.Strategy = "round-robin" }, ""},
		{"strategy prio", Default(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "prio"}, func(c *Config) { c.Strategy = "priority" }, ""},
		{"strategy lru", Default(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "LRU"}, func(c *Config) { c.Strategy = "least-used" }, ""},
		{"strategy HEADROOM", Default(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "HEADROOM"}, func(c *Config) { c.Strategy = "headroom" }, ""},
		{"strategy unknown", Default(), map[string]string{"ACCOUNT_ROUTING_STRATEGY": "random"}, nil, `ACCOUNT_ROUTING_STRATEGY: unknown strategy "random" (want one of round-robin`},
		{"cooldown", Default(), map[string]string{"ACCOUNT_COOLDOWN_SECS": "90"}, func(c *Config) { c.Cooldown = Duration(90 * time.Second) }, ""},
		{"cooldown not a number", Default(), map[string]string{"ACCOUNT_COOLDOWN_SECS": "1m"}, nil, `ACCOUNT_COOLDOWN_SECS: want a whole number of seconds above 0, got "1m"`},
		{"cooldown zero", Default(), map[string]string{"ACCOUNT_COOLDOWN_SECS": "0"}, nil, "ACCOUNT_COOLDOWN_SECS"},
		{"upstream", Default(), map[string]string{"UPSTREAM_BASE_URL": "http://127.0.0.1:9000"}, func(c *Config) { c.Upstream = "http://127.0.0.1:9000" }, ""},
		{"upstream bad", Default(), map[string]string{"UPSTREAM_BASE_URL": "127.0.0.1:9000"}, nil, "UPSTREAM_BASE_URL: want an absolute"},
		{"port", Default(), map[string]string{"ROUTER_PORT": "9000"}, func(c *Config) { c.Listen = "127.0.0.1:9000" }, ""},
		{"port ipv6", func() Config { c := Default(); c.Listen = "[::1]:8787"; return c }(), map[string]string{"ROUTER_PORT": "9000"}, func(c *Config) { c.Listen = "[::1]:9000" }, ""},
		{"port bad", Default(), map[string]string{"ROUTER_PORT": "70000"}, nil, `ROUTER_PORT: port "70000" is not a number between 1 and 65535`},
		{"result validated", func() Config { c := Default(); c.MaxBodyMB = 0; return c }(), map[string]string{"ROUTER_PORT": "9000"}, nil, "max_body_mb: must be between 1 and 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"HOME": home}
			for k, v := range tt.env {
				env[k] = v
			}
			in := tt.in
			snapshot := cloneAccounts(in.Accounts)
			got, err := ApplyEnv(in, func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ApplyEnv error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			want := tt.in
			want.Accounts = cloneAccounts(tt.in.Accounts)
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ApplyEnv =\n%+v\nwant\n%+v", got, want)
			}
			if !reflect.DeepEqual(in.Accounts, snapshot) {
				t.Errorf("ApplyEnv changed its input's accounts: %+v, was %+v", in.Accounts, snapshot)
			}
		})
	}
}

func TestApplyEnvRelativeDir(t *testing.T) {
	got, err := ApplyEnv(Default(), func(k string) string {
		if k == "CLAUDE_CODE_HOME" {
			return "rel/.claude"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if dir := got.Accounts[0].Dir; !filepath.IsAbs(dir) || !strings.HasSuffix(dir, filepath.Join("rel", ".claude")) {
		t.Errorf("dir = %q, want an absolute path ending in rel/.claude", dir)
	}
}
