package control_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

func TestLoginEndpoints(t *testing.T) {
	b := &controltest.Backend{}
	c, _ := controltest.NewServer(t, b)
	ctx := context.Background()

	l, err := c.StartLogin(ctx, control.LoginRequest{Account: "work", Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.ID == "" || l.Status != control.LoginPending || l.AuthorizeURL == "" || l.ExpiresAt.IsZero() || l.Done() {
		t.Errorf("StartLogin = %+v, want a pending login with an id, a URL and an expiry", l)
	}
	if got := b.LoginStarts; len(got) != 1 || got[0] != (control.LoginRequest{Account: "work", Manual: true}) {
		t.Errorf("backend got %+v, want the request", got)
	}
	got, err := c.Login(ctx, l.ID)
	if err != nil || got.ID != l.ID {
		t.Errorf("Login(%q) = %+v, %v", l.ID, got, err)
	}
	if _, err := c.Login(ctx, "nope"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Login(unknown) = %v, want ErrNotFound", err)
	}
	done, err := c.LoginCode(ctx, l.ID, "abc#def")
	if err != nil || done.Status != control.LoginCompleted {
		t.Errorf("LoginCode = %+v, %v; want completed", done, err)
	}
	if got := b.LoginCodes; len(got) != 1 || got[0] != "abc#def" {
		t.Errorf("codes = %v", got)
	}

	if _, err := c.LoginCode(ctx, l.ID, "no-state"); !errors.Is(err, control.ErrInvalid) {
		t.Errorf("LoginCode without its state = %v, want ErrInvalid", err)
	}

	// A login nobody waits for any more is cancelled; one that is over
	// stays as it ended.
	l2, _ := c.StartLogin(ctx, control.LoginRequest{Account: "home"})
	if got, err := c.CancelLogin(ctx, l2.ID); err != nil || got.Status != control.LoginFailed || got.Reason == "" {
		t.Errorf("CancelLogin = %+v, %v; want it failed with a reason", got, err)
	}
	if got, err := c.CancelLogin(ctx, l.ID); err != nil || got.Status != control.LoginCompleted {
		t.Errorf("CancelLogin of a completed login = %+v, %v; want it completed", got, err)
	}
	if _, err := c.CancelLogin(ctx, "nope"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("CancelLogin(unknown) = %v, want ErrNotFound", err)
	}
	if got := b.LoginCancels; len(got) != 3 || got[0] != l2.ID {
		t.Errorf("cancels = %v, want the three asked", got)
	}

	// Refusals are 400s naming the problem.
	hs, _ := rawServer(t, b)
	for _, body := range []string{`{}`, `{"account":"  "}`, `{"account":"a","verifier":"x"}`} {
		if resp, data := do(t, "POST", hs.URL+control.Prefix+"logins", "", "Bearer "+testSecret, body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST logins %s = %d %s, want 400", body, resp.StatusCode, data)
		}
	}
	b.LoginErr = control.ErrInvalid
	if _, err := c.StartLogin(ctx, control.LoginRequest{Account: "x"}); !errors.Is(err, control.ErrInvalid) {
		t.Errorf("StartLogin refused by the backend = %v, want ErrInvalid", err)
	}
}

func TestWaitLogin(t *testing.T) {
	b := &controltest.Backend{}
	c, _ := controltest.NewServer(t, b)
	ctx := context.Background()
	l, err := c.StartLogin(ctx, control.LoginRequest{Account: "work"})
	if err != nil {
		t.Fatal(err)
	}
	go b.FinishLogin(l.ID, control.Login{Status: control.LoginCompleted, Email: "w@example.test"}) // the browser, whenever it comes
	got, err := c.WaitLogin(ctx, l.ID, 10*time.Millisecond)
	if err != nil || got.Status != control.LoginCompleted || got.Email != "w@example.test" {
		t.Errorf("WaitLogin = %+v, %v; want the completed login", got, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	l2, _ := c.StartLogin(ctx, control.LoginRequest{Account: "other"})
	if got, err := c.WaitLogin(wctx, l2.ID, 10*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || got.Status != control.LoginPending {
		t.Errorf("WaitLogin past its context = %+v, %v; want the pending login and the context's error", got, err)
	}
}
