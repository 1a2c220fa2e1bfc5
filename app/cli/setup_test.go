package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/token"
)

func TestSetupClaudeWithoutDaemon(t *testing.T) {
	cfg, dataDir := usageSetup(t, "127.0.0.1:8787")
	claudeDir := filepath.Join(t.TempDir(), "claude-home")
	t.Setenv("CLAUDE_CONFIG_DIR", claudeDir)
	settings := filepath.Join(claudeDir, "settings.json")
	if err := os.MkdirAll(claudeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	before := "{\n  \"model\": \"opus\"\n}\n"
	if err := os.WriteFile(settings, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}

	out, _, err := run(t, "--config", cfg, "setup", "claude")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Claude Code now goes through MaxRouter at http://127.0.0.1:8787") || !strings.Contains(out, "maxrouter-backup-") {
		t.Errorf("output = %q", out)
	}
	var s struct{ Env map[string]string }
	data, _ := os.ReadFile(settings)
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	store, err := token.Open(filepath.Join(dataDir, "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Check(s.Env["ANTHROPIC_AUTH_TOKEN"]); err != nil || s.Env["ANTHROPIC_BASE_URL"] != "http://127.0.0.1:8787" {
		t.Errorf("env = %v: the token does not check (%v) or the URL is wrong", s.Env, err)
	}
	if out, _, err := run(t, "--config", cfg, "setup", "claude"); err != nil || !strings.Contains(out, "nothing changed") {
		t.Errorf("again: %q, %v; want nothing changed", out, err)
	}
	out, _, err = run(t, "--config", cfg, "setup", "claude", "--undo")
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(settings); string(data) != before || !strings.Contains(out, "Restored") || !strings.Contains(out, "Revoked") {
		t.Errorf("after undo: %q (output %q), want the file as it was", data, out)
	}
	store.Reload()
	if _, err := store.Check(s.Env["ANTHROPIC_AUTH_TOKEN"]); err != token.ErrRevoked {
		t.Errorf("token after undo: %v, want revoked", err)
	}
}

func TestSetupClaudeThroughDaemon(t *testing.T) {
	b := &controltest.Backend{}
	cfg := startDaemon(t, b)
	t.Setenv("CLAUDE_CONFIG_DIR", filepath.Join(t.TempDir(), "c"))
	if _, _, err := run(t, "--config", cfg, "setup", "claude"); err != nil {
		t.Fatal(err)
	}
	b.Lock()
	defer b.Unlock()
	if len(b.Issues) != 1 || !strings.HasSuffix(b.Issues[0].Label, " (Claude Code)") {
		t.Errorf("issued %+v, want one token for Claude Code through the daemon", b.Issues)
	}
}
