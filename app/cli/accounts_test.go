package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/daemon"
	"github.com/maxrouter/maxrouter/core/wait"
)

// live is a real daemon over a temporary home (HOME points there), in
// front of the fake Anthropic, which also plays the login and the usage
// endpoint.
type live struct {
	home, cfg string
	fake      *anthropictest.Fake
	up        *httptest.Server
	d         *daemon.Daemon
}

// startLive writes a configuration with extra lines and starts a daemon
// on it; prepare may write credential folders under home first.
func startLive(t *testing.T, extra string, prepare func(l *live)) *live {
	t.Helper()
	l := &live{home: t.TempDir()}
	t.Setenv("HOME", l.home)
	l.fake, l.up = anthropictest.New(t)
	l.cfg = filepath.Join(l.home, ".config", "maxrouter", "config.toml")
	if prepare != nil {
		prepare(l)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	os.MkdirAll(filepath.Dir(l.cfg), 0o700)
	cfg := fmt.Sprintf("listen = %q\nupstream = %q\nauthorize_url = %q\ntoken_url = %q\n%s\n",
		addr, l.up.URL, l.up.URL+anthropictest.AuthorizePath, l.up.URL+anthropictest.TokenPath, extra)
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l.d, err = daemon.New(daemon.Options{
		ConfigPath: l.cfg, Home: l.home, Version: "test",
		Getenv: func(string) string { return "" },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.d.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l
}

// client is a control client for the daemon, as the CLI finds it.
func (l *live) client(t *testing.T) *control.Client {
	t.Helper()
	cfg, err := config.Load(l.cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := control.ClientFor(cfg, l.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// account returns the daemon's snapshot of name.
func (l *live) account(t *testing.T, name string) control.Account {
	t.Helper()
	accts, err := l.client(t).Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.Name == name {
			return a
		}
	}
	return control.Account{}
}

// post sends a message through the proxy with a new client token and
// returns the status.
func (l *live) post(t *testing.T) int {
	t.Helper()
	is, err := l.client(t).IssueToken(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", l.client(t).BaseURL()+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+is.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// session is a CLI command running against the live daemon: its standard
// output is read as it comes, its standard input written when asked.
type session struct {
	lines chan string
	in    *io.PipeWriter
	done  chan error
	ctrlC chan struct{} // closed by interrupt

	mu     sync.Mutex
	out    []string
	stderr bytes.Buffer
}

func (s *session) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.Write(p)
}

// runLive starts the command line with args.
func runLive(t *testing.T, args ...string) *session {
	t.Helper()
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	s := &session{lines: make(chan string, 64), in: inW, done: make(chan error, 1), ctrlC: make(chan struct{})}
	root := newRoot(&app{version: "test", stdout: outW, stderr: s, now: time.Now,
		openURL: func(string) error { t.Error("a browser was opened despite --no-browser"); return nil },
		interrupt: func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(parent)
			go func() {
				select {
				case <-s.ctrlC:
					cancel()
				case <-ctx.Done():
				}
			}()
			return ctx, cancel
		}})
	root.SetIn(inR)
	root.SetArgs(args)
	go func() {
		err := root.Execute()
		outW.Close()
		s.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			s.mu.Lock()
			s.out = append(s.out, sc.Text())
			s.mu.Unlock()
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() { inW.Close() })
	return s
}

// line returns the first line of output starting with prefix, without it.
func (s *session) line(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("output ended without a line starting %q; stderr: %s", prefix, s.errors())
			}
			if rest, found := strings.CutPrefix(l, prefix); found {
				return rest
			}
		case <-timeout:
			t.Fatalf("no line starting %q within 10s", prefix)
		}
	}
}

// wait waits for the command and returns its error and whole output.
func (s *session) wait(t *testing.T) (error, string) {
	t.Helper()
	select {
	case err := <-s.done:
		for range s.lines {
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return err, strings.Join(s.out, "\n") + "\n"
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not end within 20s")
		return nil, ""
	}
}

func (s *session) errors() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// browse opens u as a browser would, following redirects.
func browse(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The whole lifecycle from the command line: log in to a new account (the
// browser played by fetching the printed URL), use it, lose the login, log
// in again.
func TestAccountsLogin(t *testing.T) {
	l := startLive(t, "", nil)
	l.fake.LoginAs(anthropictest.Identity{Email: "ana@example.test", OrganizationType: "claude_max", RateLimitTier: "default_claude_max_20x"})
	s := runLive(t, "--config", l.cfg, "accounts", "login", "work", "--no-browser")
	url := s.line(t, "Open this URL to log in: ")
	if page := browse(t, url); !strings.Contains(page, "logged in as ana@example.test") {
		t.Errorf("browser page = %q", page)
	}
	err, out := s.wait(t)
	if err != nil {
		t.Fatalf("accounts login: %v (stderr %s)", err, s.errors())
	}
	dir := filepath.Join(l.home, ".config", "maxrouter", "accounts", "work")
	want := "Open this URL to log in: " + url + "\nLogged in as ana@example.test (Max 20x)\nAdded account work (~/.config/maxrouter/accounts/work).\n"
	if out != want {
		t.Errorf("output =\n%s\nwant\n%s", out, want)
	}
	// The new account serves a request.
	if status := l.post(t); status != 200 {
		t.Fatalf("request on the new account: %d", status)
	}
	creds := filepath.Join(dir, ".credentials.json")
	data, _ := os.ReadFile(creds)
	if got := l.fake.Tokens(); len(got) != 1 || !strings.Contains(string(data), got[0]) {
		t.Errorf("upstream tokens = %v, want the token written to %s", got, creds)
	}

	// The login dies (expired, no refresh token); Claude Code keeps its
	// own keys in the file.
	dead := fmt.Sprintf(`{"mcpOAuth":{"srv":{"token":"keep-me"}},"claudeAiOauth":{"accessToken":"sk-ant-oat01-test-dead","refreshToken":"","expiresAt":%d,"scopes":["user:inference","user:profile"]}}`, time.Now().Add(-time.Hour).UnixMilli())
	if err := os.WriteFile(creds, []byte(dead), 0o600); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "work to need a login", func() bool {
		l.post(t) // the expired token is found dead on use
		return l.account(t, "work").State == control.StateNeedsLogin
	})
	l.fake.LoginAs(anthropictest.Identity{Email: "ana@example.test", OrganizationType: "claude_pro"})
	s = runLive(t, "--config", l.cfg, "accounts", "login", "work", "--no-browser")
	browse(t, s.line(t, "Open this URL to log in: "))
	if err, out := s.wait(t); err != nil || !strings.HasSuffix(out, "Logged in as ana@example.test (Pro)\n") {
		t.Fatalf("login again: %v, output %q (stderr %s)", err, out, s.errors())
	}
	if a := l.account(t, "work"); a.State != control.StateAvailable {
		t.Errorf("work = %+v, want available again", a)
	}
	data, _ = os.ReadFile(creds)
	if !strings.HasPrefix(string(data), `{"mcpOAuth":{"srv":{"token":"keep-me"}},"claudeAiOauth":{"accessToken":"sk-ant-oat01-fake-login-`) {
		t.Errorf("credentials after the new login = %s, want Claude Code's key kept and the new login", data)
	}
	if status := l.post(t); status != 200 {
		t.Errorf("request after logging in again: %d", status)
	}
}

// The manual login reads the code the page shows from standard input; a
// wrong one is asked for again.
func TestAccountsLoginManual(t *testing.T) {
	l := startLive(t, "", nil)
	s := runLive(t, "--config", l.cfg, "accounts", "login", "remote", "--manual", "--no-browser")
	page := browse(t, s.line(t, "Open this URL to log in: "))
	code := anthropictest.PastedCode(page)
	if code == "" {
		t.Fatalf("the page shows no code: %q", page)
	}
	fmt.Fprintln(s.in, "not-a-code")
	fmt.Fprintln(s.in, strings.Split(code, "#")[0]+"#another-login")
	fmt.Fprintln(s.in, code)
	err, out := s.wait(t)
	if err != nil || !strings.Contains(out, "Logged in as user@example.test (Max 20x)\n") {
		t.Fatalf("manual login: %v, output %q (stderr %s)", err, out, s.errors())
	}
	if e := s.errors(); strings.Count(e, "Paste the code") != 3 || !strings.Contains(e, "belongs to another login") {
		t.Errorf("stderr = %q, want the code asked for three times and the wrong one explained", e)
	}
	if a := l.account(t, "remote"); a.State != control.StateAvailable {
		t.Errorf("remote = %+v, want available", a)
	}
}

// interrupt is the person pressing Ctrl-C.
func (s *session) interrupt() { close(s.ctrlC) }

// Ctrl-C cancels the login: the daemon stops waiting for the browser, and
// one coming back later adds nothing.
func TestAccountsLoginInterrupted(t *testing.T) {
	l := startLive(t, "", nil)
	s := runLive(t, "--config", l.cfg, "accounts", "login", "work", "--no-browser")
	u, err := url.Parse(s.line(t, "Open this URL to log in: "))
	if err != nil {
		t.Fatal(err)
	}
	s.interrupt()
	err, _ = s.wait(t)
	var ex exitError
	if !errors.As(err, &ex) || ex != loginInterrupted {
		t.Errorf("exit = %v, want status 130", err)
	}
	if e := s.errors(); !strings.Contains(e, "Login cancelled.") {
		t.Errorf("stderr = %q, want the login said cancelled", e)
	}
	callback := u.Query().Get("redirect_uri") + "?code=late&state=" + url.QueryEscape(u.Query().Get("state"))
	wait.For(t, "the login's port to close", func() bool {
		resp, err := http.Get(callback)
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	if a := l.account(t, "work"); a.Name != "" {
		t.Errorf("work = %+v, want no account from a cancelled login", a)
	}

	// Waiting for a pasted code, too.
	s = runLive(t, "--config", l.cfg, "accounts", "login", "remote", "--manual", "--no-browser")
	s.line(t, "Open this URL to log in: ")
	s.interrupt()
	if err, _ := s.wait(t); !errors.As(err, &ex) || ex != loginInterrupted {
		t.Errorf("manual login interrupted: exit = %v, want status 130", err)
	}
}

func TestAccountsLoginFails(t *testing.T) {
	l := startLive(t, "", nil)
	l.fake.DenyNextLogin("you said no")
	s := runLive(t, "--config", l.cfg, "accounts", "login", "work", "--no-browser")
	browse(t, s.line(t, "Open this URL to log in: "))
	err, _ := s.wait(t)
	var ex exitError
	if !errors.As(err, &ex) || ex != loginFailed {
		t.Errorf("exit = %v, want status 1", err)
	}
	if e := s.errors(); !strings.Contains(e, "Login failed: the login was refused: you said no") {
		t.Errorf("stderr = %q, want the reason", e)
	}
	// A name the daemon refuses never prints a URL.
	_, _, err = run(t, "--config", l.cfg, "accounts", "login", "a/b", "--no-browser")
	if err == nil || !strings.Contains(err.Error(), "may only hold letters") {
		t.Errorf("login a/b = %v, want the name refused", err)
	}
}

func TestAccountsLoginNeedsTheDaemon(t *testing.T) {
	cfg, _ := usageSetup(t, "127.0.0.1:1")
	_, _, err := run(t, "--config", cfg, "accounts", "login", "work")
	if err == nil || !strings.Contains(err.Error(), "daemon is not running") {
		t.Errorf("login without a daemon = %v, want it to say the daemon must run", err)
	}
}

// Within a minute of the daemon's start, with no message sent, the table
// shows every account's use and reset.
func TestAccountsShowQuotaBeforeAnyRequest(t *testing.T) {
	reset := time.Now().Add(2*time.Hour + 10*time.Minute + 30*time.Second)
	l := startLive(t, "[[account]]\nname = \"a\"\ndir = \"~/.claude-a\"\n[[account]]\nname = \"b\"\ndir = \"~/.claude-b\"\n", func(l *live) {
		for _, n := range []string{"a", "b"} {
			dir := filepath.Join(l.home, ".claude-"+n)
			os.MkdirAll(dir, 0o700)
			os.WriteFile(filepath.Join(dir, ".credentials.json"), fmt.Appendf(nil,
				`{"claudeAiOauth":{"accessToken":"sk-ant-oat01-test-%s","refreshToken":"r","expiresAt":%d,"refreshTokenExpiresAt":%d,"scopes":["user:inference","user:profile"],"subscriptionType":"max"}}`,
				n, time.Now().Add(8*time.Hour).UnixMilli(), time.Now().Add(3*24*time.Hour+time.Hour).UnixMilli()), 0o600)
		}
		l.fake.SetUsage("sk-ant-oat01-test-a", anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{Percent: 24, ResetsAt: reset}, SevenDay: &anthropictest.UsageWindow{Percent: 61, ResetsAt: reset.Add(48 * time.Hour)}})
		l.fake.SetUsage("sk-ant-oat01-test-b", anthropictest.Usage{FiveHour: &anthropictest.UsageWindow{}, SevenDay: &anthropictest.UsageWindow{Percent: 3, ResetsAt: reset.Add(96 * time.Hour)}})
	})
	var out string
	wait.For(t, "the quota in the table", func() bool {
		var err error
		out, _, err = run(t, "--config", l.cfg, "accounts")
		return err == nil && strings.Contains(out, "61%") && strings.Contains(out, "3% · resets in")
	})
	for _, want := range []string{"24% · resets in 2 h 10 min", "61% · resets in 2 days", "0%  ", "login expires in 3 days"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if got := l.fake.Received(); len(got) != 0 {
		t.Errorf("the fake got %d messages, want none", len(got))
	}
	list, _, err := run(t, "--config", l.cfg, "accounts", "list")
	if err != nil || list != out {
		t.Errorf("accounts list = %q, %v; want the same table as accounts", list, err)
	}
}

func TestAccountsAdd(t *testing.T) {
	for _, running := range []bool{true, false} {
		t.Run(fmt.Sprintf("daemon running %v", running), func(t *testing.T) {
			var home, cfg string
			if running {
				l := startLive(t, "", nil)
				home, cfg = l.home, l.cfg
			} else {
				home = t.TempDir()
				t.Setenv("HOME", home)
				cfg, _ = usageSetup(t, "127.0.0.1:1")
			}
			os.MkdirAll(filepath.Join(home, ".claude-empty"), 0o700)
			_, _, err := run(t, "--config", cfg, "accounts", "add", "empty")
			if err == nil || !strings.Contains(err.Error(), "~/.claude-empty holds no Claude Code login") || !strings.Contains(err.Error(), "maxrouter accounts login empty --dir ~/.claude-empty") {
				t.Errorf("add without credentials = %v, want it refused, saying how to log in", err)
			}
			dir := filepath.Join(home, "logins", "side")
			os.MkdirAll(dir, 0o700)
			os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(`{"claudeAiOauth":{"accessToken":"sk-ant-oat01-test-side","refreshToken":"r","subscriptionType":"pro"}}`), 0o600)
			out, errOut, err := run(t, "--config", cfg, "accounts", "add", "side", "--dir", dir)
			if err != nil || out != "Added account side (~/logins/side, Pro).\n" {
				t.Errorf("add = %q, %v (stderr %q)", out, err, errOut)
			}
			saved, err := config.Load(cfg)
			if err != nil || len(saved.Accounts) != 1 || saved.Accounts[0] != (config.Account{Name: "side", Dir: "~/logins/side"}) {
				t.Errorf("saved accounts = %+v, %v", saved.Accounts, err)
			}
			if _, _, err := run(t, "--config", cfg, "accounts", "add", "again", "--dir", dir); err == nil || !strings.Contains(err.Error(), `is account "side" already`) {
				t.Errorf("adding the folder twice = %v, want it refused", err)
			}
			table, _, _ := run(t, "--config", cfg, "accounts", "list")
			if !strings.Contains(table, "side") {
				t.Errorf("table lacks the account:\n%s", table)
			}
		})
	}
}

// A login the daemon gave up on after its 10 minutes exits with status 2.
func TestAccountsLoginExpires(t *testing.T) {
	b := &controltest.Backend{StatusValue: control.Status{Version: "1.2.3"}, Now: func() time.Time { return usageNow.Add(-10 * time.Minute) }}
	cfg := startDaemon(t, b)
	type result struct {
		out, errOut string
		err         error
	}
	done := make(chan result, 1)
	go func() {
		out, errOut, err := run(t, "--config", cfg, "accounts", "login", "work", "--no-browser")
		done <- result{out, errOut, err}
	}()
	wait.For(t, "the login to start", func() bool {
		b.Lock()
		defer b.Unlock()
		return len(b.LoginStarts) == 1
	})
	b.FinishLogin("login-1", control.Login{Status: control.LoginFailed, Reason: "the login was not finished within 10m0s: start it again"})
	r := <-done
	var ex exitError
	if !errors.As(r.err, &ex) || ex != loginExpired {
		t.Errorf("exit = %v, want status 2", r.err)
	}
	if !strings.Contains(r.errOut, "Login failed: the login was not finished within 10m0s") {
		t.Errorf("stderr = %q, want the reason", r.errOut)
	}
}
