package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ApplyEnv returns c with the environment overrides of the original router
// applied, reading variables with getenv:
//
//   - CLAUDE_CODE_HOME: the dir of the first account, replacing its token
//     if it had one (an account "default" is added when there is none).
//   - ADDITIONAL_ACCOUNT_DIRS: comma-separated dirs appended as accounts
//     named after their directory (".claude-work" is "work"), unless an
//     account already uses that dir.
//   - ACCOUNT_ROUTING_STRATEGY: a strategy; the original's spellings
//     (rr, prio, lru, round_robin, roundrobin, least_used) are accepted too.
//   - ACCOUNT_COOLDOWN_SECS: the cooldown in whole seconds.
//   - UPSTREAM_BASE_URL: the upstream.
//   - ROUTER_PORT: the port of listen, keeping its host.
//
// Empty variables are ignored. Relative dirs are made absolute; dirs are
// compared with "~" expanded to HOME (as read with getenv, else
// os.UserHomeDir). A bad value gives an error naming the variable. The result
// is validated; c itself is not modified.
func ApplyEnv(c Config, getenv func(string) string) (Config, error) {
	c.Accounts = cloneAccounts(c.Accounts)
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }
	home := env("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}

	if v := env("CLAUDE_CODE_HOME"); v != "" {
		dir, err := envDir(v)
		if err != nil {
			return Config{}, fmt.Errorf("CLAUDE_CODE_HOME: %w", err)
		}
		if len(c.Accounts) == 0 {
			c.Accounts = append(c.Accounts, Account{Name: "default"})
		}
		c.Accounts[0].Dir, c.Accounts[0].Token = dir, ""
	}
	if v := env("ADDITIONAL_ACCOUNT_DIRS"); v != "" {
		taken := map[string]bool{}
		for _, a := range c.Accounts {
			taken[a.Name] = true
		}
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d == "" {
				continue
			}
			dir, err := envDir(d)
			if err != nil {
				return Config{}, fmt.Errorf("ADDITIONAL_ACCOUNT_DIRS: %w", err)
			}
			if hasDir(c.Accounts, dir, home) {
				continue
			}
			c.Accounts = append(c.Accounts, Account{Name: uniqueName(dirName(dir), taken), Dir: dir})
		}
	}
	if v := env("ACCOUNT_ROUTING_STRATEGY"); v != "" {
		s, ok := strategyAlias(v)
		if !ok {
			return Config{}, fmt.Errorf("ACCOUNT_ROUTING_STRATEGY: unknown strategy %q (want one of %s)", v, strings.Join(Strategies, ", "))
		}
		c.Strategy = s
	}
	if v := env("ACCOUNT_COOLDOWN_SECS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Config{}, fmt.Errorf("ACCOUNT_COOLDOWN_SECS: want a whole number of seconds above 0, got %q", v)
		}
		c.Cooldown = Duration(time.Duration(n) * time.Second)
	}
	if v := env("UPSTREAM_BASE_URL"); v != "" {
		if msg := checkURL(v); msg != "" {
			return Config{}, fmt.Errorf("UPSTREAM_BASE_URL: %s", msg)
		}
		c.Upstream = v
	}
	if v := env("ROUTER_PORT"); v != "" {
		if msg := checkPort(v); msg != "" {
			return Config{}, fmt.Errorf("ROUTER_PORT: %s", msg)
		}
		host, _, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return Config{}, fmt.Errorf("ROUTER_PORT: cannot set the port of listen %q: %w", c.Listen, err)
		}
		c.Listen = net.JoinHostPort(host, v)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("applying environment overrides: %w", err)
	}
	return c, nil
}

// strategyAlias maps the original router's strategy spellings to ours.
func strategyAlias(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "round-robin", "round_robin", "roundrobin", "rr":
		return "round-robin", true
	case "least-used", "least_used", "leastused", "lru":
		return "least-used", true
	case "priority", "prio":
		return "priority", true
	case "headroom":
		return "headroom", true
	}
	return "", false
}

// envDir cleans a directory given in the environment and makes it absolute
// unless it starts with "~".
func envDir(d string) (string, error) {
	if d == "~" || strings.HasPrefix(d, "~/") || hasHomeSep(d) {
		return d, nil
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("resolving %q: %w", d, err)
	}
	return abs, nil
}

// hasDir reports whether an account uses dir, comparing "~"-expanded,
// cleaned paths.
func hasDir(accounts []Account, dir, home string) bool {
	want := filepath.Clean(ExpandHome(dir, home))
	for _, a := range accounts {
		if a.Dir != "" && filepath.Clean(ExpandHome(a.Dir, home)) == want {
			return true
		}
	}
	return false
}

// dirName names an account after its directory: ".claude" is "default",
// ".claude-work" is "work", anything else its sanitized base name.
func dirName(dir string) string {
	base := filepath.Base(dir)
	switch {
	case base == ".claude":
		return "default"
	case strings.HasPrefix(base, ".claude-") && len(base) > len(".claude-"):
		return sanitizeName(strings.TrimPrefix(base, ".claude-"))
	}
	return sanitizeName(strings.TrimPrefix(base, "."))
}
