package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/wait"
)

// fakeCred hands out tok; Refresh moves to refreshed (or fails with err).
type fakeCred struct {
	mu        sync.Mutex
	tok       string
	refreshed string
	err       error
	refreshes int
}

func (f *fakeCred) Token(context.Context) (credential.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return credential.Token{Access: f.tok}, nil
}

func (f *fakeCred) Peek() (credential.Token, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return credential.Token{Access: f.tok}, false, true
}

func (f *fakeCred) Refresh(_ context.Context, stale string) (credential.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tok != stale && f.err == nil {
		return credential.Token{Access: f.tok}, nil // refreshed already, as credential.Source does
	}
	f.refreshes++
	if f.err != nil {
		return credential.Token{}, f.err
	}
	f.tok = f.refreshed
	return credential.Token{Access: f.tok}, nil
}

func (f *fakeCred) Info() credential.Info { return credential.Info{} }

// count reports how many refreshes the credential made.
func (f *fakeCred) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

type env struct {
	fake    *anthropictest.Fake
	pool    *account.Pool
	proxy   *httptest.Server
	handler *Handler
	secret  string
	creds   map[string]*fakeCred
	tokens  *token.Store
}

func tok(name string) string { return "sk-ant-oat01-test-" + name }

func setup(t *testing.T, strategy string, names ...string) *env {
	t.Helper()
	fake, up := anthropictest.New(t)
	return setupWith(t, up.URL, nil, fake, strategy, names...)
}

func setupWith(t *testing.T, upstream string, rt http.RoundTripper, fake *anthropictest.Fake, strategy string, names ...string) *env {
	t.Helper()
	return newEnv(t, upstream, rt, fake, nil, strategy, names...)
}

// newEnv starts a proxy in front of upstream; with a recorder, the
// handler records usage into it.
func newEnv(t *testing.T, upstream string, rt http.RoundTripper, fake *anthropictest.Fake, rec *recorder, strategy string, names ...string) *env {
	t.Helper()
	pool, err := account.NewPool(account.Options{Strategy: strategy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e := &env{fake: fake, pool: pool, creds: map[string]*fakeCred{}}
	var accts []*account.Account
	for _, n := range names {
		c := &fakeCred{tok: tok(n), refreshed: tok(n + "-refreshed")}
		e.creds[n] = c
		accts = append(accts, account.New(n, "", c, nil))
	}
	pool.SetAccounts(accts)
	e.tokens, err = token.Open(filepath.Join(t.TempDir(), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.secret, _, err = e.tokens.Issue("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Pool: pool, Tokens: e.tokens, Upstream: upstream, Transport: rt, MaxBody: 1 << 20}
	if rec != nil {
		o.Usage = rec // never a nil *recorder: that would be a non-nil Usage
	}
	e.handler, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsOpenAI(r) {
			e.handler.ServeOpenAI(w, r)
			return
		}
		e.handler.ServeHTTP(w, r)
	})
	if rec != nil {
		h = rec.serving(h)
	}
	e.proxy = httptest.NewServer(h)
	t.Cleanup(e.proxy.Close)
	return e
}

const msgBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`

func (e *env) post(t *testing.T, path, body string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.proxy.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.secret)
	for i := 0; i < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func errorOf(t *testing.T, resp *http.Response) control.ErrorDetail {
	t.Helper()
	var body control.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Type != "error" {
		t.Fatalf("answer is not Anthropic's error shape: %v %+v", err, body)
	}
	return body.Error
}

func TestForwardsWithAccountToken(t *testing.T) {
	e := setup(t, "priority", "work")
	resp := e.post(t, "/v1/messages?beta=true", msgBody,
		"anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14",
		"User-Agent", "claude-cli/2.1.0 (external, cli)",
		"X-App", "cli",
		"X-Api-Key", e.secret,
		SessionHeader, "5b1c")
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	got := e.fake.Received()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(got))
	}
	r := got[0]
	checks := []struct{ name, got, want string }{
		{"path", r.Path, "/v1/messages"},
		{"query", r.RawQuery, "beta=true"},
		{"authorization", r.Header.Get("Authorization"), "Bearer " + tok("work")},
		{"x-api-key", r.Header.Get("X-Api-Key"), ""},
		{"anthropic-beta", r.Header.Get("Anthropic-Beta"), "claude-code-20250219,interleaved-thinking-2025-05-14," + OAuthBeta},
		{"anthropic-version", r.Header.Get("Anthropic-Version"), DefaultVersion},
		{"user-agent", r.Header.Get("User-Agent"), "claude-cli/2.1.0 (external, cli)"},
		{"x-app", r.Header.Get("X-App"), "cli"},
		{"session", r.Header.Get(SessionHeader), "5b1c"},
		{"body", string(r.Body), msgBody},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("upstream %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, v := range r.Header {
		for _, s := range v {
			if strings.Contains(s, e.secret) {
				t.Errorf("client token reached the upstream in %q", s)
			}
		}
	}
}

func TestMergeBeta(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, []string{OAuthBeta}},
		{[]string{""}, []string{OAuthBeta}},
		{[]string{"a-1"}, []string{"a-1," + OAuthBeta}},
		{[]string{"a-1", "b-2"}, []string{"a-1,b-2," + OAuthBeta}},
		{[]string{"a-1, " + OAuthBeta}, []string{"a-1, " + OAuthBeta}},
	}
	for _, tt := range tests {
		if got := mergeBeta(tt.in); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("mergeBeta(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKeepsClientVersionAndOtherPaths(t *testing.T) {
	e := setup(t, "priority", "work")
	for _, p := range []string{"/v1/messages/count_tokens", "/v1/models"} {
		var resp *http.Response
		if p == "/v1/models" {
			req, _ := http.NewRequest("GET", e.proxy.URL+p, nil)
			req.Header.Set("x-api-key", e.secret)
			req.Header.Set("anthropic-version", "2025-01-01")
			var err error
			if resp, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		} else {
			resp = e.post(t, p, msgBody, "anthropic-version", "2025-01-01")
		}
		if resp.StatusCode != 200 {
			t.Errorf("%s status = %d, want 200", p, resp.StatusCode)
		}
	}
	for _, r := range e.fake.Received() {
		if v := r.Header.Get("Anthropic-Version"); v != "2025-01-01" {
			t.Errorf("%s anthropic-version = %q, want the client's", r.Path, v)
		}
	}
}

func TestFailover(t *testing.T) {
	tests := []struct {
		name      string
		reply     anthropictest.Reply
		wantState string
	}{
		{"429 with limit headers", anthropictest.RateLimited(time.Now().Add(2 * time.Hour)), control.StateCooling},
		{"bare 429", anthropictest.Throttled, control.StateCooling},
		{"529", anthropictest.Overloaded, control.StateCooling},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, "priority", "a", "b")
			e.fake.On(tok("a"), tt.reply)
			resp := e.post(t, "/v1/messages", msgBody)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200 from b: %s", resp.StatusCode, readAll(t, resp.Body))
			}
			if got, want := fmt.Sprint(e.fake.Tokens()), fmt.Sprint([]string{tok("a"), tok("b")}); got != want {
				t.Errorf("upstream tokens = %v, want %v", got, want)
			}
			bodies := e.fake.Received()
			if string(bodies[1].Body) != msgBody {
				t.Errorf("replayed body = %q, want %q", bodies[1].Body, msgBody)
			}
			if s := e.pool.Snapshots()[0]; s.State != tt.wantState {
				t.Errorf("a state = %s, want %s", s.State, tt.wantState)
			}
			if e.handler.Metrics().Failovers() != 1 {
				t.Errorf("failovers = %d, want 1", e.handler.Metrics().Failovers())
			}
		})
	}
}

func TestAllCoolingAnswers429WithRetryAfter(t *testing.T) {
	e := setup(t, "round-robin", "a", "b")
	now := time.Now()
	e.fake.On(tok("a"), anthropictest.RateLimited(now.Add(2*time.Hour)))
	e.fake.On(tok("b"), anthropictest.RateLimited(now.Add(30*time.Minute)))
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 429 {
		t.Fatalf("status = %d, want 429", resp.StatusCode)
	}
	ra := resp.Header.Get("Retry-After")
	var secs int
	fmt.Sscan(ra, &secs)
	// b's reset is a whole second in the headers; allow the test's own time.
	if secs < 30*60-5 || secs > 30*60+1 {
		t.Errorf("retry-after = %q, want about 1800 (b's reset)", ra)
	}
	if d := errorOf(t, resp); d.Type != "rate_limit_error" || !strings.Contains(d.Message, "b is back at "+now.Add(30*time.Minute).Format("15:04")) {
		t.Errorf("error = %+v, want rate_limit_error naming b", d)
	}
	if got := resp.Header.Get(ShouldRetryHeader); got != "false" {
		t.Errorf("%s = %q, want false: SDK retries cannot outlast a 30-minute wait", ShouldRetryHeader, got)
	}
	// A new request does not even reach the upstream.
	n := len(e.fake.Received())
	if resp := e.post(t, "/v1/messages", msgBody); resp.StatusCode != 429 {
		t.Errorf("second status = %d, want 429", resp.StatusCode)
	}
	if len(e.fake.Received()) != n {
		t.Errorf("upstream reached while every account cools")
	}
}

func TestAllCoolingBrieflyLetsTheClientRetry(t *testing.T) {
	e := setup(t, "round-robin", "a")
	e.fake.On(tok("a"), anthropictest.RateLimited(time.Now().Add(20*time.Second)))
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 429 {
		t.Fatalf("status = %d, want 429", resp.StatusCode)
	}
	if got := resp.Header.Get(ShouldRetryHeader); got != "" {
		t.Errorf("%s = %q, want none: the account is back within the SDK's wait", ShouldRetryHeader, got)
	}
}

func TestUnauthorizedRefreshesThenRetries(t *testing.T) {
	e := setup(t, "priority", "a")
	e.fake.On(tok("a"), anthropictest.Unauthorized)
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got, want := fmt.Sprint(e.fake.Tokens()), fmt.Sprint([]string{tok("a"), tok("a-refreshed")}); got != want {
		t.Errorf("upstream tokens = %v, want %v (the only account, refreshed)", got, want)
	}
	if got := e.creds["a"].count(); got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
}

// A rejected token is refreshed in the background while another account
// answers: the request does not wait for the token endpoint.
func TestUnauthorizedMovesOnWhileRefreshing(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.fake.On(tok("a"), anthropictest.Unauthorized)
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got, want := fmt.Sprint(e.fake.Tokens()), fmt.Sprint([]string{tok("a"), tok("b")}); got != want {
		t.Errorf("upstream tokens = %v, want %v (b while a refreshes)", got, want)
	}
	wait.For(t, "a's refresh", func() bool { return e.creds["a"].count() == 1 })
	e.post(t, "/v1/messages", msgBody)
	if toks := e.fake.Tokens(); toks[len(toks)-1] != tok("a-refreshed") {
		t.Errorf("next request went with %q, want a's refreshed token (priority)", toks[len(toks)-1])
	}
}

func TestDeadLoginMovesOn(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.fake.On(tok("a"), anthropictest.Unauthorized)
	e.creds["a"].err = fmt.Errorf("refresh token rejected (invalid_grant): %w", credential.ErrNeedsLogin)
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 from b", resp.StatusCode)
	}
	wait.For(t, "a to need a login", func() bool { return e.pool.Snapshots()[0].State == control.StateNeedsLogin })
	if s := e.pool.Snapshots()[0]; !strings.Contains(s.Reason, "invalid_grant") {
		t.Errorf("a = %+v, want needs_login with the reason", s)
	}
	// Every account dead: 503 that says why.
	e.fake.On(tok("b"), anthropictest.Unauthorized)
	e.creds["b"].err = e.creds["a"].err
	resp = e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 503 {
		t.Fatalf("status = %d, want 503", resp.StatusCode)
	}
	if d := errorOf(t, resp); !strings.Contains(d.Message, "a: needs a new token") || !strings.Contains(d.Message, "b: needs a new token") {
		t.Errorf("message = %q, want it to say accounts need a login", d.Message)
	}
	if got := resp.Header.Get(ShouldRetryHeader); got != "false" {
		t.Errorf("%s = %q, want false: no account comes back by itself", ShouldRetryHeader, got)
	}
}

// failFor fails requests carrying one account's token as a dead connection would.
type failFor struct {
	token string
	base  http.RoundTripper
}

func (f failFor) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "Bearer "+f.token {
		return nil, errors.New("dial tcp: connection refused")
	}
	return f.base.RoundTrip(r)
}

func TestConnectionErrorTriesNextAccount(t *testing.T) {
	fake, up := anthropictest.New(t)
	e := setupWith(t, up.URL, failFor{tok("a"), NewTransport()}, fake, "priority", "a", "b")
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := e.fake.Tokens(); len(got) != 1 || got[0] != tok("b") {
		t.Errorf("upstream tokens = %v, want only b", got)
	}
}

func TestUpstreamUnreachable(t *testing.T) {
	e := setupWith(t, "http://127.0.0.1:1", nil, nil, "priority", "a")
	resp := e.post(t, "/v1/messages", msgBody)
	if resp.StatusCode != 502 {
		t.Fatalf("status = %d, want 502", resp.StatusCode)
	}
	if d := errorOf(t, resp); d.Type != "api_error" || !strings.Contains(d.Message, "upstream unreachable") {
		t.Errorf("error = %+v", d)
	}
}

func TestBadBodies(t *testing.T) {
	e := setup(t, "priority", "a")
	tests := []struct {
		name, body string
		status     int
		typ, msg   string
	}{
		{"too large", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "request_too_large", "max_body_mb"},
		{"not JSON", "hello there", 400, "invalid_request_error", "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(t, "/v1/messages", tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if d := errorOf(t, resp); d.Type != tt.typ || !strings.Contains(d.Message, tt.msg) {
				t.Errorf("error = %+v, want %s mentioning %q", d, tt.typ, tt.msg)
			}
		})
	}
	if n := len(e.fake.Received()); n != 0 {
		t.Errorf("upstream got %d requests, want none", n)
	}
}

func TestClientTokens(t *testing.T) {
	e := setup(t, "priority", "a")
	revoked, info, _ := e.tokens.Issue("old", 0)
	e.tokens.Revoke(info.ID)
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"missing", []string{"Authorization", ""}, 401},
		{"unknown bearer", []string{"Authorization", "Bearer la_sk_nope"}, 401},
		{"upstream key is not a client token", []string{"Authorization", "Bearer sk-ant-api03-nope"}, 401},
		{"revoked", []string{"Authorization", "Bearer " + revoked}, 403},
		{"x-api-key alone", []string{"Authorization", "", "X-Api-Key", e.secret}, 200},
		{"both, only x-api-key valid", []string{"Authorization", "Bearer la_sk_nope", "X-Api-Key", e.secret}, 200},
		{"both, only bearer valid", []string{"X-Api-Key", "la_sk_nope"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(t, "/v1/messages", msgBody, tt.hdr...)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				d := errorOf(t, resp)
				if strings.Contains(d.Message, "la_sk_nope") {
					t.Errorf("error echoes the token: %q", d.Message)
				}
			}
		})
	}
}

func TestStreamIsNotBuffered(t *testing.T) {
	e := setup(t, "priority", "a")
	e.fake.StreamDelay = 150 * time.Millisecond
	e.fake.Events = 4
	start := time.Now()
	resp := e.post(t, "/v1/messages", `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content-type = %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var first time.Duration
	events := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "event: ") {
			if events == 0 {
				first = time.Since(start)
			}
			events++
		}
	}
	total := time.Since(start)
	if events != 10 {
		t.Errorf("events = %d, want 10", events)
	}
	// The stream takes ~1.5s upstream; the first event must arrive long
	// before the end, not buffered to it.
	if first > total/2 {
		t.Errorf("first event after %v of %v: the stream was buffered", first, total)
	}
}

func TestMidStreamErrorPausesAccount(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.fake.On(tok("a"), anthropictest.MidStreamError("overloaded_error"))
	resp := e.post(t, "/v1/messages", `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(body, "event: error") {
		t.Fatalf("status %d, body %q: want the 200 stream with its error passed through", resp.StatusCode, body)
	}
	resp = e.post(t, "/v1/messages", msgBody)
	readAll(t, resp.Body)
	if got := e.fake.Tokens(); got[len(got)-1] != tok("b") {
		t.Errorf("after a mid-stream overload the next request went to %v, want b", got[len(got)-1])
	}
}

func TestSessionAffinityThroughProxy(t *testing.T) {
	e := setup(t, "round-robin", "a", "b", "c")
	e.pool.SetAffinity(true)
	for range 4 {
		readAll(t, e.post(t, "/v1/messages", msgBody, SessionHeader, "sess-1").Body)
	}
	toks := e.fake.Tokens()
	for _, tk := range toks {
		if tk != toks[0] {
			t.Fatalf("session moved between accounts: %v", toks)
		}
	}
}

func TestMetricsText(t *testing.T) {
	e := setup(t, "priority", "a", "b")
	e.fake.On(tok("a"), anthropictest.Overloaded)
	readAll(t, e.post(t, "/v1/messages", msgBody).Body)
	var sb strings.Builder
	e.handler.Metrics().WriteTo(&sb, e.pool.Snapshots())
	for _, want := range []string{
		`maxrouter_upstream_requests_total{account="a",status="529"} 1`,
		`maxrouter_upstream_requests_total{account="b",status="200"} 1`,
		`maxrouter_failovers_total 1`,
		`maxrouter_account_state{account="a",state="cooling"} 1`,
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, sb.String())
		}
	}
}

func TestFamily(t *testing.T) {
	for body, want := range map[string]string{
		`{"model":"claude-opus-4-5","messages":[]}`:      "opus",
		`{"max_tokens":1, "model" : "claude-3-5-haiku"}`: "haiku",
		`{"messages":[]}`: "",
		`{"model":42}`:    "",
	} {
		if got := family([]byte(body)); got != want {
			t.Errorf("family(%s) = %q, want %q", body, got, want)
		}
	}
}
