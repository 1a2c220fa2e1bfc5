package credential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	oldAccess    = "sk-ant-oat01-test-old"
	oldRefresh   = "sk-ant-ort01-test-old"
	testClientID = "test-client-id"
	lifetime     = 8 * time.Hour
)

// epoch is the fake clock's start.
func epoch() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }

// clock is a settable fake clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.Set(epoch())
	return c
}

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// logBuf collects log output so tests can check no token leaks into it.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// checkNoSecrets fails when a test token appears in the logs.
func (l *logBuf) checkNoSecrets(t *testing.T) {
	t.Helper()
	if s := l.String(); strings.Contains(s, "-test-") {
		t.Errorf("logs contain a token:\n%s", s)
	}
}

// nestedFile is a Claude Code credential file with keys the router does not
// own, indented the way Claude Code writes it.
func nestedFile(access, refresh string, expires time.Time) string {
	return fmt.Sprintf(`{
  "claudeAiOauth": {
    "accessToken": %q,
    "refreshToken": %q,
    "expiresAt": %d,
    "refreshTokenExpiresAt": 1790000000000,
    "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
    "subscriptionType": "max",
    "rateLimitTier": "default_claude_max_20x"
  },
  "mcpOAuth": {"server|abc": {"accessToken": "mcp-secret", "expiresAt": 1767225600000, "nested": [1, 2.50, null, true]}},
  "zzUnknown": {"b": 1, "a": "\u00e9"}
}
`, access, refresh, expires.UnixMilli())
}

// writeAtomic replaces path the way Claude Code does: a new file renamed
// over the old one.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".writing"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// credDir makes a directory holding .credentials.json with content.
func credDir(t *testing.T, content string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, ".credentials.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// endpoint is a fake OAuth token endpoint with single-use refresh tokens.
type endpoint struct {
	t     *testing.T
	srv   *httptest.Server
	calls atomic.Int32

	mu        sync.Mutex
	live      map[string]bool // refresh tokens it accepts, once each
	issued    int
	status    int    // when set, every request gets this status and body
	body      string // with status
	onRequest func() // called before answering
}

func newEndpoint(t *testing.T, live ...string) *endpoint {
	t.Helper()
	e := &endpoint{t: t, live: map[string]bool{}}
	for _, r := range live {
		e.live[r] = true
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/oauth/token" {
		e.t.Errorf("request %s %s, want POST /v1/oauth/token", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		e.t.Errorf("Content-Type = %q, want application/json", got)
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		e.t.Errorf("decoding request body: %v", err)
	}
	rt, _ := body["refresh_token"].(string)
	if len(body) != 3 || body["grant_type"] != "refresh_token" || body["client_id"] != testClientID || rt == "" {
		e.t.Errorf("request body = %v, want grant_type, refresh_token and client_id %q", body, testClientID)
	}

	e.mu.Lock()
	hook, status, errBody := e.onRequest, e.status, e.body
	e.mu.Unlock()
	if hook != nil {
		hook()
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprint(w, errBody)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.live[rt] {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Refresh token not found or invalid"}`)
		return
	}
	delete(e.live, rt)
	e.issued++
	newRefresh := fmt.Sprintf("sk-ant-ort01-test-new%d", e.issued)
	e.live[newRefresh] = true
	json.NewEncoder(w).Encode(map[string]any{
		"token_type":    "Bearer",
		"access_token":  fmt.Sprintf("sk-ant-oat01-test-new%d", e.issued),
		"refresh_token": newRefresh,
		"expires_in":    int(lifetime / time.Second),
		"scope":         "user:inference user:profile",
		"account":       map[string]string{"uuid": "u", "email_address": "a@example.com"},
	})
}

func (e *endpoint) fail(status int, body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status, e.body = status, body
}

// options returns Options pointing at the endpoint with the fake clock.
func (e *endpoint) options(c *clock, logs *logBuf) Options {
	return Options{
		TokenURL:   e.srv.URL + "/v1/oauth/token",
		ClientID:   testClientID,
		HTTPClient: e.srv.Client(),
		Now:        c.Now,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// decode parses JSON text into generic values.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
	return m
}

// msStr and secStr format t as Unix milliseconds and seconds.
func msStr(t time.Time) string  { return strconv.FormatInt(t.UnixMilli(), 10) }
func secStr(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
