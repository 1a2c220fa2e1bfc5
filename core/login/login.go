// Package login runs Claude's subscription login for the daemon: an
// OAuth authorization-code login with PKCE (S256), as Claude Code does it.
// The daemon starts a login and hands out its authorize URL; the browser
// comes back either to a loopback listener the login opens for itself
// (http://localhost:<port>/callback) or, for a browser on another machine,
// to Anthropic's page that shows a code to paste back. The code is then
// exchanged for a token pair, which the daemon stores.
//
// The PKCE verifier and the tokens never leave the Manager except to the
// token endpoint and the daemon's Store; nothing secret is logged.
package login

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// Defaults and fixed values of a login.
const (
	// DefaultAuthorizeURL is Claude's authorize page (config authorize_url).
	DefaultAuthorizeURL = "https://claude.ai/oauth/authorize"
	// ManualRedirect is the redirect of a manual login: Anthropic's page
	// that shows "<code>#<state>" to paste back.
	ManualRedirect = "https://console.anthropic.com/oauth/code/callback"
	// Scopes are the scopes a login asks for, as Claude Code does.
	Scopes = "org:create_api_key user:profile user:inference"
	// DefaultTTL is how long a login may take before it fails.
	DefaultTTL = 10 * time.Minute
	// CancelledReason is the reason of a login its starter cancelled.
	CancelledReason = "the login was cancelled"
)

const (
	// keep is how long a finished login can still be asked about.
	keep = 10 * time.Minute
	// maxPending bounds the logins under way at once (each may hold a
	// listener).
	maxPending = 8
	// exchangeTimeout bounds the code exchange and storing its result.
	exchangeTimeout = 60 * time.Second
)

// Target is where a login goes, as the daemon resolved it.
type Target struct {
	Account string
	// Dir is the Claude Code config directory the login is written to.
	Dir string
	// New is true when the account is added once the login succeeds.
	New bool
}

// Tokens is what the token endpoint gave for a login.
type Tokens struct {
	Access, Refresh string
	// ExpiresAt is when Access expires, RefreshExpiresAt when the login
	// ends; zero when the answer did not say.
	ExpiresAt, RefreshExpiresAt time.Time
	Scopes                      []string
	Email, Organization         string
}

// Outcome is what the daemon made of a login it stored.
type Outcome struct {
	Email, Organization, Subscription, RateLimitTier string
	// Note is what a person should know about the login ("the account
	// was a@example.test"); "" for nothing.
	Note string
}

// Options configure a Manager. Resolve, Store and Endpoints are required.
type Options struct {
	// Resolve checks a login request and says where it goes. An error
	// wrapping control.ErrInvalid refuses it.
	Resolve func(control.LoginRequest) (Target, error)
	// Store writes the tokens of a login that succeeded and adds or
	// updates the account. An error fails the login with it.
	Store func(ctx context.Context, t Target, tok Tokens) (Outcome, error)
	// Failed, when set, is told about every login that failed or expired.
	Failed func(t Target, reason string)
	// Endpoints returns the authorize and token URLs to use now.
	Endpoints func() (authorize, token string)
	// ClientID is the OAuth client id. Default: Claude Code's.
	ClientID string
	// HTTPClient posts the code exchange. Default: a client with a 30s
	// timeout.
	HTTPClient *http.Client
	// TTL is how long a login may take. Default DefaultTTL.
	TTL time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Manager runs logins. Its methods are safe for concurrent use.
type Manager struct {
	o   Options
	log *slog.Logger
	wg  sync.WaitGroup // listeners shutting down
	ex  sync.WaitGroup // codes being exchanged and stored

	mu     sync.Mutex
	logins map[string]*login
	closed bool
}

// login is one login under way or finished.
type login struct {
	id       string
	target   Target
	manual   bool
	verifier string // PKCE: never leaves the Manager but to the token endpoint
	state    string
	redirect string
	url      string
	expires  time.Time

	// Guarded by Manager.mu.
	status  string
	reason  string
	out     Outcome
	claimed bool // a code is being exchanged, or was
	ended   time.Time
	servers []*http.Server
	timer   *time.Timer
}

// New returns a Manager.
func New(o Options) *Manager {
	if o.ClientID == "" {
		o.ClientID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{o: o, log: log.With("component", "login"), logins: map[string]*login{}}
}

// random returns n random bytes in base64url without padding.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// challenge is the S256 code challenge of verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Start starts a login: it resolves where it goes, opens its loopback
// listener unless it is manual, and returns it pending with the URL to
// open. A newer login for the same account of the same kind (automatic
// or manual) ends an older one still pending; an automatic and a manual
// login may wait side by side, and the first to complete wins.
func (m *Manager) Start(req control.LoginRequest) (control.Login, error) {
	t, err := m.o.Resolve(req)
	if err != nil {
		return control.Login{}, err
	}
	id := make([]byte, 8)
	rand.Read(id)
	l := &login{
		id: hex.EncodeToString(id), target: t, manual: req.Manual,
		verifier: random(32), state: random(32),
		expires: time.Now().Add(m.o.TTL), status: control.LoginPending,
	}
	if l.manual {
		l.redirect = ManualRedirect
	} else {
		lns, port, err := listen()
		if err != nil {
			return control.Login{}, fmt.Errorf("opening a port on this computer for the browser to come back to: %w (try a manual login)", err)
		}
		l.redirect = "http://localhost:" + strconv.Itoa(port) + "/callback"
		for _, ln := range lns {
			srv := &http.Server{Handler: m.callback(l), ReadHeaderTimeout: 10 * time.Second}
			l.servers = append(l.servers, srv)
			m.wg.Go(func() { srv.Serve(ln) })
		}
	}
	authorize, _ := m.o.Endpoints()
	l.url = authorizeURL(authorize, m.o.ClientID, l.redirect, challenge(l.verifier), l.state)

	m.mu.Lock()
	if err := m.admitLocked(l); err != nil {
		m.mu.Unlock()
		m.stop(l.servers)
		return control.Login{}, err
	}
	var older []*login
	for _, o := range m.logins {
		if o.target.Account == t.Account && o.manual == l.manual && o.status == control.LoginPending {
			older = append(older, o)
		}
	}
	m.logins[l.id] = l
	l.timer = time.AfterFunc(m.o.TTL, func() {
		m.abandon(l, fmt.Sprintf("the login was not finished within %s: start it again", m.o.TTL))
	})
	out := l.wire()
	m.mu.Unlock()
	for _, o := range older {
		m.abandon(o, "a newer login for this account was started")
	}
	m.log.Info("login started", "account", t.Account, "login", l.id, "manual", l.manual, "new_account", t.New)
	return out, nil
}

// admitLocked forgets long finished logins and refuses l when the
// Manager is closed or too many are under way; m.mu is held.
func (m *Manager) admitLocked(l *login) error {
	if m.closed {
		return errors.New("the daemon is stopping")
	}
	pending := 0
	for id, o := range m.logins {
		switch {
		case o.status == control.LoginPending:
			pending++
		case time.Since(o.ended) > keep:
			delete(m.logins, id)
		}
	}
	if pending >= maxPending {
		return fmt.Errorf("%w: %d logins are under way already: finish or wait for one of them", control.ErrInvalid, pending)
	}
	return nil
}

// listen opens a loopback port on 127.0.0.1, and the same port on ::1
// when it can (browsers may resolve localhost to either).
func listen() ([]net.Listener, int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lns := []net.Listener{ln}
	if ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		lns = append(lns, ln6)
	}
	return lns, port, nil
}

// authorizeURL builds the authorize page's URL, keeping any query base has.
func authorizeURL(base, clientID, redirect, challenge, state string) string {
	u, err := url.Parse(base)
	if err != nil {
		u = &url.URL{Path: base}
	}
	q := u.Query()
	q.Set("code", "true")
	q.Set("client_id", clientID)
	q.Set("response_type", "code")
	q.Set("redirect_uri", redirect)
	q.Set("scope", Scopes)
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", "S256")
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}

// wire describes l for the control API; m.mu is held.
func (l *login) wire() control.Login {
	return control.Login{
		ID: l.id, Account: l.target.Account, Dir: l.target.Dir, NewAccount: l.target.New, Manual: l.manual,
		AuthorizeURL: l.url, ExpiresAt: l.expires, Status: l.status, Reason: l.reason,
		Email: l.out.Email, Organization: l.out.Organization, Subscription: l.out.Subscription, RateLimitTier: l.out.RateLimitTier,
	}
}

// Get returns the login with id; an unknown one gives an error wrapping
// control.ErrNotFound.
func (m *Manager) Get(id string) (control.Login, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.logins[id]
	if !ok {
		return control.Login{}, fmt.Errorf("%w: no login %q (a finished login is forgotten after %s)", control.ErrNotFound, id, keep)
	}
	return l.wire(), nil
}

// Code completes a manual login with the "<code>#<state>" its page showed
// and returns it completed or failed. A code of another login, or one
// without its state, gives an error wrapping control.ErrInvalid and leaves
// the login pending.
func (m *Manager) Code(ctx context.Context, id, pasted string) (control.Login, error) {
	m.mu.Lock()
	l, ok := m.logins[id]
	m.mu.Unlock()
	if !ok {
		return control.Login{}, fmt.Errorf("%w: no login %q", control.ErrNotFound, id)
	}
	if !l.manual {
		return control.Login{}, fmt.Errorf("%w: login %s waits for the browser to come back to this computer; it takes no pasted code (start a manual login instead)", control.ErrInvalid, id)
	}
	code, state, ok := strings.Cut(strings.TrimSpace(pasted), "#")
	if !ok || code == "" || state == "" {
		return control.Login{}, fmt.Errorf("%w: paste the whole string the page shows after logging in: <code>#<state>", control.ErrInvalid)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(l.state)) != 1 {
		return control.Login{}, fmt.Errorf("%w: this code belongs to another login: paste the one the page of this login's URL shows", control.ErrInvalid)
	}
	return m.complete(ctx, l, code), nil
}

// Cancel ends the pending login with id because whoever started it no
// longer waits for it (a dialog closed, a command interrupted): it fails
// with CancelledReason, its listener closes, and a browser coming back
// later finds nothing. Nobody is told (Options.Failed is not called): the
// one who cancelled knows. A login that is over, or whose code is being
// exchanged, is left to end as it does. Cancel returns the login as it
// stands then; an unknown id gives an error wrapping control.ErrNotFound.
func (m *Manager) Cancel(id string) (control.Login, error) {
	m.mu.Lock()
	l, ok := m.logins[id]
	if !ok {
		m.mu.Unlock()
		return control.Login{}, fmt.Errorf("%w: no login %q", control.ErrNotFound, id)
	}
	cancelled := l.status == control.LoginPending && !l.claimed
	if cancelled {
		l.status, l.reason = control.LoginFailed, CancelledReason
		m.endLocked(l)
	}
	out := l.wire()
	m.mu.Unlock()
	if cancelled {
		m.log.Info("login cancelled", "account", l.target.Account, "login", l.id)
	}
	return out, nil
}

// callback answers the browser coming back to a login's loopback listener.
func (m *Manager) callback(l *login) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
			page(w, http.StatusBadRequest, "This link does not belong to the MaxRouter login under way.", "Start the login again from MaxRouter.")
			return
		}
		if e := q.Get("error"); e != "" {
			why := strings.TrimSpace(q.Get("error_description"))
			if why == "" {
				why = e
			}
			reason := "the login was refused: " + shorten(why)
			m.fail(l, reason)
			page(w, http.StatusOK, "MaxRouter: "+reason+".", "You can close this tab.")
			return
		}
		code := q.Get("code")
		if code == "" {
			page(w, http.StatusBadRequest, "The browser came back without a code.", "Start the login again from MaxRouter.")
			return
		}
		got := m.complete(r.Context(), l, code)
		if got.Status == control.LoginCompleted {
			who := got.Email
			if who == "" {
				who = got.Account
			}
			page(w, http.StatusOK, "MaxRouter: logged in as "+who+".", "You can close this tab.")
			return
		}
		page(w, http.StatusOK, "MaxRouter: the login failed: "+got.Reason+".", "You can close this tab and start it again.")
	})
	return mux
}

// page answers the browser with a small page of two lines.
func page(w http.ResponseWriter, status int, title, line string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<meta charset=\"utf-8\"><title>MaxRouter</title>\n"+
		"<body style=\"font-family:sans-serif;margin:4em auto;max-width:36em\"><h2>%s</h2><p>%s</p></body>\n",
		html.EscapeString(title), html.EscapeString(line))
}

// complete exchanges code for l's tokens and stores them, once per login;
// it returns the login as it stands then (a login already finished, or
// being finished by another request, is returned as it is).
func (m *Manager) complete(ctx context.Context, l *login, code string) control.Login {
	m.mu.Lock()
	if l.status != control.LoginPending || l.claimed {
		out := l.wire()
		m.mu.Unlock()
		return out
	}
	l.claimed = true
	m.ex.Add(1)
	m.mu.Unlock()
	defer m.ex.Done()
	// The browser going away must not cut the exchange: the code is
	// single use.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
	defer cancel()
	_, tokenURL := m.o.Endpoints()
	tok, err := m.exchange(ctx, tokenURL, code, l)
	if err != nil {
		m.fail(l, err.Error())
		return m.wire(l)
	}
	out, err := m.o.Store(ctx, l.target, tok)
	if err != nil {
		m.fail(l, err.Error())
		return m.wire(l)
	}
	m.mu.Lock()
	if l.status == control.LoginPending {
		l.status, l.reason, l.out = control.LoginCompleted, out.Note, out
		m.endLocked(l)
	}
	m.mu.Unlock()
	m.log.Info("login completed", "account", l.target.Account, "login", l.id, "new_account", l.target.New)
	return m.wire(l)
}

func (m *Manager) wire(l *login) control.Login {
	m.mu.Lock()
	defer m.mu.Unlock()
	return l.wire()
}

// abandon fails l for reason unless its code is being exchanged: that
// exchange decides.
func (m *Manager) abandon(l *login, reason string) { m.end(l, reason, false) }

// fail ends l, still pending, as failed for reason.
func (m *Manager) fail(l *login, reason string) { m.end(l, reason, true) }

// end fails l, still pending (and, unless claimed is true, without a code
// being exchanged), for reason.
func (m *Manager) end(l *login, reason string, claimed bool) {
	m.mu.Lock()
	if l.status != control.LoginPending || (l.claimed && !claimed) {
		m.mu.Unlock()
		return
	}
	l.status, l.reason = control.LoginFailed, reason
	m.endLocked(l)
	m.mu.Unlock()
	m.log.Warn("login failed", "account", l.target.Account, "login", l.id, "reason", reason)
	if m.o.Failed != nil {
		m.o.Failed(l.target, reason)
	}
}

// endLocked stops l's timer and listeners; m.mu is held.
func (m *Manager) endLocked(l *login) {
	l.ended = time.Now()
	if l.timer != nil {
		l.timer.Stop()
	}
	servers := l.servers
	l.servers = nil
	m.stop(servers)
}

// stop shuts the listeners down once the answers they are writing (the
// page of the callback that ended the login) are out.
func (m *Manager) stop(servers []*http.Server) {
	for _, srv := range servers {
		m.wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if srv.Shutdown(ctx) != nil {
				srv.Close()
			}
		})
	}
}

// Close fails every login still waiting for its browser ("the daemon
// stopped"), refuses new ones, and waits for the codes being exchanged to
// be stored and for the listeners to close.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	var pending []*login
	for _, l := range m.logins {
		if l.status == control.LoginPending {
			pending = append(pending, l)
		}
	}
	m.mu.Unlock()
	for _, l := range pending {
		m.abandon(l, "the daemon stopped")
	}
	m.ex.Wait()
	m.wg.Wait()
}

// tokenAnswer is the token endpoint's answer to a code exchange.
type tokenAnswer struct {
	AccessToken      string  `json:"access_token"`
	RefreshToken     string  `json:"refresh_token"`
	ExpiresIn        float64 `json:"expires_in"`
	RefreshExpiresIn float64 `json:"refresh_token_expires_in"`
	Scope            string  `json:"scope"`
	Account          struct {
		Email string `json:"email_address"`
	} `json:"account"`
	Organization struct {
		Name string `json:"name"`
	} `json:"organization"`
}

// exchange trades code for l's token pair.
func (m *Manager) exchange(ctx context.Context, tokenURL, code string, l *login) (Tokens, error) {
	body, _ := json.Marshal(map[string]string{
		"grant_type": "authorization_code", "code": code, "redirect_uri": l.redirect,
		"client_id": m.o.ClientID, "code_verifier": l.verifier, "state": l.state,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, bytes.NewReader(body))
	if err != nil {
		return Tokens{}, fmt.Errorf("token endpoint %q: %w", tokenURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	sent := time.Now()
	resp, err := m.o.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Tokens{}, fmt.Errorf("can't reach the token endpoint (%s): %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Tokens{}, fmt.Errorf("reading the token endpoint's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Tokens{}, fmt.Errorf("the token endpoint refused the login (%s)%s", resp.Status, oauthError(data))
	}
	var a tokenAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return Tokens{}, fmt.Errorf("reading the token endpoint's answer: %w", err)
	}
	if a.AccessToken == "" {
		return Tokens{}, errors.New("the token endpoint's answer has no access token")
	}
	t := Tokens{
		Access: a.AccessToken, Refresh: a.RefreshToken, Scopes: strings.Fields(a.Scope),
		Email: a.Account.Email, Organization: a.Organization.Name,
	}
	// Whole milliseconds: what the credential file keeps.
	if a.ExpiresIn > 0 {
		t.ExpiresAt = time.UnixMilli(sent.Add(time.Duration(a.ExpiresIn * float64(time.Second))).UnixMilli())
	}
	if a.RefreshExpiresIn > 0 {
		t.RefreshExpiresAt = time.UnixMilli(sent.Add(time.Duration(a.RefreshExpiresIn * float64(time.Second))).UnixMilli())
	}
	if len(t.Scopes) == 0 {
		t.Scopes = strings.Fields(Scopes)
	}
	return t, nil
}

// oauthError is ": <error>: <description>" of an OAuth error body,
// shortened, or "" for another body.
func oauthError(data []byte) string {
	var e struct {
		Error       any    `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(data, &e) != nil {
		return ""
	}
	var s string
	switch v := e.Error.(type) {
	case string:
		s = v
	case map[string]any:
		s, _ = v["message"].(string)
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	if s == "" {
		return ""
	}
	return ": " + shorten(s)
}

// shorten bounds a text from outside to one line of 200 bytes.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
