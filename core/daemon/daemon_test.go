package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/proxy"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/wait"
)

func tok(name string) string { return "sk-ant-oat01-test-" + name }

// writeCreds writes a Claude Code credentials file (nested layout).
func writeCreds(t *testing.T, dir, access, refresh string, expires time.Time) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"claudeAiOauth":{"accessToken":%q,"refreshToken":%q,"expiresAt":%d,"scopes":["user:inference"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x"},"mcpOAuth":{"srv":{"token":"keep-me"}}}`,
		access, refresh, expires.UnixMilli())
	if err := os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

type harness struct {
	d      *Daemon
	home   string
	cfg    string
	fake   *anthropictest.Fake
	up     *httptest.Server
	client *control.Client
	base   string
	cancel func()
	done   chan error
	log    io.Writer     // where the daemon logs; set by prepare, nil discards
	grace  time.Duration // Options.ShutdownGrace; set by prepare
	hc     *http.Client  // Options.HTTPClient (token refreshes); set by prepare
}

// start runs a daemon over a temporary home; prepare may write files first.
func start(t *testing.T, prepare func(h *harness)) *harness {
	t.Helper()
	h := &harness{home: t.TempDir()}
	h.cfg = filepath.Join(h.home, ".config", "maxrouter", "config.toml")
	h.fake, h.up = anthropictest.New(t)
	if prepare != nil {
		prepare(h)
	}
	env := map[string]string{"UPSTREAM_BASE_URL": h.up.URL}
	logTo := h.log
	if logTo == nil {
		logTo = io.Discard
	}
	var err error
	h.d, err = New(Options{
		ConfigPath: h.cfg, Home: h.home, Version: "test",
		Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.NewTextHandler(logTo, nil)),
		Listen: "127.0.0.1:0", ShutdownGrace: h.grace, HTTPClient: h.hc,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := h.d.Listen(); err != nil {
		t.Fatal(err)
	}
	h.base = "http://" + h.d.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-h.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	secret, err := os.ReadFile(filepath.Join(filepath.Dir(h.cfg), "control.secret"))
	if err != nil {
		t.Fatal(err)
	}
	h.client = control.NewClient(h.base, strings.TrimSpace(string(secret)))
	return h
}

func (h *harness) issue(t *testing.T) string {
	t.Helper()
	is, err := h.client.IssueToken(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return is.Secret
}

func (h *harness) post(t *testing.T, secret, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", h.base+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

const body = `{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`

func TestFirstRun(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "sk-ant-ort01-test-main", time.Now().Add(8*time.Hour))
		writeCreds(t, filepath.Join(h.home, ".claude-work"), tok("work"), "sk-ant-ort01-test-work", time.Now().Add(8*time.Hour))
		os.MkdirAll(filepath.Join(h.home, ".claude-empty"), 0o700) // no login: not an account
	})
	if !h.d.Created() {
		t.Error("Created() = false on first run")
	}
	cfg, err := config.Load(h.cfg)
	if err != nil {
		t.Fatalf("created config does not load: %v", err)
	}
	var names []string
	for _, a := range cfg.Accounts {
		names = append(names, a.Name+"="+a.Dir)
	}
	if got, want := strings.Join(names, " "), "default=~/.claude work=~/.claude-work"; got != want {
		t.Errorf("accounts = %q, want %q", got, want)
	}
	var out bytes.Buffer
	h.d.Summary(&out)
	for _, want := range []string{h.base, "default", "work", "available", "export ANTHROPIC_BASE_URL=" + h.base, "ANTHROPIC_AUTH_TOKEN=$(maxrouter tokens issue"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "sk-ant-") {
		t.Errorf("summary shows a token:\n%s", out.String())
	}
	secret := h.issue(t)
	for range 2 {
		if resp := h.post(t, secret, body); resp.StatusCode != 200 {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	}
	if got, want := fmt.Sprint(h.fake.Tokens()), fmt.Sprint([]string{tok("main"), tok("work")}); got != want {
		t.Errorf("upstream tokens = %v, want %v (round-robin)", got, want)
	}
}

func TestPublicEndpoints(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	for _, c := range []struct {
		method, path, auth string
		want               int
	}{
		{"HEAD", "/", "", 200},
		{"GET", "/health", "", 200},
		{"GET", "/v1/accounts", "", 401},
		{"GET", "/metrics", "", 401},
		{"GET", "/v1/accounts", "client", 200},
		{"GET", "/metrics", "secret", 200},
		{"GET", "/control/v1/accounts", "", 401},
	} {
		req, _ := http.NewRequest(c.method, h.base+c.path, nil)
		switch c.auth {
		case "client":
			req.Header.Set("Authorization", "Bearer "+h.issue(t))
		case "secret":
			sec, _ := os.ReadFile(filepath.Join(filepath.Dir(h.cfg), "control.secret"))
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(sec)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s (%s) = %d, want %d: %s", c.method, c.path, c.auth, resp.StatusCode, c.want, b)
		}
		if strings.Contains(string(b), tok("main")) {
			t.Errorf("%s %s leaks the account token", c.method, c.path)
		}
	}
}

func TestBrokenAccountsDoNotStopTheOthers(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude-good"), tok("good"), "r", time.Now().Add(time.Hour))
		os.MkdirAll(filepath.Join(h.home, ".claude-corrupt"), 0o700)
		os.WriteFile(filepath.Join(h.home, ".claude-corrupt", ".credentials.json"), []byte(`{"claudeAiOauth": {`), 0o600)
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		os.WriteFile(h.cfg, []byte(`strategy = "priority"
[[account]]
name = "missing"
dir = "~/.claude-missing"
[[account]]
name = "corrupt"
dir = "~/.claude-corrupt"
[[account]]
name = "good"
dir = "~/.claude-good"
`), 0o600)
	})
	accts, err := h.client.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]control.Account{}
	for _, a := range accts {
		states[a.Name] = a
	}
	if a := states["missing"]; a.State != control.StateError || a.Reason == "" {
		t.Errorf("missing = %+v, want error with a reason", a)
	}
	if a := states["corrupt"]; a.State != control.StateError || !strings.Contains(a.Reason, ".credentials.json") {
		t.Errorf("corrupt = %+v, want error naming the file", a)
	}
	if a := states["good"]; a.State != control.StateAvailable {
		t.Errorf("good = %+v, want available", a)
	}
	if resp := h.post(t, h.issue(t), body); resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 from good", resp.StatusCode)
	}
	// The corrupt file was not touched.
	if b, _ := os.ReadFile(filepath.Join(h.home, ".claude-corrupt", ".credentials.json")); string(b) != `{"claudeAiOauth": {` {
		t.Errorf("corrupt credentials rewritten: %q", b)
	}
	// Logging in later (the file appears fixed) brings it back without a restart.
	writeCreds(t, filepath.Join(h.home, ".claude-corrupt"), tok("corrupt"), "r", time.Now().Add(time.Hour))
	wait.For(t, "corrupt account to recover", func() bool {
		a, _ := h.client.Accounts(context.Background())
		return len(a) == 3 && a[1].State == control.StateAvailable
	})
}

func TestCredentialRewriteIsPickedUp(t *testing.T) {
	dir := ""
	h := start(t, func(h *harness) {
		dir = filepath.Join(h.home, ".claude")
		writeCreds(t, dir, tok("old"), "r", time.Now().Add(time.Hour))
	})
	secret := h.issue(t)
	h.post(t, secret, body)
	// Claude Code refreshes the token and replaces the file.
	tmp := filepath.Join(dir, "new")
	writeCreds(t, tmp, tok("new"), "r2", time.Now().Add(8*time.Hour))
	os.Rename(filepath.Join(tmp, ".credentials.json"), filepath.Join(dir, ".credentials.json"))
	wait.For(t, "the new token to be used", func() bool {
		h.post(t, secret, body)
		toks := h.fake.Tokens()
		return toks[len(toks)-1] == tok("new")
	})
}

func TestRefreshWritesBackThroughDaemon(t *testing.T) {
	var mu sync.Mutex
	var got []string
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]string
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		got = append(got, req["refresh_token"])
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok("fresh"), "refresh_token": "sk-ant-ort01-test-next", "expires_in": 28800})
	}))
	t.Cleanup(tokenSrv.Close)
	dir := ""
	h := start(t, func(h *harness) {
		dir = filepath.Join(h.home, ".claude")
		writeCreds(t, dir, tok("stale"), "sk-ant-ort01-test-first", time.Now().Add(time.Minute)) // inside refresh_before
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		os.WriteFile(h.cfg, []byte(fmt.Sprintf("token_url = %q\n[[account]]\nname = \"main\"\ndir = \"~/.claude\"\n", tokenSrv.URL)), 0o600)
	})
	secret := h.issue(t)
	// The token is due: the daemon refreshes it in the background at
	// start, and a request meanwhile uses the still-valid one (a request
	// never waits for a refresh it can do without).
	if resp := h.post(t, secret, body); resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if toks := h.fake.Tokens(); toks[0] != tok("stale") && toks[0] != tok("fresh") {
		t.Errorf("first upstream token = %q, want the still-valid one or the refreshed one", toks[0])
	}
	wait.For(t, "the background refresh", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	wait.For(t, "the refreshed token to be used", func() bool {
		h.post(t, secret, body)
		toks := h.fake.Tokens()
		return toks[len(toks)-1] == tok("fresh")
	})
	mu.Lock()
	if len(got) != 1 || got[0] != "sk-ant-ort01-test-first" {
		t.Errorf("token endpoint got %v, want one refresh with the file's refresh token", got)
	}
	mu.Unlock()
	sec, _ := os.ReadFile(filepath.Join(filepath.Dir(h.cfg), "control.secret"))
	req, _ := http.NewRequest("GET", h.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(sec)))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(m), `maxrouter_token_refreshes_total{account="main"} 1`) {
			t.Errorf("metrics do not count the refresh:\n%s", m)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".credentials.json"))
	for _, want := range []string{tok("fresh"), "sk-ant-ort01-test-next", "keep-me", "default_claude_max_20x"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("credentials file lacks %q after refresh: %s", want, b)
		}
	}
}

func TestPutConfig(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("a"), "r", time.Now().Add(time.Hour))
		writeCreds(t, filepath.Join(h.home, ".claude-b"), tok("b"), "r", time.Now().Add(time.Hour))
	})
	ctx := context.Background()
	cfg, rev, err := h.client.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(h.cfg)
	bad := cfg
	bad.Strategy = "fastest"
	_, err = h.client.PutConfig(ctx, bad, rev)
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "strategy" {
		t.Fatalf("PutConfig(bad strategy) = %v, want a validation error on strategy", err)
	}
	if after, _ := os.ReadFile(h.cfg); !bytes.Equal(before, after) {
		t.Error("invalid config was saved")
	}
	good := cfg
	good.Strategy = "priority"
	good.Accounts = append([]config.Account(nil), cfg.Accounts...)
	good.Accounts[0], good.Accounts[1] = good.Accounts[1], good.Accounts[0] // b first
	if _, err := h.client.PutConfig(ctx, good, rev); err != nil {
		t.Fatalf("PutConfig: %v", err)
	}
	if got := h.d.pool.Strategy(); got != "priority" {
		t.Errorf("strategy = %q, want priority", got)
	}
	saved, err := config.Load(h.cfg)
	if err != nil || saved.Strategy != "priority" || saved.Accounts[0].Name != "b" {
		t.Errorf("saved = %+v, %v", saved, err)
	}
	secret := h.issue(t)
	h.post(t, secret, body)
	h.post(t, secret, body)
	if got := h.fake.Tokens(); got[0] != tok("b") || got[1] != tok("b") {
		t.Errorf("upstream tokens = %v, want b first (priority)", got)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestListenChange(t *testing.T) {
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.toml")
	first := freePort(t)
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("listen = %q\n", first)), 0o600)
	d, err := New(Options{ConfigPath: cfgPath, Home: home, Getenv: func(string) string { return "" }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	wait.For(t, "the daemon to listen", func() bool { return d.Addr() != "" })
	sec, _ := os.ReadFile(filepath.Join(home, "control.secret"))
	c := control.NewClient("http://"+first, strings.TrimSpace(string(sec)))
	cfg, rev, err := c.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfgPath)
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	cfg.Listen = busy.Addr().String()
	_, err = c.PutConfig(context.Background(), cfg, rev)
	var ve *config.ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Field != "listen" || !strings.Contains(ve.Fields[0].Message, "in use") {
		t.Errorf("PutConfig(busy port) = %v, want listen error saying the port is in use", err)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Error("config saved although the port was busy")
	}
	// A free port: the daemon moves there and keeps serving.
	second := freePort(t)
	cfg.Listen = second
	if _, err := c.PutConfig(context.Background(), cfg, rev); err != nil {
		t.Fatalf("PutConfig(free port): %v", err)
	}
	resp, err := http.Get("http://" + second + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health on the new port: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := http.Get("http://" + first + "/health"); err == nil {
		t.Error("old port still accepts connections")
	}
}

func TestCooldownEventsOverControlAPI(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("a"), "r", time.Now().Add(time.Hour))
		writeCreds(t, filepath.Join(h.home, ".claude-b"), tok("b"), "r", time.Now().Add(time.Hour))
	})
	reset := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	h.fake.On(tok("a"), anthropictest.RateLimited(reset), anthropictest.OK)
	next := h.follow(t)
	if resp := h.post(t, h.issue(t), body); resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 via b", resp.StatusCode)
	}
	e := next()
	if e.Type != event.CooldownStarted || e.Account != "default" || e.Until == nil || !e.Until.Equal(reset) || e.Window != "five_hour" {
		t.Fatalf("event = %+v, want cooldown_started for default until the reset", e)
	}
	e = next()
	if e.Type != event.CooldownEnded || e.Account != "default" {
		t.Fatalf("event = %+v, want cooldown_ended", e)
	}
	if late := e.At.Sub(reset); late < 0 || late > time.Second {
		t.Errorf("cooldown_ended %v after the reset, want within a second", late)
	}
}

func TestPortInUse(t *testing.T) {
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	home := t.TempDir()
	cfg := filepath.Join(home, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("listen = %q\n", busy.Addr().String())), 0o600)
	d, err := New(Options{ConfigPath: cfg, Home: home, Getenv: func(string) string { return "" }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Listen()
	if err == nil || !strings.Contains(err.Error(), "port is in use") || !strings.Contains(err.Error(), cfg) {
		t.Errorf("Listen on a busy port = %v, want an error saying so and naming the config", err)
	}
}

// TestSecondDaemonOverOneDataDir: a second daemon over the same data
// directory (here: the same config with another --listen) would overwrite
// the first one's client tokens and usage history. It refuses to start,
// says why, and the first keeps serving.
func TestSecondDaemonOverOneDataDir(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	second := func() (*Daemon, error) {
		d, err := New(Options{ConfigPath: h.cfg, Home: h.home, Getenv: func(string) string { return "" }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.pool.Close)
		return d, d.Listen()
	}
	d2, err := second()
	dataDir := filepath.Dir(h.cfg)
	if err == nil || !strings.Contains(err.Error(), "another MaxRouter daemon") || !strings.Contains(err.Error(), dataDir) || !strings.Contains(err.Error(), "data_dir") {
		t.Fatalf("Listen of a second daemon = %v, want an error naming the data directory %s and the data_dir key", err, dataDir)
	}
	if d2.Addr() != "" {
		t.Errorf("the refused daemon listens on %s", d2.Addr())
	}
	if resp, _ := h.send(t, "GET", "/health", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("first daemon: /health = %d after the second was refused", resp.StatusCode)
	}

	// Once the first has stopped, the directory is free again.
	h.stop(t)
	d3, err := second()
	if err != nil {
		t.Fatalf("Listen after the first daemon stopped: %v", err)
	}
	d3.ln.Close()
	d3.releaseLocked()
}

func TestMalformedConfigIsNotTouched(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, "config.toml")
	bad := "listen = \"127.0.0.1:8787\"\nstratgy = \"priority\"\n"
	os.WriteFile(cfg, []byte(bad), 0o600)
	_, err := New(Options{ConfigPath: cfg, Home: home, Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "stratgy") || !strings.Contains(err.Error(), ":2") {
		t.Errorf("New = %v, want an error naming the key and line 2", err)
	}
	if b, _ := os.ReadFile(cfg); string(b) != bad {
		t.Errorf("malformed config rewritten: %q", b)
	}
}

// send makes a request to the daemon with an optional bearer token and
// returns the answer with its body read.
func (h *harness) send(t *testing.T, method, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp, data
}

// follow subscribes to the daemon's event stream through the control API
// and returns a function giving the next event (failing after 6s). It
// returns once the stream is known to be connected.
func (h *harness) follow(t *testing.T) func() event.Event {
	t.Helper()
	return h.followAfter(t, h.d.bus.LastID())
}

// followAll is follow from the daemon's first event on.
func (h *harness) followAll(t *testing.T) func() event.Event {
	t.Helper()
	last := h.d.bus.LastID()
	return h.followAfter(t, last[:strings.LastIndexByte(last, '-')]+"-0")
}

// followAfter is follow from the event after the one with ID after.
func (h *harness) followAfter(t *testing.T, after string) func() event.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events := make(chan event.Event, 64)
	// Resuming after an event: whatever is published after it arrives,
	// however long the stream takes to connect.
	n, _ := h.d.bus.Subscribers()
	go h.client.Events(ctx, after, func(e event.Event) { events <- e })
	// Wait for the stream to be open: a test may stop the daemon next.
	deadline := time.After(6 * time.Second)
	for {
		got, changed := h.d.bus.Subscribers()
		if got > n {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("the event stream did not open within 6s")
		}
	}
	return func() event.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(6 * time.Second):
			t.Fatal("no event within 6s")
			return event.Event{}
		}
	}
}

func TestPauseRouting(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	ctx := context.Background()
	client := h.issue(t)
	sec, _ := os.ReadFile(filepath.Join(filepath.Dir(h.cfg), "control.secret"))
	secret := strings.TrimSpace(string(sec))
	next := h.follow(t)
	paused := func() bool {
		t.Helper()
		st, err := h.client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Paused
	}

	if resp, data := h.send(t, "POST", "/v1/messages", client, body); resp.StatusCode != 200 {
		t.Fatalf("before pausing: status = %d, want 200: %s", resp.StatusCode, data)
	}
	if paused() {
		t.Fatal("Status.Paused = true before pausing")
	}
	before := time.Now()
	if err := h.client.Pause(ctx); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	if e := next(); e.Type != event.Paused || e.Account != "" || e.At.Before(before) {
		t.Errorf("event = %+v, want paused at or after %v", e, before)
	}
	if !paused() {
		t.Error("Status.Paused = false after Pause")
	}
	if err := h.client.Pause(ctx); err != nil {
		t.Fatalf("second Pause: %v", err)
	}

	t.Run("proxied requests refused", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/v1/messages", body},
			{"POST", "/v1/messages/count_tokens", body},
			{"GET", "/v1/files", ""},       // (GET /v1/models without anthropic-version is OpenAI's: TestClientSurface)
			{"POST", "/v1/accounts", body}, // only GET is the read-only endpoint
		} {
			resp, data := h.send(t, c.method, c.path, client, c.body)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s %s = %d, want 503: %s", c.method, c.path, resp.StatusCode, data)
				continue
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("%s %s: Content-Type = %q, want application/json", c.method, c.path, got)
			}
			if got := resp.Header.Get(proxy.ShouldRetryHeader); got != "false" {
				t.Errorf("%s %s: %s = %q, want false (clients would retry for minutes)", c.method, c.path, proxy.ShouldRetryHeader, got)
			}
			var eb control.ErrorBody
			if err := json.Unmarshal(data, &eb); err != nil {
				t.Fatalf("%s %s: answer %q is not JSON: %v", c.method, c.path, data, err)
			}
			want := control.ErrorBody{Type: "error", Error: control.ErrorDetail{Type: "api_error", Message: "MaxRouter is paused: choose Resume routing in the tray menu, or restart the daemon"}}
			if eb.Type != want.Type || eb.Error != want.Error {
				t.Errorf("%s %s: answer %+v, want %+v", c.method, c.path, eb, want)
			}
		}
		if got := len(h.fake.Received()); got != 1 {
			t.Errorf("upstream received %d requests, want only the one sent before pausing", got)
		}
	})
	t.Run("unauthenticated requests still refused as such", func(t *testing.T) {
		for _, auth := range []string{"", "la_sk_wrong"} {
			if resp, data := h.send(t, "POST", "/v1/messages", auth, body); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("token %q: status = %d, want 401: %s", auth, resp.StatusCode, data)
			}
		}
	})
	t.Run("other endpoints answer", func(t *testing.T) {
		for _, c := range []struct{ method, path, auth string }{
			{"HEAD", "/", ""},
			{"GET", "/health", ""},
			{"GET", "/v1/accounts", client},
			{"GET", "/metrics", secret},
			{"GET", "/control/v1/accounts", secret},
		} {
			if resp, data := h.send(t, c.method, c.path, c.auth, ""); resp.StatusCode != 200 {
				t.Errorf("%s %s = %d, want 200: %s", c.method, c.path, resp.StatusCode, data)
			}
		}
		_, data := h.send(t, "GET", "/health", "", "")
		var health struct {
			Paused bool `json:"paused"`
		}
		if err := json.Unmarshal(data, &health); err != nil || !health.Paused {
			t.Errorf("health = %s (%v), want paused true", data, err)
		}
		// The four refusals above are counted, and the state is a gauge.
		_, data = h.send(t, "GET", "/metrics", secret, "")
		for _, want := range []string{"maxrouter_router_errors_total{status=\"503\"} 4\n", "maxrouter_paused 1\n"} {
			if !strings.Contains(string(data), want) {
				t.Errorf("metrics lack %q:\n%s", want, data)
			}
		}
	})

	if err := h.client.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	// The second Pause published nothing: the next event is the resume.
	if e := next(); e.Type != event.Resumed {
		t.Errorf("event = %+v, want resumed (and no second paused)", e)
	}
	if paused() {
		t.Error("Status.Paused = true after Resume")
	}
	if err := h.client.Resume(ctx); err != nil {
		t.Fatalf("second Resume: %v", err)
	}
	if resp, data := h.send(t, "POST", "/v1/messages", client, body); resp.StatusCode != 200 {
		t.Fatalf("after resuming: status = %d, want 200: %s", resp.StatusCode, data)
	}
	if _, data := h.send(t, "GET", "/metrics", secret, ""); !strings.Contains(string(data), "maxrouter_paused 0\n") {
		t.Errorf("metrics after Resume lack maxrouter_paused 0:\n%s", data)
	}
	if got := len(h.fake.Received()); got != 2 {
		t.Errorf("upstream received %d requests, want 2 (forwarded again after resuming)", got)
	}
	// The second Resume published nothing either.
	h.d.bus.Publish(event.Event{Type: event.Refreshed, Account: "marker"})
	if e := next(); e.Account != "marker" {
		t.Errorf("event = %+v, want the marker (a repeated resume published)", e)
	}
}

func TestPauseKeepsRequestsInFlight(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
		h.fake.On(tok("main"), func(w http.ResponseWriter, r *http.Request, b []byte) {
			close(arrived)
			<-release
			anthropictest.OK(w, r, b)
		}, anthropictest.OK)
	})
	client := h.issue(t)
	type answer struct {
		status int
		body   []byte
	}
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", h.base+"/v1/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			data = append(data, "\nread error: "+err.Error()...)
		}
		done <- answer{resp.StatusCode, data}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}
	if err := h.client.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, data := h.send(t, "POST", "/v1/messages", client, body); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("new request while paused: status = %d, want 503: %s", resp.StatusCode, data)
	}
	close(release)
	var a answer
	select {
	case a = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the request in flight did not finish")
	}
	if a.status != 200 || !strings.Contains(string(a.body), "Hello from the fake Anthropic.") {
		t.Errorf("request in flight when pausing = %d %s, want 200 with the whole message", a.status, a.body)
	}
	if got := len(h.fake.Received()); got != 1 {
		t.Errorf("upstream received %d requests, want 1", got)
	}
}

// TestTokenWrittenBesideTheDaemon plays `maxrouter tokens issue` and
// `revoke` writing the store itself while a daemon it could not reach runs
// (started with --listen elsewhere): the daemon takes both without a restart.
func TestTokenWrittenBesideTheDaemon(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	cli, err := token.Open(filepath.Join(filepath.Dir(h.cfg), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := cli.Issue("cli", 0)
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the daemon to accept the token the CLI wrote", func() bool {
		return h.post(t, secret, body).StatusCode == http.StatusOK
	})
	if err := cli.Revoke(info.ID); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the daemon to refuse the token the CLI revoked", func() bool {
		return h.post(t, secret, body).StatusCode == http.StatusForbidden
	})
}
