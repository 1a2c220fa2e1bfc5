// Package credential reads Claude Code's OAuth login from a config
// directory, keeps a valid access token for it, refreshes that token safely
// beside a running Claude Code, and writes the rotated pair back.
//
// Claude Code keeps its login in <dir>/.credentials.json. Refresh tokens are
// single use, so two programs refreshing the same login log each other out.
// A Source therefore re-reads the file just before every refresh (adopting a
// token Claude Code already refreshed), runs at most one refresh at a time,
// and writes the new pair back atomically, changing only the access token,
// refresh token and expiry and keeping every other key of the file. The
// temp file of that write is made before the token endpoint is asked, so
// that the new pair is on disk a write(2) after the answer; if the process
// is killed before the rename, the next Open, Reload or refresh of any
// MaxRouter process takes the pair up from the temp file.
//
// On macOS Claude Code may keep the login in the Keychain (service
// "Claude Code-credentials") instead of a file. The Keychain is not read: an
// account needs a credential file (or a setup token, see Static).
package credential

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/internal/flock"
	"github.com/maxrouter/maxrouter/core/store"
)

// ErrNoCredentials means a directory holds no credential file with a token.
var ErrNoCredentials = errors.New("no credentials found")

// ErrNeedsLogin means the token cannot be refreshed (the refresh token was
// rejected, or the access token expired and there is no refresh token): the
// user must log in again.
var ErrNeedsLogin = errors.New("account needs a new login")

// Options configure a Source. Zero values get defaults.
type Options struct {
	// TokenURL is the OAuth token endpoint.
	// Default "https://platform.claude.com/v1/oauth/token".
	TokenURL string
	// ClientID is Claude Code's OAuth client id.
	// Default "9d1c250a-e61b-44d9-88ed-5944d1962f5e".
	ClientID string
	// HTTPClient posts refresh requests. Default: a client with a 30s timeout.
	HTTPClient *http.Client
	// RefreshBefore is how long before expiry the token is refreshed.
	// Default 5m.
	RefreshBefore time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives refresh and reload messages (never a token).
	// Default slog.Default().
	Logger *slog.Logger
	// OnRefresh, when set, is called after each successful refresh through
	// the token endpoint (not when a token Claude Code refreshed is
	// adopted). It must not block.
	OnRefresh func()
}

// Defaults of Options.
const (
	DefaultTokenURL      = "https://platform.claude.com/v1/oauth/token"
	DefaultClientID      = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
	DefaultRefreshBefore = 5 * time.Minute
)

const (
	// retryDelay is how long a still-valid token is used after a transient
	// refresh failure before Token tries again.
	retryDelay = 30 * time.Second
	// flightTimeout bounds one refresh, whatever the caller's context says:
	// a refresh abandoned mid-flight may have consumed the single-use
	// refresh token, so it runs to completion and saves its result.
	flightTimeout = 60 * time.Second
)

func (o Options) withDefaults() Options {
	if o.TokenURL == "" {
		o.TokenURL = DefaultTokenURL
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = DefaultRefreshBefore
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Token is an access token and when it expires.
type Token struct {
	Access string
	// ExpiresAt is zero when the expiry is unknown or the token is long-lived.
	ExpiresAt time.Time
}

// Info describes a credential without its secrets.
type Info struct {
	Path          string    // the credential file; "" for a static token
	Subscription  string    // subscriptionType, e.g. "max" ("" when unknown)
	RateLimitTier string    // rateLimitTier, e.g. "default_claude_max_20x"
	ExpiresAt     time.Time // access token expiry; zero when unknown
	CanRefresh    bool      // a refresh token is present
	Static        bool      // a setup token given directly: never refreshed
	// Scopes are the token's OAuth scopes, space-separated; "" when the
	// file does not say.
	Scopes string
	// LoginExpiresAt is when the login itself ends (refreshTokenExpiresAt):
	// no refresh works after it. Zero when the file does not say.
	LoginExpiresAt time.Time
}

// Source keeps a valid access token for one account. It is safe for
// concurrent use.
type Source struct {
	dir    string
	static bool
	opts   Options
	now    func() time.Time
	log    *slog.Logger
	// prepare starts a write of the credential file: store.Prepare (a
	// seam for tests).
	prepare func(path string, perm fs.FileMode) (pending, error)

	cur atomic.Pointer[state]
	ep  atomic.Pointer[tokenEndpoint]

	mu     sync.Mutex // guards flight
	flight *flight

	// fileMu serialises reading the credential file into cur and writing it
	// (Reload and refreshes), so an older read never replaces a newer token.
	fileMu sync.Mutex
	// dead is a refresh token the endpoint rejected; it is not sent again.
	dead string
	// unsaved is the access token the file still holds after a refreshed
	// pair could not be written: a file holding it is older than cur.
	unsaved string
}

// tokenEndpoint is the part of Options SetEndpoint changes while the Source is
// in use.
type tokenEndpoint struct {
	tokenURL      string
	refreshBefore time.Duration
}

// state is one immutable snapshot of the credential.
type state struct {
	tok Token
	// refreshAt is when Token stops returning tok without looking further:
	// ExpiresAt-RefreshBefore, ExpiresAt without a refresh token, far future
	// when the expiry is unknown, or a retry time after a failed refresh.
	refreshAt time.Time
	refresh   string
	info      Info
}

// farFuture stands for "never" in refreshAt.
func farFuture() time.Time { return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }

func newSource(dir string, opts Options) *Source {
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "credential")
	if dir != "" {
		log = log.With("dir", dir)
	}
	s := &Source{dir: dir, opts: opts, now: opts.Now, log: log, prepare: prepare}
	s.ep.Store(&tokenEndpoint{opts.TokenURL, opts.RefreshBefore})
	return s
}

// pending is a write of the credential file in preparation (a
// *store.Pending).
type pending interface {
	Commit(data []byte) error
	Discard()
}

func prepare(path string, perm fs.FileMode) (pending, error) {
	p, err := store.Prepare(path, perm)
	if err != nil {
		return nil, err // not a nil *store.Pending in an interface
	}
	return p, nil
}

// write replaces the credential file at path with data.
func (s *Source) write(path string, data []byte) error {
	p, err := s.prepare(path, 0o600)
	if err != nil {
		return err
	}
	return p.Commit(data)
}

// SetEndpoint changes the token endpoint and how long before expiry the
// token is refreshed, as Options.TokenURL and Options.RefreshBefore do
// ("" and 0 mean their defaults). The token and everything else the Source
// knows are kept; a refresh under way finishes with the old endpoint.
func (s *Source) SetEndpoint(tokenURL string, refreshBefore time.Duration) {
	o := Options{TokenURL: tokenURL, RefreshBefore: refreshBefore}.withDefaults()
	old := s.ep.Swap(&tokenEndpoint{o.TokenURL, o.RefreshBefore})
	if s.static || old.refreshBefore == o.RefreshBefore {
		return
	}
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	cur := s.cur.Load()
	next := *cur
	next.refreshAt = s.refreshAt(cur.tok.ExpiresAt, cur.refresh != "")
	s.cur.Store(&next)
}

// newState builds the snapshot of a parsed file.
func (s *Source) newState(cf *credFile) *state {
	st := &state{
		tok:     Token{Access: cf.access, ExpiresAt: cf.expiresAt},
		refresh: cf.refresh,
		info: Info{
			Path:          cf.path,
			Subscription:  cf.subscription,
			RateLimitTier: cf.tier,
			ExpiresAt:     cf.expiresAt,
			CanRefresh:    cf.refresh != "",
		},
	}
	st.info.Scopes, st.info.LoginExpiresAt = cf.scopes, cf.loginExpiresAt
	st.refreshAt = s.refreshAt(st.tok.ExpiresAt, st.refresh != "")
	return st
}

func (s *Source) refreshAt(expires time.Time, canRefresh bool) time.Time {
	switch {
	case expires.IsZero():
		return farFuture()
	case !canRefresh:
		return expires // nothing to do before it expires
	default:
		return expires.Add(-s.ep.Load().refreshBefore)
	}
}

// Open reads the credential file in dir: the first of .credentials.json,
// credentials.json, auth.json, oauth.json and config.json that holds a
// token. The error wraps ErrNoCredentials when there is none, and names the
// file when it is not valid JSON.
//
// Unless another MaxRouter process is refreshing the login right now, Open
// first tidies up after MaxRouter processes killed while writing the file:
// a complete token pair left in one of their temp files that expires later
// than the file's is written into the file (its refresh token is the live
// one: the file's was spent to get it), and the other temp files are
// removed.
func Open(dir string, opts Options) (*Source, error) {
	cf, err := discover(dir)
	if err != nil {
		return nil, err
	}
	s := newSource(dir, opts)
	// A MaxRouter process holding the lock is refreshing this login right
	// now: what it leaves is its own business. Otherwise take up what a
	// killed one left.
	if unlock, err := flock.TryLock(dir); err == nil {
		if rc := s.recoverLeftovers(cf); rc != nil {
			cf = rc
		}
		unlock()
	}
	s.cur.Store(s.newState(cf))
	return s, nil
}

// Static returns a Source for a long-lived token from `claude setup-token`:
// it is never refreshed and Info().Static is true.
func Static(token string, opts Options) *Source {
	s := newSource("", opts)
	s.static = true
	s.cur.Store(&state{
		tok:       Token{Access: token},
		refreshAt: farFuture(),
		info:      Info{Static: true},
	})
	return s
}

// Inspect reads the credential file in dir without keeping anything, to
// validate a directory before it becomes an account.
func Inspect(dir string) (Info, error) {
	cf, err := discover(dir)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		Path:          cf.path,
		Subscription:  cf.subscription,
		RateLimitTier: cf.tier,
		ExpiresAt:     cf.expiresAt,
		CanRefresh:    cf.refresh != "",
	}
	info.Scopes, info.LoginExpiresAt = cf.scopes, cf.loginExpiresAt
	return info, nil
}

// Dir returns the config directory ("" for a static token).
func (s *Source) Dir() string { return s.dir }

// Info describes the current credential.
func (s *Source) Info() Info { return s.cur.Load().info }

// Token returns a valid access token. While the token is fresh this is an
// atomic load and a time comparison. When it expires within RefreshBefore
// (or has expired) and a refresh token exists, it is refreshed first, once
// for all concurrent callers. If the refresh fails for a transient reason
// while the token is still valid, the current token is returned (and the
// refresh retried a little later). The error wraps ErrNeedsLogin when the
// login is dead.
func (s *Source) Token(ctx context.Context) (Token, error) {
	st := s.cur.Load()
	if s.now().Before(st.refreshAt) {
		return st.tok, nil
	}
	return s.renew(ctx, st)
}

// Peek returns the current access token without waiting and without
// refreshing it: due reports that Token would refresh it first (it expires
// within RefreshBefore, or a failed refresh is to be tried again), usable
// that it has not expired yet and can still be sent. While the token is
// fresh this is an atomic load and a time comparison.
func (s *Source) Peek() (tok Token, due, usable bool) {
	st := s.cur.Load()
	now := s.now()
	return st.tok, !now.Before(st.refreshAt), valid(st.tok, now)
}

// renew is Token's slow path, kept apart so the fast path stays small.
func (s *Source) renew(ctx context.Context, st *state) (Token, error) {
	tok, _, err := s.do(ctx, st.tok.Access, false)
	if err == nil {
		return tok, nil
	}
	if errors.Is(err, ErrNeedsLogin) || ctx.Err() != nil {
		return Token{}, err
	}
	if s.now().Before(st.tok.ExpiresAt) {
		s.log.Warn("token refresh failed; using the current token while it lasts",
			"expires_at", st.tok.ExpiresAt, "err", err)
		return st.tok, nil
	}
	return Token{}, err
}

// Refresh is called after the upstream rejected the access token stale
// (401). It re-reads the credential file: if the file holds a different
// token (Claude Code refreshed it), that token is adopted without calling
// the token endpoint; otherwise the token is refreshed. Concurrent callers
// share one refresh. The error wraps ErrNeedsLogin when the login is dead.
func (s *Source) Refresh(ctx context.Context, stale string) (Token, error) {
	if s.static {
		return Token{}, fmt.Errorf("%w: the setup token was rejected: create a new one with claude setup-token", ErrNeedsLogin)
	}
	for range 2 {
		tok, shared, err := s.do(ctx, stale, true)
		if err != nil || tok.Access != stale || !shared {
			return tok, err
		}
		// We joined a refresh started by Token that kept the rejected
		// token (it was not due yet): run our own.
	}
	return s.cur.Load().tok, fmt.Errorf("refreshing token for %s: the token endpoint kept returning the rejected token", s.dir)
}

// Reload re-reads the credential file after it changed on disk, first
// taking up a newer pair that a killed MaxRouter process left in a temp
// file (when no MaxRouter process is refreshing the login now). When the
// new content cannot be used the current token is kept and the error
// returned. It may wait for a refresh in progress.
func (s *Source) Reload() error {
	if s.static {
		return nil
	}
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	cf, err := discover(s.dir)
	if err != nil {
		s.log.Warn("credential file unusable; keeping the current token", "err", err)
		return err
	}
	if unlock, err := flock.TryLock(s.dir); err == nil {
		if rc := s.recoverLeftovers(cf); rc != nil {
			cf = rc
		}
		unlock()
	}
	s.adopt(cf)
	return nil
}

// adopt makes the parsed file the current state when it differs from it,
// and returns the current state. A file still holding the token of a pair
// that could not be saved is older than memory and is ignored. fileMu must
// be held.
func (s *Source) adopt(cf *credFile) *state {
	cur := s.cur.Load()
	if s.unsaved != "" && cf.access == s.unsaved {
		return cur
	}
	s.unsaved = ""
	next := s.newState(cf)
	if cur.tok == next.tok && cur.refresh == next.refresh && cur.info == next.info {
		return cur
	}
	if cur.tok.Access != next.tok.Access {
		s.log.Info("adopted a new token from the credential file", "path", cf.path, "expires_at", next.tok.ExpiresAt)
	}
	s.cur.Store(next)
	return next
}
