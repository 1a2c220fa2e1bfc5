package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/openai"
)

// ValidationError lists every invalid value of a configuration.
type ValidationError struct {
	// File is the configuration file, when the values came from one.
	File string
	// Fields holds one entry per problem, in the order of Config's fields.
	Fields []FieldError

	// lines maps field names to the line of File that sets them (see Parse).
	lines map[string]int
}

// Error lists every problem, one per line, each prefixed with the file (and
// the line, when known) when File is set:
//
//	config.toml:4: strategy: unknown strategy "fastest" (want one of round-robin, priority, least-used, headroom)
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			if n := lineOf(e.lines, f.Field); n > 0 {
				b.WriteString(":" + strconv.Itoa(n))
			}
			b.WriteString(": ")
		}
		b.WriteString(f.Field + ": " + f.Message)
	}
	return b.String()
}

// Validate checks every value of c and returns a *ValidationError listing all
// problems, or nil. It does not look at the file system: an account whose
// directory cannot be read is reported by the daemon, which keeps serving the
// other accounts.
func (c Config) Validate() error {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if msg := checkListen(c.Listen); msg != "" {
		add("listen", "%s", msg)
	}
	if msg := checkURL(c.Upstream); msg != "" {
		add("upstream", "%s", msg)
	}
	if msg := checkURL(c.TokenURL); msg != "" {
		add("token_url", "%s", msg)
	}
	if msg := checkURL(c.AuthorizeURL); msg != "" {
		add("authorize_url", "%s", msg)
	}
	if !slices.Contains(Strategies, c.Strategy) {
		add("strategy", "unknown strategy %q (want one of %s)", c.Strategy, strings.Join(Strategies, ", "))
	}
	if c.Cooldown <= 0 {
		add("cooldown", "must be more than 0, got %s", c.Cooldown)
	}
	if c.RefreshBefore < 0 {
		add("refresh_before", "must not be negative, got %s", c.RefreshBefore)
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"response_timeout", c.ResponseTimeout}, {"stream_idle_timeout", c.StreamIdleTimeout}} {
		if d.v != 0 && d.v < Duration(time.Second) {
			add(d.key, "must be 0 (no bound) or at least 1s, got %s", d.v)
		}
	}
	if c.QuotaPoll != 0 && c.QuotaPoll < Duration(MinQuotaPoll) {
		add("quota_poll", "must be 0 (never) or at least %s, got %s", MinQuotaPoll, c.QuotaPoll)
	}
	if c.ExtraUsage != ExtraAvoid && c.ExtraUsage != ExtraAllow {
		add("extra_usage", "want %q or %q, got %q", ExtraAvoid, ExtraAllow, c.ExtraUsage)
	}
	if c.MaxBodyMB < 1 || c.MaxBodyMB > 1024 {
		add("max_body_mb", "must be between 1 and 1024, got %d", c.MaxBodyMB)
	}
	for _, alias := range slices.Sorted(maps.Keys(c.Models)) {
		field := "models." + alias
		switch target := c.Models[alias]; {
		case strings.TrimSpace(alias) != alias || alias == "":
			add(field, "a model name must not be empty or start or end with spaces")
		case strings.HasPrefix(alias, openai.ClaudePrefix):
			add(field, "claude-* names go to Anthropic as they are and cannot be mapped")
		case !strings.HasPrefix(target, openai.ClaudePrefix):
			add(field, "want a Claude model (claude-…), got %q", target)
		}
	}
	seen := map[string]int{}
	for i, a := range c.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		if msg := checkName(a.Name); msg != "" {
			add(field+".name", "%s", msg)
		} else if j, dup := seen[a.Name]; dup {
			add(field+".name", "name %q is already used by accounts[%d]", a.Name, j)
		} else {
			seen[a.Name] = i
		}
		dir, token := strings.TrimSpace(a.Dir) != "", a.Token != ""
		switch {
		case dir && token:
			add(field, "set either dir or token, not both")
		case !dir && !token:
			add(field, "set dir (a Claude Code config directory) or token (from `claude setup-token`)")
		case dir:
			if msg := checkDir(a.Dir); msg != "" {
				add(field+".dir", "%s", msg)
			}
		case token:
			if msg := checkToken(a.Token); msg != "" {
				add(field+".token", "%s", msg)
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

func checkListen(s string) string {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("want host:port, e.g. \"127.0.0.1:8787\", got %q", s)
	}
	if msg := checkPort(port); msg != "" {
		return msg
	}
	return ""
}

func checkPort(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("port %q is not a number between 1 and 65535", port)
	}
	return ""
}

func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("want an absolute http:// or https:// URL, got %q", s)
	}
	return ""
}

// maxNameLen bounds an account name.
const maxNameLen = 64

func checkName(name string) string {
	switch {
	case name == "":
		return "name is required"
	case len(name) > maxNameLen:
		return fmt.Sprintf("name is longer than %d characters", maxNameLen)
	case name == "." || name == "..":
		return fmt.Sprintf("name %q is reserved", name)
	}
	for _, r := range name {
		if !validNameRune(r) {
			return fmt.Sprintf("name %q may only hold letters, digits, '-', '_' and '.'", name)
		}
	}
	return ""
}

func validNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

func checkDir(dir string) string {
	if dir == "~" || strings.HasPrefix(dir, "~/") || hasHomeSep(dir) || filepath.IsAbs(dir) {
		return ""
	}
	return fmt.Sprintf("dir %q must be absolute or start with ~/", dir)
}

// tokenPrefix starts every Claude OAuth token (and every Anthropic API key).
const tokenPrefix = "sk-ant-"

// checkToken reports what is wrong with an account token without ever
// repeating it.
func checkToken(token string) string {
	switch {
	case strings.Contains(token, maskMark):
		return "token is masked; paste the full token"
	case strings.HasPrefix(token, "sk-ant-api"):
		return "token is an API key, not a Claude OAuth token (want sk-ant-oat01-…, from `claude setup-token`)"
	case !strings.HasPrefix(token, tokenPrefix) || len(token) == len(tokenPrefix):
		return "token does not look like a Claude OAuth token (want sk-ant-oat01-…, from `claude setup-token`)"
	case strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return "token contains spaces or control characters"
	}
	return ""
}
