package login

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/wait"
)

// env is a Manager against the fake, recording what it stores and what
// fails.
type env struct {
	m    *Manager
	fake *anthropictest.Fake
	up   *httptest.Server
	log  *bytes.Buffer

	mu     sync.Mutex
	stored []Tokens
	failed []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{log: new(bytes.Buffer)}
	e.fake, e.up = anthropictest.New(t)
	var logMu sync.Mutex
	e.m = New(Options{
		Resolve: func(r control.LoginRequest) (Target, error) {
			if r.Account == "bad" {
				return Target{}, control.ErrInvalid
			}
			return Target{Account: r.Account, Dir: "/x/" + r.Account, New: true}, nil
		},
		Store: func(_ context.Context, t Target, tok Tokens) (Outcome, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.stored = append(e.stored, tok)
			return Outcome{Email: tok.Email, Organization: tok.Organization, Subscription: "max"}, nil
		},
		Failed: func(t Target, reason string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.failed = append(e.failed, t.Account+": "+reason)
		},
		Endpoints: func() (string, string) {
			return e.up.URL + anthropictest.AuthorizePath, e.up.URL + anthropictest.TokenPath
		},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.log, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(e.m.Close)
	return e
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// browse opens u as a browser would, following redirects, and returns the
// final page.
func browse(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoopbackLogin(t *testing.T) {
	e := newEnv(t)
	e.fake.LoginAs(anthropictest.Identity{Email: "w@example.test", Organization: "W org", OrganizationType: "claude_max"})
	l, err := e.m.Start(control.LoginRequest{Account: "work"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(l.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if redirect.Hostname() != "localhost" || redirect.Path != "/callback" || redirect.Port() == "" {
		t.Errorf("redirect_uri = %q, want http://localhost:<port>/callback", q.Get("redirect_uri"))
	}
	if q.Get("scope") != Scopes || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
		t.Errorf("authorize URL = %s, want the scopes, S256 and a state", l.AuthorizeURL)
	}
	status, body := browse(t, l.AuthorizeURL)
	if status != 200 || !strings.Contains(body, "logged in as w@example.test") || !strings.Contains(body, "close this tab") {
		t.Errorf("page = %d %q, want one saying who logged in and that the tab can close", status, body)
	}
	got, err := e.m.Get(l.ID)
	if err != nil || got.Status != control.LoginCompleted || got.Email != "w@example.test" || got.Organization != "W org" || got.Subscription != "max" {
		t.Errorf("login = %+v, %v; want completed as w@example.test", got, err)
	}
	e.mu.Lock()
	stored := e.stored
	e.mu.Unlock()
	if len(stored) != 1 || !strings.HasPrefix(stored[0].Access, "sk-ant-oat01-fake-login-") || stored[0].Refresh == "" ||
		time.Until(stored[0].ExpiresAt) < 7*time.Hour || strings.Join(stored[0].Scopes, " ") != Scopes {
		t.Errorf("stored = %+v, want the fake's pair, 8 hours, the scopes", stored)
	}
	if ex := e.fake.Exchanges(); len(ex) != 1 || ex[0].Err != "" || ex[0].RedirectURI != q.Get("redirect_uri") {
		t.Errorf("exchanges = %+v, want one granted with the same redirect_uri", ex)
	}
	// The listener is gone once the login ended.
	waitGone(t, redirect.Host)
	// The same link again finds nothing to do.
	if _, err := http.Get(q.Get("redirect_uri") + "?code=x&state=" + q.Get("state")); err == nil {
		t.Error("the callback still answers after the login ended")
	}
	checkNoSecrets(t, e, stored[0], q.Get("state"))
}

// waitGone waits until nothing accepts connections at host.
func waitGone(t *testing.T, host string) {
	t.Helper()
	wait.For(t, host+" to stop answering", func() bool {
		resp, err := http.Get("http://" + host + "/callback")
		if err != nil {
			return true
		}
		resp.Body.Close()
		return false
	})
}

func checkNoSecrets(t *testing.T, e *env, tok Tokens, state string) {
	t.Helper()
	logs := e.log.String()
	for _, s := range []string{tok.Access, tok.Refresh, state, "fakecode-"} {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log holds a secret (%.16s…):\n%s", s, logs)
		}
	}
}

func TestManualLogin(t *testing.T) {
	e := newEnv(t)
	l, err := e.m.Start(control.LoginRequest{Account: "remote", Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, l.AuthorizeURL); q.Get("redirect_uri") != ManualRedirect {
		t.Errorf("redirect_uri = %q, want the manual one", q.Get("redirect_uri"))
	}
	_, page := browse(t, l.AuthorizeURL)
	pasted := anthropictest.PastedCode(page)
	code, state, _ := strings.Cut(pasted, "#")
	if code == "" || state == "" {
		t.Fatalf("the page shows no code#state: %q", page)
	}
	for _, bad := range []string{code, code + "#other-state", "#" + state} {
		if _, err := e.m.Code(t.Context(), l.ID, bad); !errors.Is(err, control.ErrInvalid) {
			t.Errorf("Code(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if got, _ := e.m.Get(l.ID); got.Status != control.LoginPending {
		t.Errorf("login after bad codes = %+v, want still pending", got)
	}
	got, err := e.m.Code(t.Context(), l.ID, "  "+pasted+"\n")
	if err != nil || got.Status != control.LoginCompleted || got.Email != "user@example.test" {
		t.Errorf("Code = %+v, %v; want completed", got, err)
	}
	// A used code does not log in twice.
	if again, _ := e.m.Code(t.Context(), l.ID, pasted); again.Status != control.LoginCompleted || len(e.fake.Exchanges()) != 1 {
		t.Errorf("second Code = %+v after %d exchanges, want the completed login and no second exchange", again, len(e.fake.Exchanges()))
	}
	if _, err := e.m.Code(t.Context(), "nope", pasted); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Code(unknown login) = %v, want ErrNotFound", err)
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

func TestLoginFailures(t *testing.T) {
	t.Run("refused in the browser", func(t *testing.T) {
		e := newEnv(t)
		e.fake.DenyNextLogin("the user said no")
		l, _ := e.m.Start(control.LoginRequest{Account: "work"})
		if _, page := browse(t, l.AuthorizeURL); !strings.Contains(page, "the user said no") {
			t.Errorf("page = %q, want the reason", page)
		}
		got, _ := e.m.Get(l.ID)
		if got.Status != control.LoginFailed || !strings.Contains(got.Reason, "the user said no") {
			t.Errorf("login = %+v, want failed with the reason", got)
		}
		if e.failed[0] != "work: the login was refused: the user said no" {
			t.Errorf("failed = %q", e.failed)
		}
	})
	t.Run("a link of another login", func(t *testing.T) {
		e := newEnv(t)
		l, _ := e.m.Start(control.LoginRequest{Account: "work"})
		cb := mustQuery(t, l.AuthorizeURL).Get("redirect_uri")
		status, _ := browse(t, cb+"?code=abc&state=forged")
		if got, _ := e.m.Get(l.ID); status != 400 || got.Status != control.LoginPending {
			t.Errorf("forged callback: %d, login %+v; want 400 and the login still pending", status, got)
		}
	})
	t.Run("a code the token endpoint refuses", func(t *testing.T) {
		e := newEnv(t)
		l, _ := e.m.Start(control.LoginRequest{Account: "work"})
		cb := mustQuery(t, l.AuthorizeURL)
		browse(t, cb.Get("redirect_uri")+"?code=made-up&state="+url.QueryEscape(cb.Get("state")))
		got, _ := e.m.Get(l.ID)
		if got.Status != control.LoginFailed || !strings.Contains(got.Reason, "invalid_grant") {
			t.Errorf("login = %+v, want failed saying the grant was refused", got)
		}
	})
	t.Run("refused request", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.m.Start(control.LoginRequest{Account: "bad"}); !errors.Is(err, control.ErrInvalid) {
			t.Errorf("Start(bad) = %v, want the Resolve error", err)
		}
	})
	t.Run("a newer login", func(t *testing.T) {
		e := newEnv(t)
		first, _ := e.m.Start(control.LoginRequest{Account: "work", Manual: true})
		e.m.Start(control.LoginRequest{Account: "work", Manual: true})
		if got, _ := e.m.Get(first.ID); got.Status != control.LoginFailed || !strings.Contains(got.Reason, "newer login") {
			t.Errorf("first login = %+v, want failed: superseded", got)
		}
	})
	t.Run("an automatic and a manual login side by side", func(t *testing.T) {
		e := newEnv(t)
		auto, _ := e.m.Start(control.LoginRequest{Account: "work"})
		manual, _ := e.m.Start(control.LoginRequest{Account: "work", Manual: true})
		for _, l := range []control.Login{auto, manual} {
			if got, _ := e.m.Get(l.ID); got.Status != control.LoginPending {
				t.Errorf("login %+v, want pending: the other kind does not end it", got)
			}
		}
	})
}

// A login cancelled by its starter ends at once, quietly, and its
// listener closes; one that is over stays as it ended.
func TestCancelLogin(t *testing.T) {
	e := newEnv(t)
	l, err := e.m.Start(control.LoginRequest{Account: "work"})
	if err != nil {
		t.Fatal(err)
	}
	cb := mustQuery(t, l.AuthorizeURL)
	redirect, _ := url.Parse(cb.Get("redirect_uri"))
	got, err := e.m.Cancel(l.ID)
	if err != nil || got.Status != control.LoginFailed || got.Reason != CancelledReason {
		t.Errorf("Cancel = %+v, %v; want failed: %s", got, err, CancelledReason)
	}
	waitGone(t, redirect.Host)
	if again, err := e.m.Cancel(l.ID); err != nil || again != got {
		t.Errorf("Cancel again = %+v, %v; want the login as it was", again, err)
	}
	e.mu.Lock()
	failed := e.failed
	e.mu.Unlock()
	if len(failed) != 0 {
		t.Errorf("Failed was told %q; a cancel is not news to anyone", failed)
	}

	e.fake.LoginAs(anthropictest.Identity{Email: "w@example.test"})
	done, _ := e.m.Start(control.LoginRequest{Account: "home"})
	browse(t, done.AuthorizeURL)
	if got, err := e.m.Cancel(done.ID); err != nil || got.Status != control.LoginCompleted {
		t.Errorf("Cancel a completed login = %+v, %v; want it completed still", got, err)
	}
	if _, err := e.m.Cancel("nope"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Cancel(unknown) = %v, want ErrNotFound", err)
	}
}

// A login not finished within its time fails by itself, and says so.
func TestLoginExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failed []string
		m := New(Options{
			Resolve:   func(r control.LoginRequest) (Target, error) { return Target{Account: r.Account}, nil },
			Store:     func(context.Context, Target, Tokens) (Outcome, error) { return Outcome{}, nil },
			Failed:    func(t Target, reason string) { failed = append(failed, reason) },
			Endpoints: func() (string, string) { return DefaultAuthorizeURL, "http://token.invalid" },
		})
		defer m.Close()
		l, err := m.Start(control.LoginRequest{Account: "work", Manual: true})
		if err != nil {
			t.Fatal(err)
		}
		if !l.ExpiresAt.Equal(time.Now().Add(10 * time.Minute)) {
			t.Errorf("expires_at = %v, want 10 minutes on", l.ExpiresAt)
		}
		time.Sleep(10*time.Minute - time.Second)
		synctest.Wait()
		if got, _ := m.Get(l.ID); got.Status != control.LoginPending {
			t.Errorf("login before its 10 minutes = %+v, want pending", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got, _ := m.Get(l.ID)
		if got.Status != control.LoginFailed || !strings.Contains(got.Reason, "not finished within 10m0s") || len(failed) != 1 {
			t.Errorf("login after 10 minutes = %+v (failed %q), want failed: expired", got, failed)
		}
		time.Sleep(keep + time.Second)
		m.Start(control.LoginRequest{Account: "other", Manual: true}) // forgets long finished ones
		if _, err := m.Get(l.ID); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("Get a long finished login = %v, want ErrNotFound", err)
		}
	})
}
