package setup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/jsonedit"
	"github.com/maxrouter/maxrouter/core/store"
)

// The keys of Claude Code's settings that point it at MaxRouter, under
// "env".
const (
	BaseURLKey   = "ANTHROPIC_BASE_URL"
	AuthTokenKey = "ANTHROPIC_AUTH_TOKEN"
)

// ClaudeStateFile is the name of Claude.StateFile in the data directory,
// shared by the CLI and the desktop app so that either can undo what the
// other did.
const ClaudeStateFile = "claude-setup.json"

// ClaudeDaemon is what Claude needs of the daemon (or, while it is not
// running, of the token store); *control.Client implements it.
type ClaudeDaemon interface {
	Daemon
	RevokeToken(ctx context.Context, id string) error
}

// Claude connects Claude Code to MaxRouter through its user settings:
// Apply writes env.ANTHROPIC_BASE_URL and env.ANTHROPIC_AUTH_TOKEN (a client
// token issued for the purpose) into settings.json, after a timestamped
// backup next to it, keeping every other key and the file's formatting;
// Undo puts things back and revokes that token. What Apply did is kept in
// StateFile, so that running it again changes nothing and Undo knows what
// to undo. Its fields are set before use; Daemon and StateFile are
// required.
type Claude struct {
	Daemon ClaudeDaemon
	// Settings is Claude Code's user settings file. "": ClaudeSettings()
	// ($CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json).
	Settings string
	// StateFile remembers what Apply did (JSON, mode 0600; no secret in
	// it): <data_dir>/ClaudeStateFile.
	StateFile string
	// Hostname names the issued token ("<hostname> (Claude Code)"). "":
	// os.Hostname.
	Hostname string
	// Now is the clock of the backup names and token checks. Nil: time.Now.
	Now func() time.Time
	// Logger; nil: slog.Default.
	Logger *slog.Logger
}

// ClaudeResult says what Apply did.
type ClaudeResult struct {
	// Settings is the file written (or found set up already).
	Settings string
	// Changed is false when Claude Code was set up already: nothing was
	// written and no token issued.
	Changed bool
	// Backup is the copy of the file made before writing it; "" when
	// there was no file, or nothing changed.
	Backup string
	// Token is the client token Claude Code now uses (never the secret).
	Token control.Token
}

// ClaudeUndone says what Undo did.
type ClaudeUndone struct {
	Settings string
	// Restored is the backup the file was restored from; "" when the
	// file did not exist before (it was removed), or when it had changed
	// since (then only MaxRouter's keys were removed, and Backup kept).
	Restored string
	// KeysRemoved: the file had changed since Apply, so only the two keys
	// (those still holding MaxRouter's values) were removed.
	KeysRemoved bool
	// Backup is the backup left in place when only the keys were removed.
	Backup string
	// Revoked is the ID of the client token revoked.
	Revoked string
}

// claudeState is the content of StateFile.
type claudeState struct {
	Settings   string      `json:"settings"`
	BaseURL    string      `json:"base_url"`
	TokenID    string      `json:"token_id"`
	TokenHash  string      `json:"token_sha256"`     // of the secret written
	Backup     string      `json:"backup,omitempty"` // "": there was no file
	Written    string      `json:"written_sha256"`   // of the file as written
	Mode       fs.FileMode `json:"mode"`             // the file's mode before
	CreatedEnv bool        `json:"created_env"`      // "env" was added
}

// ClaudeSettings is Claude Code's user settings file:
// $CLAUDE_CONFIG_DIR/settings.json when that is set, else
// ~/.claude/settings.json.
func ClaudeSettings() (string, error) {
	if dir := os.Getenv("CLAUDE_CONFIG_DIR"); dir != "" {
		return filepath.Join(dir, "settings.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory: %w", err)
	}
	return filepath.Join(home, ".claude", "settings.json"), nil
}

func (c *Claude) settings() (string, error) {
	if c.Settings != "" {
		return c.Settings, nil
	}
	return ClaudeSettings()
}

func (c *Claude) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Claude) log() *slog.Logger {
	l := c.Logger
	if l == nil {
		l = slog.Default()
	}
	return l.With("component", "setup")
}

// Apply points Claude Code at the daemon. When the settings already hold
// the daemon's address and the token Apply issued, still active, it
// changes nothing. Otherwise it issues a client token labelled
// "<hostname> (Claude Code)", backs the file up next to it
// (settings.json.maxrouter-backup-<time>), writes the two keys into "env"
// (mode 0600: the file now holds a secret), and revokes the token of an
// earlier Apply. A settings file that is not valid JSON, or whose "env" is
// not an object, is left untouched and named in the error.
func (c *Claude) Apply(ctx context.Context) (ClaudeResult, error) {
	path, err := c.settings()
	if err != nil {
		return ClaudeResult{}, err
	}
	res := ClaudeResult{Settings: path}
	base := c.Daemon.BaseURL()
	raw, data, mode, exists, err := readSettings(path)
	if err != nil {
		return res, err
	}
	env, hasEnv, err := jsonedit.Lookup(data, "env")
	if err != nil {
		return res, fmt.Errorf("%s: %w; fix it, then run this again (nothing was changed)", path, err)
	}
	prev, err := c.readState()
	if err != nil {
		return res, err
	}
	if prev != nil && prev.Settings != path {
		return res, fmt.Errorf("Claude Code is set up through %s already: undo that first (`maxrouter setup claude --undo` with the same CLAUDE_CONFIG_DIR)", prev.Settings)
	}
	if prev != nil && hasEnv && stringIs(env, BaseURLKey, base) && hashIs(env, AuthTokenKey, prev.TokenHash) {
		if tok, ok, err := c.stillActive(ctx, prev.TokenID); err != nil {
			return res, err
		} else if ok {
			res.Token = tok
			return res, nil // set up already
		}
	}

	is, err := c.Daemon.IssueToken(ctx, c.tokenLabel(), 0)
	if err != nil {
		if errors.Is(err, control.ErrUnreachable) {
			return res, errors.New("the MaxRouter daemon is not running: start it first, then set up Claude Code again")
		}
		return res, fmt.Errorf("issuing a client token: %w", err)
	}
	out := data
	for _, kv := range [][2]string{{BaseURLKey, base}, {AuthTokenKey, is.Secret}} {
		v, _ := json.Marshal(kv[1])
		if out, err = jsonedit.Set(out, []string{"env", kv[0]}, v); err != nil {
			c.revoke(ctx, is.ID)
			return res, fmt.Errorf("%s: %w (nothing was changed)", path, err)
		}
	}
	st := claudeState{Settings: path, BaseURL: base, TokenID: is.ID, TokenHash: hash(is.Secret), Written: hash(string(out)), Mode: mode, CreatedEnv: !hasEnv}
	if prev != nil && prev.CreatedEnv && hasEnv {
		st.CreatedEnv = true // env is still the one an earlier Apply added
	}
	if exists {
		st.Backup = path + ".maxrouter-backup-" + c.now().Format("2006-01-02T15-04-05")
		if err := store.WriteFile(st.Backup, raw, 0o600); err != nil {
			c.revoke(ctx, is.ID)
			return res, fmt.Errorf("backing up %s: %w (nothing was changed)", path, err)
		}
		res.Backup = st.Backup
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		c.revoke(ctx, is.ID)
		return res, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	if exists && mode.Perm()&0o077 != 0 {
		// The file is to hold a secret: narrow it first (undo restores the mode).
		if err := os.Chmod(path, 0o600); err != nil {
			c.revoke(ctx, is.ID)
			return res, fmt.Errorf("restricting %s: %w", path, err)
		}
	}
	if err := store.WriteFile(path, out, 0o600); err != nil {
		c.revoke(ctx, is.ID)
		return res, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := store.WriteJSON(c.StateFile, st, 0o600); err != nil {
		c.log().Warn("cannot remember the Claude Code setup: undo will remove the keys only", "file", c.StateFile, "err", err)
	}
	if prev != nil && prev.TokenID != is.ID {
		c.revoke(ctx, prev.TokenID)
	}
	c.log().Info("Claude Code set up", "settings", path, "token", is.ID, "backup", st.Backup)
	res.Changed, res.Token = true, is.Token
	return res, nil
}

// Current reports whether Apply set Claude Code up (and Undo has not taken
// it back since), and the settings file it wrote. A damaged StateFile is
// an error naming it.
func (c *Claude) Current() (settings string, ok bool, err error) {
	st, err := c.readState()
	if err != nil || st == nil {
		return "", false, err
	}
	return st.Settings, true, nil
}

// Undo takes MaxRouter out of Claude Code's settings. When the file is as
// Apply wrote it, the backup is put back (or the file removed, when there
// was none before); when it changed since, only the two keys are removed,
// and only while they still hold what Apply wrote. Then the token Apply
// issued is revoked. A file that is not valid JSON is left untouched and
// named in the error, and the setup is kept for a later Undo.
func (c *Claude) Undo(ctx context.Context) (ClaudeUndone, error) {
	st, err := c.readState()
	if err != nil {
		return ClaudeUndone{}, err
	}
	if st == nil {
		return ClaudeUndone{}, fmt.Errorf("MaxRouter has not set up Claude Code here (no %s): nothing to undo", c.StateFile)
	}
	res := ClaudeUndone{Settings: st.Settings}
	_, data, mode, exists, err := readSettings(st.Settings)
	if err != nil {
		return res, err
	}
	switch {
	case !exists:
		// Removed meanwhile: nothing to take out of it.
	case hash(string(data)) == st.Written && st.Backup == "":
		if err := os.Remove(st.Settings); err != nil {
			return res, fmt.Errorf("removing %s: %w", st.Settings, err)
		}
	case hash(string(data)) == st.Written:
		old, err := os.ReadFile(st.Backup)
		if err != nil {
			return res, fmt.Errorf("reading the backup %s: %w (%s is left as it is)", st.Backup, err, st.Settings)
		}
		if err := store.WriteFile(st.Settings, old, st.Mode.Perm()); err != nil {
			return res, fmt.Errorf("restoring %s: %w", st.Settings, err)
		}
		if err := os.Chmod(st.Settings, st.Mode.Perm()); err != nil {
			c.log().Warn("cannot give the restored settings their mode back", "file", st.Settings, "mode", st.Mode.Perm(), "err", err)
		}
		os.Remove(st.Backup)
		res.Restored = st.Backup
	default:
		out, err := c.removeKeys(data, st)
		if err != nil {
			return res, fmt.Errorf("%s: %w; fix it, then undo again (nothing was changed)", st.Settings, err)
		}
		if string(out) != string(data) {
			if err := store.WriteFile(st.Settings, out, mode.Perm()); err != nil {
				return res, fmt.Errorf("writing %s: %w", st.Settings, err)
			}
		}
		res.KeysRemoved, res.Backup = true, st.Backup
	}
	if err := c.Daemon.RevokeToken(ctx, st.TokenID); err != nil && !errors.Is(err, control.ErrNotFound) {
		os.Remove(c.StateFile)
		return res, fmt.Errorf("Claude Code's settings are undone, but its client token %s could not be revoked: %w (revoke it with `maxrouter tokens revoke %s`)", st.TokenID, err, st.TokenID)
	}
	res.Revoked = st.TokenID
	if err := os.Remove(c.StateFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("forgetting the setup: %w", err)
	}
	c.log().Info("Claude Code setup undone", "settings", st.Settings, "restored", res.Restored, "token", st.TokenID)
	return res, nil
}

// removeKeys takes the two keys out of data where they still hold what
// Apply wrote, and "env" when Apply added it and it is left empty.
func (c *Claude) removeKeys(data []byte, st *claudeState) ([]byte, error) {
	env, ok, err := jsonedit.Lookup(data, "env")
	if err != nil || !ok {
		return data, err
	}
	if stringIs(env, BaseURLKey, st.BaseURL) {
		if data, err = jsonedit.Delete(data, []string{"env", BaseURLKey}); err != nil {
			return nil, err
		}
	}
	if hashIs(env, AuthTokenKey, st.TokenHash) {
		if data, err = jsonedit.Delete(data, []string{"env", AuthTokenKey}); err != nil {
			return nil, err
		}
	}
	if env, ok, err = jsonedit.Lookup(data, "env"); err == nil && ok && len(env.Members) == 0 && st.CreatedEnv {
		return jsonedit.Delete(data, []string{"env"})
	}
	return data, err
}

// stillActive reports whether the daemon lists token id as active. While
// the daemon cannot be reached the token is taken as active.
func (c *Claude) stillActive(ctx context.Context, id string) (control.Token, bool, error) {
	list, err := c.Daemon.Tokens(ctx)
	if errors.Is(err, control.ErrUnreachable) {
		return control.Token{ID: id}, true, nil
	}
	if err != nil {
		return control.Token{}, false, fmt.Errorf("listing client tokens: %w", err)
	}
	now := c.now()
	for _, t := range list {
		if t.ID == id {
			return t, t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now)), nil
		}
	}
	return control.Token{}, false, nil
}

func (c *Claude) revoke(ctx context.Context, id string) {
	if err := c.Daemon.RevokeToken(ctx, id); err != nil && !errors.Is(err, control.ErrNotFound) {
		c.log().Warn("cannot revoke a client token no longer used by Claude Code", "id", id, "err", err)
	}
}

// readState reads StateFile; nil when there is none.
func (c *Claude) readState() (*claudeState, error) {
	if c.StateFile == "" {
		return nil, errors.New("setup: no StateFile given")
	}
	data, err := os.ReadFile(c.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.StateFile, err)
	}
	var st claudeState
	if err := json.Unmarshal(data, &st); err != nil || st.Settings == "" {
		return nil, fmt.Errorf("%s is damaged (%v): delete it, then set up Claude Code again", c.StateFile, err)
	}
	return &st, nil
}

func (c *Claude) tokenLabel() string {
	host := strings.TrimSpace(c.Hostname)
	if host == "" {
		host, _ = os.Hostname()
		host = strings.TrimSpace(host)
	}
	if host == "" {
		host = "this computer"
	}
	return host + " (Claude Code)"
}

// readSettings reads the settings file: its bytes as they are, the JSON
// object to edit ("{\n}\n" for a file that is missing or empty), its mode,
// and whether it exists. A file that is not a JSON object is an error
// naming it.
func readSettings(path string) (raw, data []byte, mode fs.FileMode, exists bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []byte("{\n}\n"), 0o600, false, nil
	}
	if err != nil {
		return nil, nil, 0, false, fmt.Errorf("reading %s: %w", path, err)
	}
	if raw, err = os.ReadFile(path); err != nil {
		return nil, nil, 0, false, fmt.Errorf("reading %s: %w", path, err)
	}
	data = raw
	if strings.TrimSpace(string(raw)) == "" {
		data = []byte("{\n}\n")
	}
	if _, err := jsonedit.Parse(data); err != nil {
		return nil, nil, 0, true, fmt.Errorf("%s is %v: fix it or move it away, then run this again (nothing was changed)", path, err)
	}
	return raw, data, fi.Mode(), true, nil
}

// stringIs reports whether obj's key holds the string want.
func stringIs(obj *jsonedit.Object, key, want string) bool {
	raw, ok := obj.Get(key)
	var s string
	return ok && json.Unmarshal(raw, &s) == nil && s == want
}

// hashIs reports whether obj's key holds a string whose hash is want.
func hashIs(obj *jsonedit.Object, key, want string) bool {
	raw, ok := obj.Get(key)
	var s string
	return ok && want != "" && json.Unmarshal(raw, &s) == nil && hash(s) == want
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
