package e2e

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/daemon"
)

// tok is an obviously fake account access token.
func tok(name string) string { return "sk-ant-oat01-test-" + name }

// account is one Claude Code login directory under the test home.
type account struct{ name, dir, token string }

// router is a real daemon over a temporary home, in front of the fake API.
type router struct {
	home   string
	cfg    string // the configuration file
	fake   *anthropictest.Fake
	up     *httptest.Server
	base   string // http://127.0.0.1:port
	client *control.Client
}

// startRouter writes a credentials file per account and a configuration
// that lists them in order with the priority strategy, so the first
// account is always tried first, then runs the daemon until the test ends.
func startRouter(t *testing.T, accts ...account) *router {
	t.Helper()
	return startRouterOn(t, "", accts...)
}

// startRouterOn is startRouter with listen written into the configuration
// (for clients that find the daemon through it, like the maxrouter CLI);
// "" lets the daemon pick a free port.
func startRouterOn(t *testing.T, listen string, accts ...account) *router {
	t.Helper()
	r := &router{home: t.TempDir()}
	r.fake, r.up = anthropictest.New(t)
	r.cfg = filepath.Join(r.home, ".config", "maxrouter", "config.toml")
	cfgPath := r.cfg
	var cfg strings.Builder
	cfg.WriteString("strategy = \"priority\"\n")
	if listen != "" {
		fmt.Fprintf(&cfg, "listen = %q\n", listen)
	}
	for _, a := range accts {
		writeCreds(t, filepath.Join(r.home, a.dir), a.token)
		fmt.Fprintf(&cfg, "[[account]]\nname = %q\ndir = %q\n", a.name, "~/"+a.dir)
	}
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"UPSTREAM_BASE_URL": r.up.URL}
	d, err := daemon.New(daemon.Options{
		ConfigPath: cfgPath, Home: r.home, Version: "e2e",
		Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Listen: cmp.Or(listen, "127.0.0.1:0"),
	})
	if err != nil {
		t.Fatalf("daemon.New: %v", err)
	}
	if err := d.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	r.base = "http://" + d.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop within 15s")
		}
	})
	secret, err := os.ReadFile(filepath.Join(filepath.Dir(cfgPath), "control.secret"))
	if err != nil {
		t.Fatal(err)
	}
	r.client = control.NewClient(r.base, strings.TrimSpace(string(secret)))
	return r
}

// writeCreds writes a Claude Code credentials file (nested layout) valid
// for eight hours, so the daemon has no reason to refresh.
func writeCreds(t *testing.T, dir, access string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"claudeAiOauth":{"accessToken":%q,"refreshToken":"sk-ant-ort01-test-refresh","expiresAt":%d,"scopes":["user:inference"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x"}}`,
		access, time.Now().Add(8*time.Hour).UnixMilli())
	if err := os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue returns a new client token from the control API.
func (r *router) issue(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	is, err := r.client.IssueToken(ctx, "e2e", 0)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return is.Secret
}

// received returns the requests the fake saw with the given path.
func (r *router) received(path string) []anthropictest.Received {
	var out []anthropictest.Received
	for _, rc := range r.fake.Received() {
		if rc.Path == path {
			out = append(out, rc)
		}
	}
	return out
}

// needClient returns the absolute path of an npm client directory under
// testdata with its node_modules installed. It runs `npm ci` when
// node_modules is missing and skips the test, with the reason, when npm is
// missing or the install fails; under CI (CI=true), where .ci/run installs
// the clients first, those are failures instead.
func needClient(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return dir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable(t, "testdata/%s/node_modules is missing and npm is not on PATH: install Node.js and npm, or run `npm ci --prefix core/e2e/testdata/%s`", name, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.RemoveAll(filepath.Join(dir, "node_modules")) // no half install next time
		unavailable(t, "npm ci in testdata/%s failed after %v (no registry?): %v\n%s", name, time.Since(start).Round(time.Millisecond), err, tail(out.String(), 2000))
	}
	t.Logf("npm ci in testdata/%s took %v", name, time.Since(start).Round(time.Millisecond))
	return dir
}

// needNode skips the test when node is not on PATH (fails it under CI).
func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "node is not on PATH: install Node.js and npm to run the end-to-end tests with real clients")
	}
}

// unavailable skips the test for a missing client, or fails it under CI,
// where a skipped end-to-end test would go unnoticed.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

// result is a finished client process.
type result struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

// run runs a client with exactly env (nothing is inherited but PATH, so a
// real ANTHROPIC_* variable of the machine cannot leak in), in dir, killed
// with its process group after timeout or at the end of the test.
func run(t *testing.T, dir string, timeout time.Duration, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	}, env...)
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	reap := ownGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	reap()
	res := result{stdout.String(), stderr.String(), err, time.Since(start)}
	if ctx.Err() != nil {
		res.err = fmt.Errorf("killed after %v: %w", timeout, err)
	}
	return res
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// redact hides tokens in output shown on failure.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) > 12 {
			s = strings.ReplaceAll(s, sec, sec[:12]+"…")
		}
	}
	return s
}
