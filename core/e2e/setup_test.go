package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

var (
	buildOnce sync.Once
	built     string
	buildErr  error
	buildOut  []byte
)

// maxrouterBinary builds the maxrouter command (headless, no cgo) once per
// test run and returns its path.
func maxrouterBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "maxrouter-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "maxrouter")
		cmd := exec.Command("go", "build", "-tags", "headless", "-o", built, ".")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building maxrouter: %v\n%s", buildErr, buildOut)
	}
	return built
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestClaudeCodeThroughSetup connects the real claude CLI the way a user
// does: `maxrouter setup claude` writes Claude Code's settings in a home
// that already has some, and claude, started with nothing but HOME, PATH
// and TMPDIR in its environment, reaches the fake through MaxRouter (with
// the first account spent). `maxrouter setup claude --undo` then gives
// the settings back as they were and revokes the token.
func TestClaudeCodeThroughSetup(t *testing.T) {
	dir := needClient(t, "claude")
	bin := claudeBinary(t, dir)
	maxrouter := maxrouterBinary(t)
	a, b := tok("a"), tok("b")
	r := startRouterOn(t, freeAddr(t), account{"a", ".claude-a", a}, account{"b", ".claude-b", b})
	r.fake.On(a, anthropictest.RateLimited(time.Now().Add(2*time.Hour)))

	home := t.TempDir()
	work := filepath.Join(home, "project")
	settings := filepath.Join(home, ".claude", "settings.json")
	// The user's own settings: what keeps claude off the network here.
	before := `{
  "env": {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"
  },
  "includeCoAuthoredBy": false
}
`
	for _, d := range []string{work, filepath.Join(home, "tmp"), filepath.Dir(settings)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(settings, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "TMPDIR=" + filepath.Join(home, "tmp")}
	cli := func(args ...string) result {
		t.Helper()
		res := run(t, home, 60*time.Second, env, maxrouter, append([]string{"--config", r.cfg}, args...)...)
		if res.err != nil {
			t.Fatalf("maxrouter %s: %v\n%s%s", strings.Join(args, " "), res.err, res.stdout, res.stderr)
		}
		return res
	}

	res := cli("setup", "claude")
	t.Logf("maxrouter setup claude:\n%s", res.stdout)
	var s struct{ Env map[string]string }
	data, _ := os.ReadFile(settings)
	if err := json.Unmarshal(data, &s); err != nil || s.Env["ANTHROPIC_BASE_URL"] != r.base || !strings.HasPrefix(s.Env["ANTHROPIC_AUTH_TOKEN"], "la_sk_") || s.Env["DISABLE_TELEMETRY"] != "1" {
		t.Fatalf("settings after setup (%v):\n%s", err, redact(string(data), s.Env["ANTHROPIC_AUTH_TOKEN"]))
	}
	client := s.Env["ANTHROPIC_AUTH_TOKEN"]
	if again := cli("setup", "claude"); !strings.Contains(again.stdout, "nothing changed") {
		t.Errorf("second setup: %q, want nothing changed", again.stdout)
	}

	out := run(t, work, 60*time.Second, env, bin, "-p", "say hi", "--output-format", "json")
	t.Logf("claude -p took %v", out.took.Round(time.Millisecond))
	if out.err != nil {
		t.Fatalf("claude -p: %v\nstdout:\n%s\nstderr:\n%s", out.err, redact(tail(out.stdout, 4000), client), redact(tail(out.stderr, 4000), client))
	}
	var result struct {
		Subtype, Result string
		IsError         bool `json:"is_error"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.stdout)), &result); err != nil || result.Subtype != "success" || result.IsError ||
		!strings.Contains(result.Result, "chunk 0 chunk 1 chunk 2") {
		t.Fatalf("claude -p = %+v (%v), want the fake's reply\n%s", result, err, redact(tail(out.stdout, 2000), client))
	}
	got := r.received("/v1/messages")
	if len(got) != 2 || got[0].Token != a || got[1].Token != b {
		t.Fatalf("upstream saw %d message requests (tokens %v), want a's 429 then b", len(got), names(r.fake.Tokens()))
	}
	for _, rc := range got {
		checkUpstream(t, "claude request", rc, client)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	toks, err := r.client.Tokens(ctx)
	if err != nil || len(toks) != 1 || !strings.HasSuffix(toks[0].Label, " (Claude Code)") || toks[0].LastUsedAt == nil {
		t.Fatalf("tokens = %+v (%v), want one for Claude Code, used", toks, err)
	}

	undo := cli("setup", "claude", "--undo")
	if data, _ := os.ReadFile(settings); string(data) != before {
		t.Errorf("settings after undo:\n%s\nwant them as they were:\n%s", data, before)
	}
	if toks, _ = r.client.Tokens(ctx); len(toks) != 1 || toks[0].RevokedAt == nil {
		t.Errorf("token after undo = %+v, want revoked (%s)", toks, undo.stdout)
	}
}

// TestMain removes the maxrouter binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}
