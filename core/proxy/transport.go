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

// rotator is the ReverseProxy's Transport: for one client request it tries
// accounts in turn until one answers with something the client should see.
// Everything here happens before the first response byte reaches the
// client, which is what makes retrying safe.
type rotator struct {
	h    *Handler
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *rotator) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.h
	st, _ := req.Context().Value(ctxKey{}).(*request)
	if st == nil {
		st = &request{}
	}
	pick := account.Request{Family: st.family, Session: st.session}
	var lastErr error
	out := req
	for attempt := 0; ; attempt++ {
		a, err := h.pool.Pick(&pick)
		if err != nil {
			if lastErr != nil && isExhaustedByTries(err) {
				return nil, lastErr // every account failed to connect: say why
			}
			return nil, err
		}
		if attempt > 0 {
			h.metrics.failover()
			out = req.Clone(req.Context())
		}
		pick.Tried = append(pick.Tried, a)
		resp, err := t.try(out, st, a)
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

// isExhaustedByTries reports whether Pick failed only because every usable
// account was tried already (as opposed to all of them resting).
func isExhaustedByTries(err error) bool {
	var ex *account.ExhaustedError
	return errors.As(err, &ex)
}

// try sends the request on account a. It returns the response the client
// should get, or (nil, nil) to move on to the next account, or an error
// for a connection failure (also moving on).
func (t *rotator) try(req *http.Request, st *request, a *account.Account) (*http.Response, error) {
	h := t.h
	ctx := req.Context()
	cred := a.Credential()
	if cred == nil {
		return nil, nil
	}
	tok, err := cred.Token(ctx)
	if err != nil {
		t.credentialFailed(a, err)
		return nil, nil
	}
	refreshed := false
	for {
		setBody(req, st.body)
		req.Header.Set("Authorization", "Bearer "+tok.Access)
		done := a.Begin()
		sreq, s := h.bound(req, a, st)
		resp, err := t.base.RoundTrip(sreq)
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
			if h.usage != nil && ctx.Err() == nil { // a client that left is no upstream failure
				h.usage.Answered(a.Name, 0, -1, -1)
			}
			h.pool.Failed(a, err, false)
			h.log.Warn("upstream request failed", "account", a.Name, "err", err)
			return nil, err
		}
		h.metrics.request(a.Name, resp.StatusCode)
		now := h.now()
		info := ratelimit.Parse(resp.Header)
		if h.usage != nil {
			h.usage.Answered(a.Name, resp.StatusCode, utilization(info.FiveHour), utilization(info.SevenDay))
		}
		v := ratelimit.Classify(resp.StatusCode, info, now, time.Duration(h.cooldown.Load()))
		h.pool.Observe(a, info, v, st.family)
		switch v.Kind {
		case ratelimit.OK:
			resp.Body = watch(resp, a, h, st, s, done)
			return resp, nil
		case ratelimit.Unauthorized:
			discard(resp)
			s.done()
			done()
			if refreshed {
				h.pool.NeedsLogin(a, "access token rejected right after a refresh: log in again")
				return nil, nil
			}
			refreshed = true
			nt, err := cred.Refresh(ctx, tok.Access)
			if err != nil {
				t.credentialFailed(a, err)
				return nil, nil
			}
			tok = nt // the daemon announces refreshes (credential.Options.OnRefresh)
			continue
		default:
			h.log.Info("account unavailable, trying the next", "account", a.Name, "status", resp.StatusCode, "reason", v.Reason, "until", v.Until)
			discard(resp)
			s.done()
			done()
			return nil, nil
		}
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
	t.h.pool.Failed(a, err, false)
}

func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
}
