package control

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Login statuses, as reported in Login.Status.
const (
	LoginPending   = "pending"
	LoginCompleted = "completed"
	LoginFailed    = "failed"
)

// LoginRequest is the body of POST logins: log in to Account (a new one
// is added to the configuration when it succeeds).
type LoginRequest struct {
	// Account names the account; an existing one logs in again.
	Account string `json:"account"`
	// Dir is the Claude Code config directory a new account's login is
	// written to; "" means <data_dir>/accounts/<account>. An existing
	// account keeps its own.
	Dir string `json:"dir,omitempty"`
	// Manual makes the authorize page show a code to paste back (POST
	// logins/{id}/code) instead of redirecting the browser to the daemon:
	// for a browser on another machine.
	Manual bool `json:"manual,omitempty"`
}

// Login is one login run by the daemon: the answer to POST logins and
// GET logins/{id}. It never holds a secret: the PKCE verifier and the
// tokens stay in the daemon.
type Login struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	// Dir is where the login is written.
	Dir string `json:"dir"`
	// NewAccount is true when the account is added to the configuration
	// once the login succeeds.
	NewAccount bool `json:"new_account"`
	Manual     bool `json:"manual"`
	// AuthorizeURL is the page to open in a browser.
	AuthorizeURL string `json:"authorize_url"`
	// ExpiresAt is when a login still pending fails (10 minutes after
	// its start).
	ExpiresAt time.Time `json:"expires_at"`
	// Status is LoginPending, LoginCompleted or LoginFailed.
	Status string `json:"status"`
	// Reason says why a login failed or, for a completed one, what a
	// person should know (the account now holds another email).
	Reason string `json:"reason,omitempty"`
	// Email, Organization, Subscription and RateLimitTier describe the
	// login once it completed ("" when not known).
	Email         string `json:"email,omitempty"`
	Organization  string `json:"organization,omitempty"`
	Subscription  string `json:"subscription,omitempty"`
	RateLimitTier string `json:"rate_limit_tier,omitempty"`
}

// Done reports whether the login is over (completed or failed).
func (l Login) Done() bool { return l.Status != LoginPending }

// LoginCode is the body of POST logins/{id}/code: the "<code>#<state>"
// the authorize page showed for a manual login.
type LoginCode struct {
	Code string `json:"code"`
}

// loginRoutes adds the login endpoints to s.
func (s *Server) loginRoutes() {
	s.mux.HandleFunc("POST "+Prefix+"logins", s.handleStartLogin)
	s.mux.HandleFunc("GET "+Prefix+"logins/{id}", s.handleLogin)
	s.mux.HandleFunc("POST "+Prefix+"logins/{id}/code", s.handleLoginCode)
	s.mux.HandleFunc("DELETE "+Prefix+"logins/{id}", s.handleCancelLogin)
}

func (s *Server) handleStartLogin(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Account) == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest, `"account" is required`, nil)
		return
	}
	l, err := s.b.StartLogin(req)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, l)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	l, err := s.b.Login(r.PathValue("id"))
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) handleCancelLogin(w http.ResponseWriter, r *http.Request) {
	l, err := s.b.CancelLogin(r.PathValue("id"))
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// handleLoginCode answers once the pasted code was exchanged: 200 with the
// login, completed or failed.
func (s *Server) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	var req LoginCode
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Code) == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest, `"code" is required`, nil)
		return
	}
	l, err := s.b.LoginCode(r.Context(), r.PathValue("id"), req.Code)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// loginCallTimeout bounds a LoginCode call: the daemon exchanges the code
// with the token endpoint before it answers.
const loginCallTimeout = 2 * time.Minute

// StartLogin starts a login to the account req names and returns it with
// the URL to open in a browser. A name or directory the daemon refuses
// gives an error matching ErrInvalid.
func (c *Client) StartLogin(ctx context.Context, req LoginRequest) (Login, error) {
	var l Login
	err := c.call(ctx, http.MethodPost, "logins", req, http.StatusCreated, &l)
	return l, err
}

// Login returns the login with the given ID. An unknown ID (or one the
// daemon forgot, some minutes after it ended) gives an error matching
// ErrNotFound.
func (c *Client) Login(ctx context.Context, id string) (Login, error) {
	var l Login
	err := c.call(ctx, http.MethodGet, "logins/"+url.PathEscape(id), nil, http.StatusOK, &l)
	return l, err
}

// LoginCode hands a manual login the "<code>#<state>" its authorize page
// showed, and returns the login once the daemon has exchanged it:
// completed, or failed with the reason. A code that does not belong to
// the login gives an error matching ErrInvalid; the login stays pending.
func (c *Client) LoginCode(ctx context.Context, id, code string) (Login, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, loginCallTimeout)
		defer cancel()
	}
	var l Login
	err := c.call(ctx, http.MethodPost, "logins/"+url.PathEscape(id)+"/code", LoginCode{Code: code}, http.StatusOK, &l)
	return l, err
}

// CancelLogin ends a pending login nobody waits for any more (its
// listener closes; a browser coming back later finds nothing) and returns
// it as it stands then: failed, or as it ended if it was over already. An
// unknown ID gives an error matching ErrNotFound.
func (c *Client) CancelLogin(ctx context.Context, id string) (Login, error) {
	var l Login
	err := c.call(ctx, http.MethodDelete, "logins/"+url.PathEscape(id), nil, http.StatusOK, &l)
	return l, err
}

// WaitLogin asks for the login every interval until it is done or ctx
// ends, and returns it as last seen. A daemon that cannot be reached for
// a moment is asked again; one that stays away ends the wait with its
// error.
func (c *Client) WaitLogin(ctx context.Context, id string, interval time.Duration) (Login, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last Login
	misses := 0
	for {
		l, err := c.Login(ctx, id)
		switch {
		case err == nil:
			last, misses = l, 0
			if l.Done() {
				return l, nil
			}
		case errors.Is(err, ErrUnreachable) && misses < 5 && ctx.Err() == nil:
			misses++
		default:
			return last, err
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
	}
}
