package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
)

const testSecret = "0123456789abcdef-test-secret"

// rawServer serves b with testSecret and returns the server's URL and the
// control.Server.
func rawServer(t *testing.T, b control.Backend) (*httptest.Server, *control.Server) {
	t.Helper()
	srv := control.NewServer(b, testSecret, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return hs, srv
}

// do sends a raw request and returns the answer, its body read.
func do(t *testing.T, method, url, host, auth, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// errorBody decodes an ErrorBody, failing when data is not one.
func errorBody(t *testing.T, data []byte) control.ErrorBody {
	t.Helper()
	var eb control.ErrorBody
	if err := json.Unmarshal(data, &eb); err != nil {
		t.Fatalf("answer %q is not JSON: %v", data, err)
	}
	if eb.Type != "error" || eb.Error.Type == "" || eb.Error.Message == "" {
		t.Fatalf("answer %s is not an ErrorBody", data)
	}
	return eb
}

func TestAuth(t *testing.T) {
	hs, _ := rawServer(t, &controltest.Backend{})
	good := "Bearer " + testSecret
	tests := []struct {
		name       string
		host, auth string
		wantStatus int
		wantType   string
	}{
		{"ok", "", good, 200, ""},
		{"ok localhost", "localhost:8787", good, 200, ""},
		{"lowercase scheme", "", "bearer " + testSecret, 200, ""},
		{"no secret", "", "", 401, "authentication_error"},
		{"wrong secret", "", "Bearer nope", 401, "authentication_error"},
		{"secret prefix", "", good[:len(good)-1], 401, "authentication_error"},
		{"basic scheme", "", "Basic " + testSecret, 401, "authentication_error"},
		{"bare secret", "", testSecret, 401, "authentication_error"},
		{"foreign host", "evil.example", good, 403, "permission_error"},
		{"foreign host checked first", "evil.example", "", 403, "permission_error"},
		{"rebinding host with port", "evil.example:8787", good, 403, "permission_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := do(t, "GET", hs.URL+"/control/v1/status", tt.host, tt.auth, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, data)
			}
			if tt.wantType == "" {
				return
			}
			if got := errorBody(t, data).Error.Type; got != tt.wantType {
				t.Errorf("error type = %q, want %q", got, tt.wantType)
			}
			if strings.Contains(string(data), testSecret) {
				t.Errorf("answer contains the secret")
			}
		})
	}
}

func TestClientWrongSecret(t *testing.T) {
	_, hs := controltest.NewServer(t, &controltest.Backend{})
	c := control.NewClient(hs.URL, "wrong")
	_, err := c.Status(context.Background())
	if !errors.Is(err, control.ErrUnauthorized) {
		t.Errorf("Status err = %v, want ErrUnauthorized", err)
	}
	err = c.Events(context.Background(), "", func(control.Event) {})
	if !errors.Is(err, control.ErrUnauthorized) {
		t.Errorf("Events err = %v, want ErrUnauthorized", err)
	}
	var ae *control.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Type != "authentication_error" {
		t.Errorf("Events err = %#v, want an *APIError 401 authentication_error", err)
	}
}

func TestRouting(t *testing.T) {
	hs, _ := rawServer(t, &controltest.Backend{})
	auth := "Bearer " + testSecret
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{"GET", "/control/v1/nope", 404, ""},
		{"GET", "/control/v1/", 404, ""},
		{"GET", "/control/v2/status", 404, ""},
		{"GET", "/control/v1/accounts/work/reset", 405, "POST"},
		{"POST", "/control/v1/status", 405, "GET, HEAD"},
		{"DELETE", "/control/v1/config", 405, "GET, HEAD, PUT"},
		{"DELETE", "/control/v1/tokens", 405, "GET, HEAD, POST"},
		{"GET", "/control/v1/tokens/x", 405, "DELETE, PATCH"},
		{"GET", "/control/v1/pause", 405, "POST"},
		{"PUT", "/control/v1/resume", 405, "POST"},
		{"POST", "/control/v1/usage", 405, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, data := do(t, tt.method, hs.URL+tt.path, "", auth, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, data)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			eb := errorBody(t, data)
			if !strings.Contains(eb.Error.Message, tt.path) {
				t.Errorf("message %q does not name the path", eb.Error.Message)
			}
		})
	}
}

func TestBadBodies(t *testing.T) {
	b := &controltest.Backend{}
	hs, _ := rawServer(t, b)
	auth := "Bearer " + testSecret
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantMsg                  string
	}{
		{"not json", "PUT", "/control/v1/config", "listen = 1", 400, "not valid JSON"},
		{"empty", "PUT", "/control/v1/config", "", 400, "empty"},
		{"wrong type", "PUT", "/control/v1/config", `{"listen": 5}`, 400, "listen"},
		{"unknown field", "PUT", "/control/v1/config", `{"lisen": "x"}`, 400, "lisen"},
		{"trailing data", "POST", "/control/v1/accounts/check", `{"dir":"/x"} {}`, 400, "after the JSON"},
		{"too large", "POST", "/control/v1/accounts/check", `{"dir":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "larger than"},
		{"check without dir", "POST", "/control/v1/accounts/check", `{}`, 400, "dir"},
		{"bad ttl", "POST", "/control/v1/tokens", `{"label":"x","ttl":"soon"}`, 400, "soon"},
		{"negative ttl", "POST", "/control/v1/tokens", `{"label":"x","ttl":"-1h"}`, 400, "-1h"},
		{"empty label", "POST", "/control/v1/tokens", `{"label":""}`, 400, "label"},
		{"bad window", "POST", "/control/v1/tokens", `{"label":"x","max_requests":5,"per":"5 hours"}`, 400, `"5 hours"`},
		{"count as text", "POST", "/control/v1/tokens", `{"label":"x","max_tokens":"2M"}`, 400, "max_tokens"},
		{"unknown limit", "PATCH", "/control/v1/tokens/tok-1", `{"max_request":5}`, 400, "max_request"},
		{"update not json", "PATCH", "/control/v1/tokens/tok-1", `max_requests=5`, 400, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := do(t, tt.method, hs.URL+tt.path, "", auth, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%.200s)", resp.StatusCode, tt.wantStatus, data)
			}
			eb := errorBody(t, data)
			if eb.Error.Type != "invalid_request_error" {
				t.Errorf("error type = %q, want invalid_request_error", eb.Error.Type)
			}
			if !strings.Contains(eb.Error.Message, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", eb.Error.Message, tt.wantMsg)
			}
		})
	}
	b.Lock()
	defer b.Unlock()
	if len(b.PutConfigs) != 0 || len(b.Checks) != 0 {
		t.Errorf("backend was called with bad bodies: PutConfigs %v, Checks %v", b.PutConfigs, b.Checks)
	}
	if got, want := b.Issues, []controltest.IssueCall{{Label: ""}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Issues = %+v, want %+v (only the empty label reaches the backend)", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEndpoints(t *testing.T) {
	until := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	started := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cfg := config.Default()
	cfg.Accounts = []config.Account{{Name: "work", Dir: "~/.claude"}, {Name: "personal", Token: "sk-ant-oat01-…", Enabled: ptr(false)}}
	b := &controltest.Backend{
		StatusValue: control.Status{Version: "1.2.3", Listen: "127.0.0.1:8787", PID: 42, StartedAt: started, Config: "config.toml"},
		AccountList: []control.Account{
			{Name: "work", Dir: "/home/u/.claude", State: control.StateCooling, CooldownUntil: &until, Reason: "5-hour limit",
				Requests: 7, FiveHour: control.Window{Utilization: 1.02, ResetsAt: &until}, Subscription: "max",
				ModelCooldowns: map[string]time.Time{"opus": until}},
			{Name: "a b/c", State: control.StateAvailable},
		},
		ConfigValue: cfg,
		DirChecks: map[string]control.DirCheck{
			"/home/u/.claude": {Dir: "/home/u/.claude", Found: true, File: ".credentials.json", CanRefresh: true},
		},
		Now: func() time.Time { return started },
	}
	c, _ := controltest.NewServer(t, b)
	ctx := context.Background()

	t.Run("status", func(t *testing.T) {
		got, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := b.StatusValue
		want.LastEventID = b.LastID()
		if got != want {
			t.Errorf("Status = %+v, want %+v", got, want)
		}
	})
	t.Run("accounts", func(t *testing.T) {
		got, err := c.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := b.Accounts(); !reflect.DeepEqual(got, want) {
			t.Errorf("Accounts = %+v, want %+v", got, want)
		}
	})
	t.Run("config", func(t *testing.T) {
		got, rev, err := c.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Errorf("Config = %+v, want %+v", got, cfg)
		}
		if _, want := b.Config(); rev != want {
			t.Errorf("Config revision = %q, want %q", rev, want)
		}
	})
	t.Run("put config", func(t *testing.T) {
		_, rev, err := c.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		next := cfg
		next.Strategy = "priority"
		next.Cooldown = config.Duration(90 * time.Second)
		newRev, err := c.PutConfig(ctx, next, rev)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.PutConfigs; len(got) != 1 || !reflect.DeepEqual(got[0], next) {
			t.Errorf("PutConfigs = %+v, want [%+v]", got, next)
		}
		got, gotRev, err := c.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, next) {
			t.Errorf("Config after put = %+v, want %+v", got, next)
		}
		if newRev == rev || gotRev != newRev {
			t.Errorf("revisions: before %q, PutConfig says %q, Config then says %q; want a new one, the same twice", rev, newRev, gotRev)
		}
	})
	t.Run("reset", func(t *testing.T) {
		for _, name := range []string{"work", "a b/c"} {
			if err := c.ResetAccount(ctx, name); err != nil {
				t.Errorf("ResetAccount(%q): %v", name, err)
			}
		}
		err := c.ResetAccount(ctx, "ghost")
		if !errors.Is(err, control.ErrNotFound) {
			t.Errorf("ResetAccount(ghost) = %v, want ErrNotFound", err)
		}
		if err == nil || !strings.Contains(err.Error(), "ghost") {
			t.Errorf("error %v does not name the account", err)
		}
		if got, want := b.Resets, []string{"work", "a b/c", "ghost"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Resets = %q, want %q", got, want)
		}
	})
	t.Run("check dir", func(t *testing.T) {
		got, err := c.CheckDir(ctx, "/home/u/.claude")
		if err != nil {
			t.Fatal(err)
		}
		if want := b.DirChecks["/home/u/.claude"]; !reflect.DeepEqual(got, want) {
			t.Errorf("CheckDir = %+v, want %+v", got, want)
		}
		got, err = c.CheckDir(ctx, "/empty")
		if err != nil {
			t.Fatal(err)
		}
		if got.Found || got.Dir != "/empty" || got.Problem == "" {
			t.Errorf("CheckDir(/empty) = %+v, want not found with a problem", got)
		}
	})
	t.Run("token limits", func(t *testing.T) {
		b := &controltest.Backend{Now: func() time.Time { return started }}
		c, _ := controltest.NewServer(t, b)
		h5 := control.Period(5 * time.Hour)
		is, err := c.IssueTokenWith(ctx, control.IssueRequest{Label: "ci", TTL: "720h", Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000}})
		if err != nil {
			t.Fatal(err)
		}
		if want := (control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: h5}); is.Limits != want || is.ExpiresAt == nil || is.Secret == "" {
			t.Errorf("issued %+v, want limits %+v (the default window), an expiry and the secret", is, want)
		}
		if want := []controltest.IssueCall{{Label: "ci", TTL: 720 * time.Hour, Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000}}}; !reflect.DeepEqual(b.Issues, want) {
			t.Errorf("Issues = %+v, want %+v", b.Issues, want)
		}
		if _, err := c.IssueTokenWith(ctx, control.IssueRequest{Label: "bad", Limits: control.Limits{MaxTokens: -1}}); !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), "max_tokens") {
			t.Errorf("IssueTokenWith a negative limit = %v, want ErrInvalid naming max_tokens", err)
		}

		three, day := int64(3_000_000), control.Period(24*time.Hour)
		got, err := c.UpdateToken(ctx, is.ID, control.TokenUpdate{MaxTokens: &three, Per: &day, NeverExpires: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := (control.Limits{MaxRequests: 500, MaxTokens: 3_000_000, Per: day}); got.Limits != want || got.ExpiresAt != nil {
			t.Errorf("UpdateToken = %+v, want limits %+v and no expiry", got, want)
		}
		if len(b.Updates) != 1 || b.Updates[0].ID != is.ID || *b.Updates[0].Update.MaxTokens != three || !b.Updates[0].Update.NeverExpires {
			t.Errorf("Updates = %+v, want the change as sent", b.Updates)
		}
		zero := int64(0)
		got, err = c.UpdateToken(ctx, is.ID, control.TokenUpdate{MaxRequests: &zero, MaxTokens: &zero})
		if err != nil || got.Limited() || got.Per != 0 {
			t.Errorf("UpdateToken removing every limit = %+v, %v, want no limits and no window", got, err)
		}
		if _, err := c.UpdateToken(ctx, "nope", control.TokenUpdate{MaxTokens: &three}); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("UpdateToken of an unknown token = %v, want ErrNotFound", err)
		}
		if _, err := c.UpdateToken(ctx, is.ID, control.TokenUpdate{Per: &day}); !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), "per") {
			t.Errorf("UpdateToken of a window alone on a token without limits = %v, want ErrInvalid naming per", err)
		}
	})
	t.Run("tokens", func(t *testing.T) {
		list, err := c.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Errorf("Tokens = %+v, want none", list)
		}
		is, err := c.IssueToken(ctx, "laptop", 720*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wantExp := started.Add(720 * time.Hour)
		if is.Secret != "la_sk_test-1" || is.ID != "tok-1" || is.Label != "laptop" || is.ExpiresAt == nil || !is.ExpiresAt.Equal(wantExp) {
			t.Errorf("IssueToken = %+v, want tok-1 laptop expiring %v with its secret", is, wantExp)
		}
		never, err := c.IssueToken(ctx, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		if never.ExpiresAt != nil {
			t.Errorf("token with ttl 0 expires at %v, want never", never.ExpiresAt)
		}
		if got, want := b.Issues, []controltest.IssueCall{{Label: "laptop", TTL: 720 * time.Hour}, {Label: "ci"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("Issues = %+v, want %+v", got, want)
		}
		if _, err := c.IssueToken(ctx, "", 0); !errors.Is(err, control.ErrInvalid) {
			t.Errorf("IssueToken without label = %v, want ErrInvalid", err)
		}
		if err := c.RevokeToken(ctx, "tok-1"); err != nil {
			t.Fatal(err)
		}
		if err := c.RevokeToken(ctx, "tok-1"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("second RevokeToken = %v, want ErrNotFound", err)
		}
		list, err = c.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
			t.Errorf("Tokens = %+v, want tok-1 revoked and tok-2 active", list)
		}
		raw, _ := json.Marshal(list)
		if strings.Contains(string(raw), "la_sk_test-") {
			t.Errorf("token list carries a secret: %s", raw)
		}
	})
}

func TestEmptyListsAreArrays(t *testing.T) {
	hs, _ := rawServer(t, &controltest.Backend{})
	for _, path := range []string{"accounts", "tokens"} {
		resp, data := do(t, "GET", hs.URL+"/control/v1/"+path, "", "Bearer "+testSecret, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
		}
		if want := `{"` + path + `":[]}`; strings.TrimSpace(string(data)) != want {
			t.Errorf("GET %s = %s, want %s", path, data, want)
		}
	}
}

func TestPutConfigValidationRoundTrip(t *testing.T) {
	fields := []config.FieldError{
		{Field: "strategy", Message: `unknown strategy "fastest"`},
		{Field: "accounts[1].dir", Message: "set dir or token, not both"},
	}
	b := &controltest.Backend{
		ConfigValue:  config.Default(),
		PutConfigErr: &config.ValidationError{File: "config.toml", Fields: fields},
	}
	c, _ := controltest.NewServer(t, b)
	bad := config.Default()
	bad.Strategy = "fastest"
	_, rev, _ := c.Config(context.Background())
	_, err := c.PutConfig(context.Background(), bad, rev)
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("PutConfig err = %#v, want *config.ValidationError", err)
	}
	if !reflect.DeepEqual(ve.Fields, fields) {
		t.Errorf("fields = %+v, want %+v", ve.Fields, fields)
	}
	if got, _ := b.Config(); got.Strategy != "round-robin" {
		t.Errorf("config changed to strategy %q despite the error", got.Strategy)
	}
}

func TestBackendFailure(t *testing.T) {
	b := &controltest.Backend{PutConfigErr: errors.New("writing config.toml: disk full")}
	c, _ := controltest.NewServer(t, b)
	_, rev, _ := c.Config(context.Background())
	_, err := c.PutConfig(context.Background(), config.Default(), rev)
	var ae *control.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %#v, want *APIError", err)
	}
	if ae.Status != 500 || ae.Type != "api_error" || !strings.Contains(ae.Message, "disk full") {
		t.Errorf("APIError = %+v, want 500 api_error saying disk full", ae)
	}
	if errors.Is(err, control.ErrNotFound) || errors.Is(err, control.ErrInvalid) || errors.Is(err, control.ErrUnreachable) {
		t.Errorf("a 500 matches a sentinel error: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close() // nothing listens there now
	c := control.NewClient(url, testSecret)
	if _, err := c.Status(context.Background()); !errors.Is(err, control.ErrUnreachable) {
		t.Errorf("Status = %v, want ErrUnreachable", err)
	}
	if err := c.Events(context.Background(), "", func(control.Event) {}); !errors.Is(err, control.ErrUnreachable) {
		t.Errorf("Events = %v, want ErrUnreachable", err)
	}
}

func TestForeignServer(t *testing.T) {
	// Something other than the daemon answers on the port.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>teapot</html>", http.StatusTeapot)
	}))
	defer hs.Close()
	_, err := control.NewClient(hs.URL, testSecret).Accounts(context.Background())
	var ae *control.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTeapot || !strings.Contains(ae.Message, "teapot") {
		t.Errorf("err = %#v, want APIError 418 quoting the body", err)
	}
}

// eventsRun runs c.Events in a goroutine, sending each event to the
// returned channel with its ID cleared (the IDs are tested apart); the
// error arrives on the second channel.
func eventsRun(ctx context.Context, c *control.Client) (<-chan control.Event, <-chan error) {
	events := make(chan control.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, "", func(e control.Event) {
			e.ID = ""
			events <- e
		})
	}()
	return events, done
}

func waitErr(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Events did not return within 10s")
		return nil
	}
}

func TestEvents(t *testing.T) {
	b := &controltest.Backend{}
	c, _ := controltest.NewServer(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := eventsRun(ctx, c)
	b.WaitSubscribers(t, 1)

	until := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := until.Add(-time.Hour)
	want := []control.Event{
		{Type: event.CooldownStarted, Account: "work", Until: &until, Reason: "5-hour limit", Window: "five_hour", At: at},
		{Type: event.AllExhausted, Until: &until, At: at},
		{Type: event.CooldownEnded, Account: "work", At: until},
		{Type: event.TokenBudgetReached, Token: "0a1b", Label: "ci", Until: &until, Reason: "500 requests per 5h", At: at},
	}
	for _, e := range want {
		b.Publish(e)
	}
	for i, w := range want {
		select {
		case got := <-events:
			if !reflect.DeepEqual(got, w) {
				t.Errorf("event %d = %+v, want %+v", i, got, w)
			}
		case err := <-done:
			t.Fatalf("Events returned %v after %d events", err, i)
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d did not arrive within 10s", i)
		}
	}

	cancel()
	if err := waitErr(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("Events after cancel = %v, want context.Canceled", err)
	}
	b.WaitSubscribers(t, 0) // the server unsubscribed
}

func TestEventsStreamEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(b *controltest.Backend, hs *httptest.Server)
	}{
		{"server shutdown", func(b *controltest.Backend, hs *httptest.Server) { hs.Close() }},
		{"backend closes streams", func(b *controltest.Backend, hs *httptest.Server) { b.CloseStreams() }},
		{"connection cut", func(b *controltest.Backend, hs *httptest.Server) { hs.CloseClientConnections() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &controltest.Backend{}
			c, hs := controltest.NewServer(t, b)
			events, done := eventsRun(context.Background(), c)
			b.WaitSubscribers(t, 1)
			b.Publish(control.Event{Type: event.Refreshed, Account: "work"})
			select {
			case <-events:
			case <-time.After(10 * time.Second):
				t.Fatal("event did not arrive")
			}
			tt.end(b, hs)
			err := waitErr(t, done)
			if !errors.Is(err, control.ErrUnreachable) {
				t.Errorf("Events = %v, want ErrUnreachable", err)
			}
			b.WaitSubscribers(t, 0)
		})
	}
}

func TestEventsHead(t *testing.T) {
	b := &controltest.Backend{}
	hs, _ := rawServer(t, b)
	resp, _ := do(t, "HEAD", hs.URL+"/control/v1/events", "", "Bearer "+testSecret, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD events = %d %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b.WaitSubscribers(t, 0)
}

func TestEventsAfterClose(t *testing.T) {
	hs, srv := rawServer(t, &controltest.Backend{})
	srv.Close()
	resp, data := do(t, "GET", hs.URL+"/control/v1/events", "", "Bearer "+testSecret, "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503 (%s)", resp.StatusCode, data)
	}
	// Other endpoints keep answering.
	resp, data = do(t, "GET", hs.URL+"/control/v1/status", "", "Bearer "+testSecret, "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status after Close = %d, want 200 (%s)", resp.StatusCode, data)
	}
}

func TestEventsWireFormat(t *testing.T) {
	b := &controltest.Backend{}
	srv := control.NewServer(b, testSecret, nil)
	srv.PingInterval = 5 * time.Millisecond
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/control/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
	b.WaitSubscribers(t, 1)
	b.Publish(control.Event{Type: event.Recovered, At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})

	// Read until both a ping and the event were seen; the body is flushed
	// per event, so this does not wait for the stream to end.
	wantEvent := "id: " + b.LastID() + "\nevent: account\ndata: {\"type\":\"recovered\",\"at\":\"2026-03-01T00:00:00Z\"}\n\n"
	var seen strings.Builder
	buf := make([]byte, 512)
	for !strings.Contains(seen.String(), ": ping\n\n") || !strings.Contains(seen.String(), wantEvent) {
		n, err := resp.Body.Read(buf) // fails when ctx times out
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading stream: %v (so far %q, want a ping and %q)", err, seen.String(), wantEvent)
		}
	}
}

func TestPauseResume(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b := &controltest.Backend{Now: func() time.Time { return at }}
	c, _ := controltest.NewServer(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, done := eventsRun(ctx, c)
	b.WaitSubscribers(t, 1)

	paused := func() bool {
		t.Helper()
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		return st.Paused
	}
	steps := []struct {
		name      string
		call      func(context.Context) error
		wantPause bool
		wantEvent event.Type // "" when the state did not change
	}{
		{"pause", c.Pause, true, event.Paused},
		{"pause again", c.Pause, true, ""},
		{"resume", c.Resume, false, event.Resumed},
		{"resume again", c.Resume, false, ""},
		{"pause after resume", c.Pause, true, event.Paused},
	}
	if paused() {
		t.Fatal("Status.Paused = true before any pause")
	}
	for _, st := range steps {
		if err := st.call(ctx); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := paused(); got != st.wantPause {
			t.Errorf("after %s: Status.Paused = %t, want %t", st.name, got, st.wantPause)
		}
		if st.wantEvent == "" {
			continue
		}
		select {
		case got := <-events:
			if want := (control.Event{Type: st.wantEvent, At: at}); !reflect.DeepEqual(got, want) {
				t.Errorf("after %s: event %+v, want %+v", st.name, got, want)
			}
		case err := <-done:
			t.Fatalf("Events returned %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("after %s: no %s event within 10s", st.name, st.wantEvent)
		}
	}
	// The idempotent calls published nothing: a probe is the next event.
	b.Publish(control.Event{Type: event.Refreshed, Account: "probe"})
	select {
	case got := <-events:
		if got.Account != "probe" {
			t.Errorf("event %+v after the steps, want only the probe (a repeated pause or resume published)", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("probe event did not arrive")
	}
	b.Lock()
	got := b.Pauses
	b.Unlock()
	if want := []bool{true, true, false, false, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pauses = %v, want %v", got, want)
	}
}

func TestPauseAnswers(t *testing.T) {
	tests := []struct {
		name, path, auth string
		err              error
		wantStatus       int
		wantType         string
	}{
		{"pause", "pause", "Bearer " + testSecret, nil, 204, ""},
		{"resume", "resume", "Bearer " + testSecret, nil, 204, ""},
		{"pause without secret", "pause", "", nil, 401, "authentication_error"},
		{"resume with wrong secret", "resume", "Bearer nope", nil, 401, "authentication_error"},
		{"backend fails", "pause", "Bearer " + testSecret, errors.New("cannot pause"), 500, "api_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &controltest.Backend{PauseErr: tt.err}
			hs, _ := rawServer(t, b)
			resp, data := do(t, "POST", hs.URL+"/control/v1/"+tt.path, "", tt.auth, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, data)
			}
			b.Lock()
			calls := len(b.Pauses)
			b.Unlock()
			if tt.wantStatus == 401 && calls != 0 {
				t.Errorf("backend called %d times without the secret", calls)
			}
			if tt.wantType == "" {
				if len(data) != 0 {
					t.Errorf("204 answer has a body %q", data)
				}
				return
			}
			if got := errorBody(t, data).Error.Type; got != tt.wantType {
				t.Errorf("error type = %q, want %q", got, tt.wantType)
			}
		})
	}
}

func TestClientPauseErrors(t *testing.T) {
	b := &controltest.Backend{}
	_, hs := controltest.NewServer(t, b)
	ctx := context.Background()
	wrong := control.NewClient(hs.URL, "wrong")
	if err := wrong.Pause(ctx); !errors.Is(err, control.ErrUnauthorized) {
		t.Errorf("Pause with a wrong secret = %v, want ErrUnauthorized", err)
	}
	if err := wrong.Resume(ctx); !errors.Is(err, control.ErrUnauthorized) {
		t.Errorf("Resume with a wrong secret = %v, want ErrUnauthorized", err)
	}
	if st := b.Status(); st.Paused {
		t.Error("paused by a client with a wrong secret")
	}
	url := hs.URL
	hs.Close()
	if err := control.NewClient(url, testSecret).Pause(ctx); !errors.Is(err, control.ErrUnreachable) {
		t.Errorf("Pause on a stopped daemon = %v, want ErrUnreachable", err)
	}
}
