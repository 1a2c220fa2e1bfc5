package controltest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// logins is the Backend's login state; the zero value is ready.
type logins struct {
	// LoginStarts records every StartLogin request; LoginCodes every code
	// LoginCode received.
	LoginStarts []control.LoginRequest
	LoginCodes  []string
	// LoginCancels records the ID of every CancelLogin call.
	LoginCancels []string
	// LoginErr, when set, is returned by StartLogin.
	LoginErr error

	byID map[string]control.Login
}

// StartLogin records req; it returns LoginErr when set, and otherwise a
// pending login "login-N" with an authorize URL on claude.example.
func (b *Backend) StartLogin(req control.LoginRequest) (control.Login, error) {
	b.Lock()
	defer b.Unlock()
	b.LoginStarts = append(b.LoginStarts, req)
	if b.LoginErr != nil {
		return control.Login{}, b.LoginErr
	}
	if b.byID == nil {
		b.byID = map[string]control.Login{}
	}
	n := len(b.LoginStarts)
	l := control.Login{
		ID: fmt.Sprintf("login-%d", n), Account: req.Account, Dir: req.Dir, Manual: req.Manual,
		AuthorizeURL: fmt.Sprintf("https://claude.example/oauth/authorize?login=%d", n),
		ExpiresAt:    b.now().Add(10 * time.Minute).UTC(),
		Status:       control.LoginPending,
	}
	b.byID[l.ID] = l
	return l, nil
}

// Login returns the login with id, or control.ErrNotFound.
func (b *Backend) Login(id string) (control.Login, error) {
	b.Lock()
	defer b.Unlock()
	l, ok := b.byID[id]
	if !ok {
		return control.Login{}, fmt.Errorf("no login %q: %w", id, control.ErrNotFound)
	}
	return l, nil
}

// LoginCode records code and completes the login (as FinishLogin would
// with a completed status), or returns control.ErrNotFound. A code
// without "#<state>" is refused with control.ErrInvalid, as the daemon
// refuses a code of another login, and leaves the login pending.
func (b *Backend) LoginCode(_ context.Context, id, code string) (control.Login, error) {
	b.Lock()
	defer b.Unlock()
	b.LoginCodes = append(b.LoginCodes, code)
	l, ok := b.byID[id]
	if !ok {
		return control.Login{}, fmt.Errorf("no login %q: %w", id, control.ErrNotFound)
	}
	if !strings.Contains(code, "#") {
		return control.Login{}, fmt.Errorf("%w: this code belongs to another login", control.ErrInvalid)
	}
	if l.Status == control.LoginPending {
		l.Status = control.LoginCompleted
		b.byID[id] = l
	}
	return l, nil
}

// FinishLogin ends the login with id as done says (its Status, Reason,
// Email, Organization, Subscription and RateLimitTier), as the daemon does
// when the browser comes back.
func (b *Backend) FinishLogin(id string, done control.Login) {
	b.Lock()
	defer b.Unlock()
	l := b.byID[id]
	l.Status, l.Reason = done.Status, done.Reason
	l.Email, l.Organization = done.Email, done.Organization
	l.Subscription, l.RateLimitTier = done.Subscription, done.RateLimitTier
	b.byID[id] = l
}

// CancelLogin records id and fails the login if it is pending, as the
// daemon does, or returns control.ErrNotFound.
func (b *Backend) CancelLogin(id string) (control.Login, error) {
	b.Lock()
	defer b.Unlock()
	b.LoginCancels = append(b.LoginCancels, id)
	l, ok := b.byID[id]
	if !ok {
		return control.Login{}, fmt.Errorf("no login %q: %w", id, control.ErrNotFound)
	}
	if l.Status == control.LoginPending {
		l.Status, l.Reason = control.LoginFailed, "the login was cancelled"
		b.byID[id] = l
	}
	return l, nil
}
