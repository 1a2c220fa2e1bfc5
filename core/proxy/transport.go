package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// drainLimit bounds how much of a failed answer is read to keep its
// connection reusable before it is dropped.
const drainLimit = 64 << 10

// refreshWait bounds how long a request waits for an account's token
// refresh when no other account can take it. The refresh itself goes on
// (it may have used the single-use refresh token already) and the account
// recovers when it succeeds.
const refreshWait = 10 * time.Second

// errDeferred says an account cannot be used until its token refresh,
// started in the background, finishes: the request tries the other
// accounts first and comes back to it only when none can take it.
var errDeferred = errors.New("account deferred until its token is refreshed")

// credError says an account could not be used because its token could not
// be had; the request moves on, and when no account answers, the client is
// told why.
type credError struct {
	account string
	err     error
}

func (e *credError) Error() string {
	return "the token of account " + e.account + " could not be renewed: " + e.err.Error()
}

func (e *credError) Unwrap() error { return e.err }

// rotator is the ReverseProxy's Transport: for one client request it tries
// accounts in turn until one answers with something the client should see.
// Everything here happens before the first response byte reaches the
// client, which is what makes retrying safe. A request never waits for a
// token refresh while another account can take it.
type rotator struct {
	h    *Handler
	base http.RoundTripper
}

// deferral is an account put aside until its token is refreshed; stale is
// the token the upstream rejected ("" when it merely expired).
type deferral struct {
	a     *account.Account
	stale string
}

// RoundTrip implements http.RoundTripper.
func (t *rotator) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.h
	st, _ := req.Context().Value(ctxKey{}).(*request)
	if st == nil {
		st = &request{}
	}
	pick := account.Request{Family: st.family, Session: st.session}
	var (
		lastErr  error
		deferred []deferral
		sent     bool // an attempt went upstream: the next one is a failover
	)
	out := req
	for {
		a, err := h.pool.Pick(&pick)
		var wait *deferral
		if err != nil {
			if len(deferred) == 0 {
				return nil, failure(err, lastErr)
			}
			// Nothing else can take it: wait for the first refresh.
			wait, deferred = &deferred[0], deferred[1:]
			a = wait.a
		} else {
			pick.Tried = append(pick.Tried, a)
		}
		if sent {
			h.metrics.failover()
			out = req.Clone(req.Context())
		}
		resp, sentWith, err := t.try(out, st, a, wait)
		if sentWith != "" {
			sent = true
		}
		if err == errDeferred {
			deferred = append(deferred, deferral{a, sentWith})
			continue
		}
		if err != nil {
			if req.Context().Err() != nil {
				return nil, err
			}
			lastErr = err
			continue
		}
		if resp != nil {
			return resp, nil
		}
	}
}

// failure chooses what the client is told when no account is left: why
// Pick found none (every account resting, or needing a login), unless the
// accounts this request tried failed in a way that says more (the upstream
// could not be reached, a token could not be renewed).
func failure(pickErr, lastErr error) error {
	var ex *account.ExhaustedError
	if lastErr == nil || !errors.As(pickErr, &ex) {
		return pickErr
	}
	if errors.Is(lastErr, credential.ErrNeedsLogin) {
		return pickErr // "all need a login" says it for every account
	}
	return lastErr
}

// try sends the request on account a. It returns the response the client
// should get, or (nil, nil) to move on to the next account, or an error
// for a connection failure (also moving on), or errDeferred when a's token
// must be refreshed first: the refresh runs in the background and the
// request comes back to a (with wait set) only when no other account can
// take it. sentWith is the token the request went upstream with ("" when it
// did not go): with errDeferred, the token the upstream rejected.
func (t *rotator) try(req *http.Request, st *request, a *account.Account, wait *deferral) (resp *http.Response, sentWith string, err error) {
	h := t.h
	ctx := req.Context()
	cred := a.Credential()
	if cred == nil {
		return nil, "", nil
	}
	tok, due, usable := cred.Peek()
	if due {
		h.pool.Renew(a, "") // refresh ahead of expiry, in the background
	}
	refreshed := false
	switch {
	case wait != nil:
		// Back to an account put aside: wait (bounded) for its refresh.
		wctx, cancel := context.WithTimeout(ctx, refreshWait)
		if wait.stale != "" {
			tok, err = cred.Refresh(wctx, wait.stale)
			refreshed = true
		} else {
			tok, err = cred.Token(wctx)
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			t.credentialFailed(a, err)
			return nil, "", &credError{a.Name, err}
		}
	case !usable:
		return nil, "", errDeferred
	}
	setBody(req, st.body)
	req.Header.Set("Authorization", "Bearer "+tok.Access)
	done := a.Begin()
	sreq, s := h.bound(req, a, st)
	resp, err = t.base.RoundTrip(sreq)
	if err == nil && !s.answered() {
		resp.Body.Close() // came just as the wait was given up
		resp, err = nil, s.timedOut()
	}
	if err != nil {
		if te := s.timedOut(); te != nil {
			err = te
			h.pool.Observe(a, ratelimit.Info{}, ratelimit.Stalled(h.now()), st.family)
		}
		s.done()
		done()
		h.metrics.request(a.Name, 0)
		if ctx.Err() != nil { // a client that left is no upstream failure
			return nil, tok.Access, err
		}
		if h.usage != nil {
			h.usage.Answered(a.Name, 0, -1, -1)
		}
		h.pool.NoteError(a, err)
		h.log.Warn("upstream request failed", "account", a.Name, "err", err)
		return nil, tok.Access, err
	}
	h.metrics.request(a.Name, resp.StatusCode)
	now := h.now()
	info := ratelimit.Parse(resp.Header)
	if h.usage != nil {
		h.usage.Answered(a.Name, resp.StatusCode, utilization(info.FiveHour), utilization(info.SevenDay))
		if info.OverageInUse {
			h.usage.ExtraUsage(a.Name)
		}
	}
	v := ratelimit.Classify(resp.StatusCode, info, now, time.Duration(h.cooldown.Load()))
	h.pool.ObserveAt(a, info, v, st.family, now)
	switch v.Kind {
	case ratelimit.OK:
		resp.Body = watch(resp, a, h, st, s, done)
		return resp, tok.Access, nil
	case ratelimit.Unauthorized:
		discard(resp)
		s.done()
		done()
		if refreshed {
			h.pool.NeedsLogin(a, "access token rejected right after a refresh: log in again")
			return nil, tok.Access, nil
		}
		if !h.pool.Rejected(a, tok.Access) {
			return nil, tok.Access, nil // the login is dead
		}
		// A fresh token is on its way; try the others meanwhile.
		return nil, tok.Access, errDeferred
	default:
		h.log.Info("account unavailable, trying the next", "account", a.Name, "status", resp.StatusCode, "reason", v.Reason, "until", v.Until)
		discard(resp)
		s.done()
		done()
		return nil, tok.Access, nil
	}
}

// utilization is the window's utilization, or -1 when the answer gave none.
func utilization(w ratelimit.Window) float64 {
	if w.HasUtilization {
		return w.Utilization
	}
	return -1
}

// credentialFailed puts an account whose token cannot be had out of
// rotation: for good (needs a login) or until its file changes.
func (t *rotator) credentialFailed(a *account.Account, err error) {
	if errors.Is(err, credential.ErrNeedsLogin) {
		t.h.pool.NeedsLogin(a, err.Error())
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	t.h.log.Warn("no token for account", "account", a.Name, "err", err)
	t.h.pool.Failed(a, err)
}

func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
}
