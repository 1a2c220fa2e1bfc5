package setup

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// userSettings is a Claude Code settings file as a person keeps it.
const userSettings = `{
  "$schema": "https://json.schemastore.org/claude-code-settings.json",
  "model": "opus",
  "env": {
    "DISABLE_TELEMETRY": "1"
  },
  "permissions": {
    "allow": ["Bash(go test:*)"]
  }
}
`

// claudeSetup is a Claude setup over a temporary home, and the fake
// daemon's backend.
func claudeSetup(t *testing.T) (*Claude, *controltest.Backend, string) {
	t.Helper()
	b := &controltest.Backend{}
	c, _ := controltest.NewServer(t, b)
	home := t.TempDir()
	cl := &Claude{
		Daemon:    fixedURL{c},
		Settings:  filepath.Join(home, ".claude", "settings.json"),
		StateFile: filepath.Join(home, "data", "claude-setup.json"),
		Hostname:  "box",
		Now:       func() time.Time { return time.Date(2026, 11, 26, 15, 4, 5, 0, time.Local) },
	}
	return cl, b, home
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// envOf returns the settings' env object.
func envOf(t *testing.T, data string) map[string]string {
	t.Helper()
	var s struct{ Env map[string]string }
	if err := json.Unmarshal([]byte(data), &s); err != nil {
		t.Fatalf("settings are not JSON: %v\n%s", err, data)
	}
	return s.Env
}

func TestClaudeApplyMergesAndUndoRestores(t *testing.T) {
	cl, b, _ := claudeSetup(t)
	ctx := context.Background()
	writeFile(t, cl.Settings, userSettings, 0o644)

	res, err := cl.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := readFile(t, cl.Settings)
	want := strings.Replace(userSettings, `"DISABLE_TELEMETRY": "1"`, `"DISABLE_TELEMETRY": "1",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787",
    "ANTHROPIC_AUTH_TOKEN": "la_sk_test-1"`, 1)
	if after != want {
		t.Errorf("settings =\n%s\nwant every other key as it was:\n%s", after, want)
	}
	if !res.Changed || res.Token.ID != "tok-1" || res.Settings != cl.Settings {
		t.Errorf("result = %+v, want a change with token tok-1", res)
	}
	if wantBackup := cl.Settings + ".maxrouter-backup-2026-11-26T15-04-05"; res.Backup != wantBackup || readFile(t, res.Backup) != userSettings {
		t.Errorf("backup %q, want %q holding the file as it was", res.Backup, wantBackup)
	}
	if fi, _ := os.Stat(cl.Settings); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("settings mode = %v, want 0600: they hold a client token now", fi.Mode().Perm())
	}
	if state := readFile(t, cl.StateFile); strings.Contains(state, "la_sk_test-1") {
		t.Errorf("the state file holds the secret: %s", state)
	}
	b.Lock()
	issues := slices.Clone(b.Issues)
	b.Unlock()
	if len(issues) != 1 || issues[0].Label != "box (Claude Code)" || issues[0].TTL != 0 {
		t.Errorf("issued %+v, want one token labelled \"box (Claude Code)\"", issues)
	}

	// Again: nothing changes, no token is issued.
	res2, err := cl.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Changed || res2.Backup != "" || readFile(t, cl.Settings) != after || len(b.Issues) != 1 {
		t.Errorf("second Apply = %+v (issues %d), want no change", res2, len(b.Issues))
	}
	backups, _ := filepath.Glob(cl.Settings + ".maxrouter-backup-*")
	if len(backups) != 1 {
		t.Errorf("backups = %v, want one", backups)
	}

	undone, err := cl.Undo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, cl.Settings); got != userSettings {
		t.Errorf("after undo =\n%s\nwant the file as it was", got)
	}
	if fi, _ := os.Stat(cl.Settings); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("restored mode = %v, want the file's own 0644", fi.Mode().Perm())
	}
	if undone.Restored != res.Backup || undone.Revoked != "tok-1" || undone.KeysRemoved {
		t.Errorf("undo = %+v, want the backup restored and tok-1 revoked", undone)
	}
	if b.TokenList[0].RevokedAt == nil {
		t.Error("the token was not revoked")
	}
	for _, p := range []string{res.Backup, cl.StateFile} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind after undo", p)
		}
	}
	if _, err := cl.Undo(ctx); err == nil || !strings.Contains(err.Error(), "nothing to undo") {
		t.Errorf("second undo = %v, want nothing to undo", err)
	}
}

func TestClaudeUndoAfterEdits(t *testing.T) {
	cl, b, _ := claudeSetup(t)
	ctx := context.Background()
	writeFile(t, cl.Settings, `{"model": "opus"}`, 0o600)
	res, err := cl.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The person (or Claude Code) changes the file since.
	edited := strings.Replace(readFile(t, cl.Settings), `"model": "opus"`, `"model": "sonnet", "theme": "dark"`, 1)
	writeFile(t, cl.Settings, edited, 0o600)

	undone, err := cl.Undo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, cl.Settings), `{"model": "sonnet", "theme": "dark"}`; got != want {
		t.Errorf("after undo = %s, want the edits kept and MaxRouter's keys (and the env it added) gone: %s", got, want)
	}
	if !undone.KeysRemoved || undone.Restored != "" || undone.Backup != res.Backup {
		t.Errorf("undo = %+v, want keys removed and the backup kept", undone)
	}
	if _, err := os.Stat(res.Backup); err != nil {
		t.Errorf("backup: %v, want it kept", err)
	}
	if b.TokenList[0].RevokedAt == nil {
		t.Error("the token was not revoked")
	}
}

func TestClaudeKeepsOtherValuesOnUndo(t *testing.T) {
	cl, _, _ := claudeSetup(t)
	ctx := context.Background()
	writeFile(t, cl.Settings, userSettings, 0o600)
	if _, err := cl.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	// Pointed elsewhere by hand since: that value is not MaxRouter's to remove.
	data := strings.Replace(readFile(t, cl.Settings), "http://127.0.0.1:8787", "http://gateway.example:9000", 1)
	writeFile(t, cl.Settings, data, 0o600)
	if _, err := cl.Undo(ctx); err != nil {
		t.Fatal(err)
	}
	env := envOf(t, readFile(t, cl.Settings))
	if env["ANTHROPIC_BASE_URL"] != "http://gateway.example:9000" || env["ANTHROPIC_AUTH_TOKEN"] != "" || env["DISABLE_TELEMETRY"] != "1" {
		t.Errorf("env after undo = %v, want the hand-set URL and the other key kept, the token gone", env)
	}
}

func TestClaudeWithoutSettings(t *testing.T) {
	cl, _, _ := claudeSetup(t)
	ctx := context.Background()
	res, err := cl.Apply(ctx) // no ~/.claude at all
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8787\",\n    \"ANTHROPIC_AUTH_TOKEN\": \"la_sk_test-1\"\n  }\n}\n"
	if got := readFile(t, cl.Settings); got != want || res.Backup != "" {
		t.Errorf("settings =\n%s\nbackup %q; want\n%s", got, res.Backup, want)
	}
	if _, err := cl.Undo(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cl.Settings); !os.IsNotExist(err) {
		t.Errorf("settings after undo: %v, want removed (there was none)", err)
	}
}

func TestClaudeReissuesARevokedToken(t *testing.T) {
	cl, b, _ := claudeSetup(t)
	ctx := context.Background()
	if _, err := cl.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeToken("tok-1"); err != nil {
		t.Fatal(err)
	}
	res, err := cl.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Token.ID != "tok-2" || envOf(t, readFile(t, cl.Settings))["ANTHROPIC_AUTH_TOKEN"] != "la_sk_test-2" {
		t.Errorf("Apply after revoking = %+v, want a new token written", res)
	}
}

func TestClaudeLeavesBadFilesAlone(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"not JSON", "{\n  \"model\": \"opus\",\n}\n", "not valid JSON"},
		{"not an object", `["a"]`, "not a JSON object"},
		{"env not an object", `{"env": "x"}`, "env is not an object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, b, _ := claudeSetup(t)
			writeFile(t, cl.Settings, c.data, 0o644)
			_, err := cl.Apply(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), cl.Settings) {
				t.Fatalf("Apply = %v, want an error naming %s and %q", err, cl.Settings, c.want)
			}
			if got := readFile(t, cl.Settings); got != c.data {
				t.Errorf("file changed to %q", got)
			}
			if len(b.Issues) != 0 {
				t.Errorf("a token was issued for a setup that failed")
			}
			if backups, _ := filepath.Glob(cl.Settings + ".*"); len(backups) != 0 {
				t.Errorf("files left: %v", backups)
			}
		})
	}
	// Undo over a file broken since: untouched, and the setup kept.
	cl, b, _ := claudeSetup(t)
	if _, err := cl.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cl.Settings, "{oops", 0o600)
	if _, err := cl.Undo(context.Background()); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("Undo = %v, want the file named as not valid JSON", err)
	}
	if readFile(t, cl.Settings) != "{oops" || b.TokenList[0].RevokedAt != nil {
		t.Error("undo over a broken file changed it or revoked the token")
	}
	if _, err := os.Stat(cl.StateFile); err != nil {
		t.Errorf("state: %v, want it kept for a later undo", err)
	}
}

func TestClaudeSettingsPath(t *testing.T) {
	t.Setenv("CLAUDE_CONFIG_DIR", "/somewhere/claude-work")
	if got, _ := ClaudeSettings(); got != filepath.Join("/somewhere/claude-work", "settings.json") {
		t.Errorf("with CLAUDE_CONFIG_DIR: %q", got)
	}
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	home, _ := os.UserHomeDir()
	if got, _ := ClaudeSettings(); got != filepath.Join(home, ".claude", "settings.json") {
		t.Errorf("without: %q", got)
	}
}

func TestClaudeCurrent(t *testing.T) {
	cl, _, _ := claudeSetup(t)
	ctx := context.Background()
	check := func(when, wantPath string, wantOK bool) {
		t.Helper()
		path, ok, err := cl.Current()
		if err != nil || ok != wantOK || path != wantPath {
			t.Errorf("%s: Current() = %q, %v, %v; want %q, %v, nil", when, path, ok, err, wantPath, wantOK)
		}
	}
	check("before", "", false)
	if _, err := cl.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	check("after Apply", cl.Settings, true)
	if _, err := cl.Undo(ctx); err != nil {
		t.Fatal(err)
	}
	check("after Undo", "", false)
	writeFile(t, cl.StateFile, "{not json", 0o600)
	if _, _, err := cl.Current(); err == nil || !strings.Contains(err.Error(), cl.StateFile) {
		t.Errorf("Current() on a damaged state file: %v, want an error naming it", err)
	}
}
