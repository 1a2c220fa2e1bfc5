package credential

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/internal/flock"
)

// errInvalidGrant marks the token endpoint's answer for a dead refresh token.
var errInvalidGrant = errors.New("invalid_grant")

// flight is one refresh in progress; done is closed when tok and err are set.
type flight struct {
	done chan struct{}
	tok  Token
	err  error
}

// do runs run(stale, force) once for all concurrent callers: a caller that
// finds a refresh in flight waits for it and shares its result (shared is
// true). The refresh itself does not stop when a caller's ctx is done: it
// may already have used the single-use refresh token, so it runs (bounded by
// flightTimeout) until it has saved the new pair.
func (s *Source) do(ctx context.Context, stale string, force bool) (tok Token, shared bool, err error) {
	s.mu.Lock()
	f := s.flight
	shared = f != nil
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.flight = f
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
		go func() {
			defer cancel()
			f.tok, f.err = s.run(fctx, stale, force)
			s.mu.Lock()
			s.flight = nil
			s.mu.Unlock()
			close(f.done)
		}()
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, shared, f.err
	case <-ctx.Done():
		return Token{}, shared, ctx.Err()
	}
}

// run makes sure the token is usable: for Token (force false) that it is
// not due for a refresh, for Refresh (force true) that it differs from the
// rejected token stale. It re-reads the file first and refreshes only when
// the file has nothing better.
func (s *Source) run(ctx context.Context, stale string, force bool) (Token, error) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()

	now := s.now()
	good := func(st *state) bool {
		if force {
			return st.tok.Access != stale && valid(st.tok, now)
		}
		return now.Before(st.refreshAt)
	}
	if cur := s.cur.Load(); good(cur) {
		return cur.tok, nil // someone else got there first
	}
	// Another MaxRouter process (a second daemon with its own config) may
	// be refreshing this login right now: wait for it, then read its result.
	locked := false
	if s.dir == "" {
		// a token given in config: nothing on disk to share
	} else if unlock, err := flock.Lock(ctx, s.dir); err == nil {
		defer unlock()
		locked = true
	} else if ctx.Err() != nil {
		return Token{}, fmt.Errorf("refreshing token for %s: waiting for another MaxRouter process to finish refreshing it: %w", s.dir, err)
	} else {
		s.log.Warn("cannot lock the credential directory against other MaxRouter processes; refreshing without", "dir", s.dir, "err", err)
	}
	cf, err := discover(s.dir)
	if err != nil {
		if errors.Is(err, ErrNoCredentials) {
			return Token{}, s.needsLogin(err.Error())
		}
		return Token{}, fmt.Errorf("refreshing token for %s: %w", s.dir, err)
	}
	// A MaxRouter process killed during its write-back may have left the
	// live pair in a temp file, and the file's refresh token spent.
	if locked {
		if rc := s.recoverLeftovers(cf); rc != nil {
			cf = rc
		}
	}
	cur := s.adopt(cf)
	if good(cur) {
		return cur.tok, nil // Claude Code refreshed it
	}
	if cur.refresh == "" {
		if !force && valid(cur.tok, now) {
			return cur.tok, nil
		}
		if force {
			return Token{}, s.needsLogin("the access token was rejected and there is no refresh token")
		}
		return Token{}, s.needsLogin("the access token expired and there is no refresh token")
	}
	if cur.refresh == s.dead {
		return Token{}, s.needsLogin("refresh token rejected (invalid_grant)")
	}

	// Once the endpoint answers, the new pair exists nowhere but here until
	// it is on disk: the temp file is made now, so that writing it is
	// then the least work there is. A pair written to it is safe from a
	// kill (recoverLeftovers takes it up), even before the rename.
	plan, err := newRewriter(cf.raw)
	if err != nil { // cf parsed with a token: cannot happen
		return Token{}, fmt.Errorf("refreshing token for %s: cannot rewrite %s: %w", s.dir, cf.path, err)
	}
	pend, perr := s.prepare(cf.path, 0o600)
	if perr == nil {
		defer pend.Discard() // does nothing once committed
	}
	resp, err := s.exchange(ctx, cur.refresh)
	if errors.Is(err, errInvalidGrant) {
		// Claude Code may have used the same refresh token a moment ago.
		if cf2, err2 := discover(s.dir); err2 == nil && cf2.refresh != cur.refresh {
			if next := s.adopt(cf2); next.tok.Access != stale && valid(next.tok, now) {
				return next.tok, nil
			}
		}
		s.dead = cur.refresh
		s.log.Warn("refresh token rejected; the account needs a new login")
		return Token{}, s.needsLogin("refresh token rejected (invalid_grant)")
	}
	if err != nil {
		if !force {
			// Do not hammer the endpoint while the old token still works.
			retry := *cur
			retry.refreshAt = minTime(now.Add(retryDelay), cur.tok.ExpiresAt)
			s.cur.Store(&retry)
		}
		return Token{}, fmt.Errorf("refreshing token for %s: %w", s.dir, err)
	}

	var expires time.Time
	if resp.ExpiresIn > 0 {
		// Whole milliseconds and no monotonic reading: what the file keeps.
		expires = time.UnixMilli(now.Add(time.Duration(resp.ExpiresIn * float64(time.Second))).UnixMilli())
	}
	refresh := resp.RefreshToken
	if refresh == "" {
		refresh = cur.refresh
	}
	next := &state{
		tok:     Token{Access: resp.AccessToken, ExpiresAt: expires},
		refresh: refresh,
		info:    cur.info,
	}
	next.info.ExpiresAt = expires
	next.info.CanRefresh = true
	next.refreshAt = s.refreshAt(expires, true)
	s.save(cf, plan, next, pend, perr)
	s.cur.Store(next)
	s.log.Info("refreshed access token", "path", cf.path, "expires_at", expires)
	if s.opts.OnRefresh != nil {
		s.opts.OnRefresh()
	}
	return next.tok, nil
}

// save writes the refreshed pair into the file cf was read from, through
// pend (prepared before the exchange; perr when that failed). When the file
// cannot be written the pair lives on in memory only, and a file still
// holding the old token is ignored from then on.
func (s *Source) save(cf *credFile, plan *rewriter, next *state, pend pending, perr error) {
	err := perr
	if err == nil {
		err = pend.Commit(newContent(cf, plan, next))
	}
	if err != nil {
		s.log.Error("could not save the refreshed token; keeping it in memory", "path", cf.path, "err", err)
		s.unsaved = cf.access
		return
	}
	s.unsaved = ""
}

// newContent is cf's file with next's pair in it. The file is read again:
// when Claude Code changed it meanwhile, its new content is rewritten, so
// that the keys it changed are kept. Otherwise plan (cf's content, parsed
// before the exchange) only has the new values spliced in: the least work
// there is between the endpoint's answer and the pair on disk.
func newContent(cf *credFile, plan *rewriter, next *state) []byte {
	access, refresh, expires := next.tok.Access, next.refresh, next.tok.ExpiresAt
	if latest, err := os.ReadFile(cf.path); err == nil && !bytes.Equal(latest, cf.raw) {
		if out, err := rewrite(latest, access, refresh, expires); err == nil {
			return out
		}
	}
	return plan.fill(access, refresh, expires)
}

// needsLogin wraps ErrNeedsLogin with the reason and what to do.
func (s *Source) needsLogin(reason string) error {
	return fmt.Errorf("refreshing token for %s: %w: %s: log in again with CLAUDE_CONFIG_DIR=%s claude /login",
		s.dir, ErrNeedsLogin, reason, s.dir)
}

// valid reports whether tok has not expired at now (unknown expiry counts
// as valid).
func valid(tok Token, now time.Time) bool {
	return tok.ExpiresAt.IsZero() || now.Before(tok.ExpiresAt)
}

func minTime(a, b time.Time) time.Time {
	if !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// tokenResponse is the token endpoint's answer (only the fields used).
type tokenResponse struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	ExpiresIn    float64 `json:"expires_in"`
}

// exchange trades a refresh token for a new pair. A 400 or 401 with
// invalid_grant wraps errInvalidGrant.
func (s *Source) exchange(ctx context.Context, refresh string) (tokenResponse, error) {
	body, err := json.Marshal(struct {
		GrantType    string `json:"grant_type"`
		RefreshToken string `json:"refresh_token"`
		ClientID     string `json:"client_id"`
	}{"refresh_token", refresh, s.opts.ClientID})
	if err != nil {
		return tokenResponse{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ep.Load().tokenURL, bytes.NewReader(body))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return tokenResponse{}, unreachable(req.URL.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("reading token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		code, desc := oauthError(data)
		if (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized) && code == "invalid_grant" {
			return tokenResponse{}, fmt.Errorf("token endpoint answered %s: %w", resp.Status, errInvalidGrant)
		}
		msg := "token endpoint answered " + resp.Status
		if code != "" {
			msg += ": " + code
		}
		if desc != "" {
			msg += ": " + desc
		}
		return tokenResponse{}, errors.New(msg)
	}
	var tr tokenResponse
	if err := json.Unmarshal(data, &tr); err != nil {
		return tokenResponse{}, fmt.Errorf("decoding token response: %w", err)
	}
	if tr.AccessToken == "" {
		return tokenResponse{}, errors.New("token response has no access_token")
	}
	return tr, nil
}

// unreachable says, for a person, why the token endpoint at host gave no
// answer: err is what the HTTP client returned.
func unreachable(host string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("the token endpoint (%s) did not answer in time: %w", host, err)
	}
	return fmt.Errorf("can't reach the token endpoint (%s): %w", host, err)
}

// oauthError reads the error code and description of an OAuth error body
// ({"error":"invalid_grant","error_description":"…"}) or of an Anthropic
// one ({"type":"error","error":{"type":"…","message":"…"}}). The
// description is shortened: it is for logs, and the body is not trusted.
func oauthError(data []byte) (code, desc string) {
	var e struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"error_description"`
	}
	if json.Unmarshal(data, &e) != nil {
		return "", ""
	}
	desc = e.Description
	if json.Unmarshal(e.Error, &code) != nil {
		var inner struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(e.Error, &inner) == nil {
			code, desc = inner.Type, inner.Message
		}
	}
	if len(desc) > 200 {
		desc = desc[:200] + "…"
	}
	return strings.TrimSpace(code), strings.TrimSpace(desc)
}
