package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/maxrouter/maxrouter/core/store"
)

// fileMode is the configuration file's mode: it may hold a long-lived token.
const fileMode = 0o600

// header opens every file Save writes.
const header = `# MaxRouter configuration. Edited by the daemon; see README for every key.
# Comments other than these are not kept when the daemon saves the file.

`

// keyComments explains the top-level keys in the saved file.
func keyComments() map[string]string {
	return map[string]string{
		"listen":              "proxy address; loopback only unless you mean to share it",
		"upstream":            "Anthropic API base URL",
		"token_url":           "OAuth endpoint used to refresh access tokens",
		"authorize_url":       "OAuth page a login opens in the browser",
		"quota_poll":          "how often each account's usage is read, idle ones too (0 = never)",
		"extra_usage":         `accounts billed to paid extra usage: "avoid" (only when no other has room) | "allow"`,
		"strategy":            "how each request picks an account: " + strings.Join(Strategies, " | "),
		"cooldown":            "rest for a spent account when no reset time is given",
		"notify":              "desktop notifications on or off (each kind under [notifications])",
		"data_dir":            `token store, usage history, control secret; "" = this file's directory`,
		"session_affinity":    "keep a Claude Code session on one account (warm prompt cache)",
		"max_body_mb":         "largest request body, buffered to retry on another account",
		"refresh_before":      "refresh an access token this long before it expires",
		"response_timeout":    "longest wait for an answer that is not streamed to start; then the next account is tried (0 = no bound)",
		"stream_idle_timeout": "longest wait for a stream to start or go on; then the next account is tried, or the stream cut (0 = no bound)",
	}
}

const modelsComment = "# Model names OpenAI clients may send, and the Claude model each one stands for\n" +
	"# (claude-* names need none). This table replaces the built-in one; delete it for the defaults.\n"

const accountsComment = "# Accounts, in priority order. Each has a dir (a Claude Code config directory)\n" +
	"# or a token (from `claude setup-token`), and optionally enabled = false.\n"

const noAccountsComment = "\n" + accountsComment +
	"# [[account]]\n# name = \"work\"\n# dir  = \"~/.claude\"\n"

// Save validates c and writes it to path as commented TOML, atomically and
// with mode 0600 (an existing file readable by others is narrowed to 0600
// first). Every key is written, defaults included; accounts are
// [[account]] tables. An invalid c gives a *ValidationError and writes
// nothing.
func Save(path string, c Config) error {
	if err := c.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = path
		}
		return err
	}
	data, err := encode(c)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, fileMode); err != nil {
			return fmt.Errorf("restricting %s: %w", path, err)
		}
	}
	return store.WriteFile(path, data, fileMode)
}

// encode renders c as the commented TOML file Save writes.
func encode(c Config) ([]byte, error) {
	body, err := toml.Marshal(c)
	if err != nil {
		return nil, err
	}
	comments := keyComments()
	lines := strings.Split(strings.TrimRight(string(body), "\n"), "\n")
	// The top-level keys come before the first table.
	top := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "[") })
	if top < 0 {
		top = len(lines)
	}

	var b bytes.Buffer
	b.WriteString(header)
	accounts := false
	for i, l := range lines {
		key, _, _ := strings.Cut(l, " = ")
		switch {
		case i < top && key == "account":
			continue // "account = []": an empty list would clash with a later [[account]]
		case i < top && comments[key] != "":
			b.WriteString("# " + comments[key] + "\n")
		case l == "[models]":
			b.WriteString(modelsComment)
		case l == "[[account]]" && !accounts:
			accounts = true
			b.WriteString(accountsComment)
		}
		b.WriteString(l + "\n")
	}
	if !accounts {
		b.WriteString(noAccountsComment)
	}
	return b.Bytes(), nil
}

// LoadOrCreate loads the configuration at path. When the file does not
// exist it creates it from Default and the accounts Discover finds under
// home, and reports created. An existing file is never overwritten, even one
// that does not parse: its error is returned. It first removes the temp
// files that saves killed before their rename left (store.Clean): a change
// that was never acknowledged.
func LoadOrCreate(path, home string, hasCredentials func(string) bool) (c Config, created bool, err error) {
	store.Clean(path) // best effort: a leftover is only clutter
	c, err = Load(path)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Config{}, false, err
	}
	if _, statErr := os.Lstat(path); !errors.Is(statErr, fs.ErrNotExist) {
		return Config{}, false, err // a dangling link or the like: not ours to replace
	}
	c = Default()
	c.Accounts = Discover(home, hasCredentials)
	if err := Save(path, c); err != nil {
		return Config{}, false, fmt.Errorf("creating config: %w", err)
	}
	return c, true, nil
}
