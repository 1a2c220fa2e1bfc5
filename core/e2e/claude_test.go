package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

// claudeVersion is the version pinned in testdata/claude/package.json.
const claudeVersion = "2.1.332"

// TestClaudeCodeThroughProxy runs the real claude CLI in print mode
// against the router, with the first account spent: Claude Code must get
// its answer from the second account without noticing, and upstream must
// see Claude Code's own identity with an account's credentials.
//
// Claude Code runs with a temporary HOME, CLAUDE_CONFIG_DIR and TMPDIR (it
// puts a messaging socket under TMPDIR), and with every optional kind of
// traffic off, so the only host it talks to is ANTHROPIC_BASE_URL. In this
// mode it sends no `HEAD /` connectivity check, only the message request.
func TestClaudeCodeThroughProxy(t *testing.T) {
	dir := needClient(t, "claude")
	bin := claudeBinary(t, dir)
	a, b := tok("a"), tok("b")
	r := startRouter(t, account{"a", ".claude-a", a}, account{"b", ".claude-b", b})
	r.fake.On(a, anthropictest.RateLimited(time.Now().Add(2*time.Hour)))
	client := r.issue(t)

	env, work, debugLog := claudeEnv(t, r, client)
	res := run(t, work, 60*time.Second, env, bin, "-p", "say hi", "--output-format", "json", "--debug-file", debugLog)
	t.Logf("claude -p took %v", res.took.Round(time.Millisecond))
	failed := func(format string, args ...any) {
		t.Helper()
		dbg, _ := os.ReadFile(debugLog)
		for _, rc := range r.fake.Received() {
			t.Logf("upstream saw %s %s?%s (%d bytes)", rc.Method, rc.Path, rc.RawQuery, len(rc.Body))
		}
		t.Fatalf(format+"\nstdout:\n%s\nstderr:\n%s\ndebug log:\n%s", append(args,
			redact(tail(res.stdout, 4000), client), redact(tail(res.stderr, 4000), client), redact(tail(string(dbg), 8000), client))...)
	}
	if res.err != nil {
		failed("claude -p: %v", res.err)
	}

	var out struct {
		Type, Subtype, Result string
		IsError               bool   `json:"is_error"`
		SessionID             string `json:"session_id"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.stdout)), &out); err != nil {
		failed("output is not one JSON object: %v", err)
	}
	if out.Type != "result" || out.Subtype != "success" || out.IsError {
		failed("result = %s/%s is_error=%v, want result/success", out.Type, out.Subtype, out.IsError)
	}
	if want := "chunk 0 chunk 1 chunk 2"; !strings.Contains(out.Result, want) {
		failed("result = %q, want the fake's streamed reply %q", out.Result, want)
	}

	got := r.received("/v1/messages")
	if len(got) != 2 {
		failed("upstream saw %d message requests, want 2 (429 from a, then b): tokens %v", len(got), names(r.fake.Tokens()))
	}
	if got[0].Token != a || got[1].Token != b {
		t.Errorf("upstream tokens in order = %s, %s, want a, b", name(got[0].Token), name(got[1].Token))
	}
	for i, rc := range got {
		checkUpstream(t, "claude request", rc, client)
		if rc.Method != "POST" || rc.RawQuery != "beta=true" {
			t.Errorf("request %d = %s ?%s, want POST ?beta=true", i, rc.Method, rc.RawQuery)
		}
		if ua, want := rc.Header.Get("User-Agent"), "claude-cli/"+claudeVersion+" "; !strings.HasPrefix(ua, want) {
			t.Errorf("request %d User-Agent = %q, want %q…", i, ua, want)
		}
		if got, want := rc.Header.Get("X-Claude-Code-Session-Id"), out.SessionID; got == "" || got != want {
			t.Errorf("request %d X-Claude-Code-Session-Id = %q, want the session %q", i, got, want)
		}
		if got, want := rc.Header.Get("X-App"), "cli"; got != want {
			t.Errorf("request %d X-App = %q, want %q", i, got, want)
		}
		if beta := strings.Join(rc.Header.Values("Anthropic-Beta"), ","); !strings.Contains(beta, "claude-code-20250219") {
			t.Errorf("request %d anthropic-beta = %q: Claude Code's own flags were lost", i, beta)
		}
		if got := rc.Header.Get("X-Stainless-Retry-Count"); got != "0" {
			t.Errorf("request %d X-Stainless-Retry-Count = %q, want 0: the failover must be the router's, not a retry of Claude Code", i, got)
		}
		var body struct {
			Stream bool
			System json.RawMessage
			Tools  []json.RawMessage
		}
		if err := json.Unmarshal(rc.Body, &body); err != nil || !body.Stream || len(body.System) == 0 || len(body.Tools) == 0 {
			t.Errorf("request %d body (%d bytes) is not Claude Code's streaming request with system prompt and tools: %v", i, len(rc.Body), err)
		}
	}
	if len(got[0].Body) < 10_000 || !bytes.Equal(got[0].Body, got[1].Body) {
		t.Errorf("bodies = %d and %d bytes, want the same big body replayed", len(got[0].Body), len(got[1].Body))
	}
	for _, rc := range r.fake.Received() {
		if rc.Path != "/v1/messages" {
			t.Logf("also upstream: %s %s", rc.Method, rc.Path)
		}
	}
}

// claudeEnv is the environment claude runs in: a temporary HOME,
// CLAUDE_CONFIG_DIR and TMPDIR, pointed at the router with the client
// token, and every optional kind of traffic off. It returns the project
// directory to run in and a path for --debug-file.
func claudeEnv(t *testing.T, r *router, client string) (env []string, work, debugLog string) {
	t.Helper()
	home := t.TempDir()
	work = filepath.Join(home, "project")
	if err := errors.Join(os.MkdirAll(work, 0o700), os.MkdirAll(filepath.Join(home, "tmp"), 0o700)); err != nil {
		t.Fatal(err)
	}
	env = []string{
		"HOME=" + home,
		"CLAUDE_CONFIG_DIR=" + filepath.Join(home, ".claude"),
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"ANTHROPIC_BASE_URL=" + r.base,
		"ANTHROPIC_AUTH_TOKEN=" + client,
		"DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_ERROR_REPORTING=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
	}
	return env, work, filepath.Join(home, "debug.log")
}

// TestClaudeCodeShowsPauseAtOnce runs claude against a paused router: it
// must fail with MaxRouter's message, not retry the 503 for minutes (the
// answer carries x-should-retry: false; without it this run takes over a
// minute and ends in a timeout).
func TestClaudeCodeShowsPauseAtOnce(t *testing.T) {
	dir := needClient(t, "claude")
	bin := claudeBinary(t, dir)
	r := startRouter(t, account{"a", ".claude-a", tok("a")})
	client := r.issue(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.client.Pause(ctx); err != nil {
		t.Fatal(err)
	}

	env, work, _ := claudeEnv(t, r, client)
	res := run(t, work, 45*time.Second, env, bin, "-p", "say hi")
	t.Logf("claude -p took %v", res.took.Round(time.Millisecond))
	out := res.stdout + res.stderr
	if res.err == nil {
		t.Errorf("claude -p succeeded while routing was paused:\n%s", redact(tail(out, 2000), client))
	}
	if strings.Contains(fmt.Sprint(res.err), "killed after") {
		t.Fatalf("claude -p was still retrying after 45s: %v\n%s", res.err, redact(tail(out, 2000), client))
	}
	if want := "MaxRouter is paused"; !strings.Contains(out, want) {
		t.Errorf("claude -p output lacks %q:\n%s", want, redact(tail(out, 2000), client))
	}
	if got := r.received("/v1/messages"); len(got) != 0 {
		t.Errorf("upstream saw %d message requests while paused, want none", len(got))
	}
}

// claudeBinary returns the installed claude executable after checking
// that it is the pinned version. npm links node_modules/.bin/claude to a
// stub that the package's postinstall replaces by the native binary of an
// optional per-platform package; where install scripts did not run, that
// native binary is used directly.
func claudeBinary(t *testing.T, dir string) string {
	t.Helper()
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	exe := map[bool]string{true: ".exe"}[runtime.GOOS == "windows"]
	var tried []string
	for _, bin := range []string{
		filepath.Join(dir, "node_modules", ".bin", "claude"+exe),
		filepath.Join(dir, "node_modules", "@anthropic-ai", "claude-code-"+strings.Replace(runtime.GOOS, "windows", "win32", 1)+"-"+arch, "claude"+exe),
	} {
		res := run(t, dir, 30*time.Second, []string{"HOME=" + t.TempDir(), "DISABLE_AUTOUPDATER=1"}, bin, "--version")
		if res.err == nil && strings.HasPrefix(res.stdout, claudeVersion+" ") {
			return bin
		}
		tried = append(tried, fmt.Sprintf("%s --version: %v %q %q", bin, res.err, tail(res.stdout, 200), tail(res.stderr, 200)))
	}
	t.Fatalf("no claude %s in testdata/claude/node_modules (reinstall with npm ci):\n%s", claudeVersion, strings.Join(tried, "\n"))
	return ""
}

// name is the short name of a test account token.
func name(token string) string {
	if n, ok := strings.CutPrefix(token, "sk-ant-oat01-test-"); ok {
		return n
	}
	return redact(token, token)
}

// names maps name over tokens.
func names(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, tk := range tokens {
		out[i] = name(tk)
	}
	return out
}
