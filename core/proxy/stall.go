package proxy

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// An upstream that stops answering is bounded twice: the wait for its
// response headers (Options.ResponseTimeout for a request that does not
// stream, StreamIdleTimeout for one that does), and then the silences in
// its body (StreamIdleTimeout). One timer per attempt serves both. While
// the body flows a Read only bumps a counter: the timer ticks every
// quarter of the bound and cuts the attempt after stallTicks ticks in a
// row that saw no byte, that is after a silence of one to one and a
// quarter bounds. No timer is reset per event.
const stallTicks = 4

// The phases of a stall.
const (
	phaseWaiting  int32 = iota // for the response headers
	phaseAnswered              // headers in; the body is watched
	phaseCut                   // the timer cut the attempt
	phaseDone                  // the attempt ended otherwise
)

// stall bounds one upstream attempt. A nil *stall bounds nothing.
type stall struct {
	h      *Handler
	a      *account.Account
	family string
	cancel context.CancelCauseFunc
	timer  *time.Timer
	wait   time.Duration // for the headers; 0: no bound
	key    string        // the configuration key behind wait
	idle   time.Duration // silence in the body; 0: no bound
	phase  atomic.Int32
	reads  atomic.Uint32 // body reads that brought bytes
	seen   atomic.Uint32 // reads at the last tick (only the timer writes it)
	quiet  atomic.Int32  // ticks in a row without a read (only the timer writes it)
}

// timeoutError is an attempt given up for want of an answer.
type timeoutError struct {
	wait time.Duration
	key  string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer from the upstream within %v (%s in the config)", e.wait, e.key)
}

// bound returns req with a context the stall can cut, and the stall; with
// no bound configured, req itself and nil.
func (h *Handler) bound(req *http.Request, a *account.Account, st *request) (*http.Request, *stall) {
	wait, key := time.Duration(h.responseTimeout.Load()), "response_timeout"
	idle := time.Duration(h.streamIdle.Load())
	if st.stream {
		wait, key = idle, "stream_idle_timeout"
	}
	if wait <= 0 && idle <= 0 {
		return req, nil
	}
	s := &stall{h: h, a: a, family: st.family, wait: wait, key: key, idle: idle}
	ctx, cancel := context.WithCancelCause(req.Context())
	s.cancel = cancel
	if wait > 0 {
		s.timer = time.AfterFunc(wait, s.tick)
	}
	return req.WithContext(ctx), s
}

// answered reports that the response headers are in and starts watching
// the body; false means the timer cut the wait first.
func (s *stall) answered() bool {
	if s == nil {
		return true
	}
	if !s.phase.CompareAndSwap(phaseWaiting, phaseAnswered) {
		return false
	}
	switch {
	case s.idle <= 0:
		if s.timer != nil {
			s.timer.Stop()
		}
	case s.timer == nil:
		s.timer = time.AfterFunc(s.idle/stallTicks, s.tick)
	default:
		s.timer.Reset(s.idle / stallTicks)
	}
	return true
}

// timedOut returns the error of an attempt the timer cut before its
// headers came, or nil.
func (s *stall) timedOut() error {
	if s == nil || s.phase.Load() != phaseCut {
		return nil
	}
	return &timeoutError{s.wait, s.key}
}

// read counts a Read of the body that brought bytes.
func (s *stall) read() {
	if s != nil {
		s.reads.Add(1)
	}
}

// done ends the attempt: the timer stops and the context goes.
func (s *stall) done() {
	if s == nil {
		return
	}
	s.phase.CompareAndSwap(phaseAnswered, phaseDone)
	s.phase.CompareAndSwap(phaseWaiting, phaseDone)
	if s.timer != nil {
		s.timer.Stop()
	}
	s.cancel(nil)
}

// tick is the timer's: it cuts a wait that lasted too long, or counts a
// quarter of the idle bound in the body.
func (s *stall) tick() {
	switch s.phase.Load() {
	case phaseWaiting:
		if s.phase.CompareAndSwap(phaseWaiting, phaseCut) {
			s.cancel(&timeoutError{s.wait, s.key})
		}
		// else answered won and watches the body
	case phaseAnswered:
		if n := s.reads.Load(); n != s.seen.Load() {
			s.seen.Store(n)
			s.quiet.Store(0)
		} else if s.quiet.Add(1) >= stallTicks {
			if s.phase.CompareAndSwap(phaseAnswered, phaseCut) {
				s.cut()
			}
			return
		}
		s.timer.Reset(s.idle / stallTicks)
	}
}

// cut ends an answer that went silent after its headers: the client sees
// it end with an error (the bytes it has are all it gets), and the
// account pauses briefly so the next request goes elsewhere.
func (s *stall) cut() {
	h := s.h
	h.log.Warn("upstream answer went silent; cut", "account", s.a.Name, "silent_for", s.idle, "key", "stream_idle_timeout")
	h.pool.Observe(s.a, ratelimit.Info{}, ratelimit.Stalled(h.now()), s.family)
	s.cancel(fmt.Errorf("the upstream answer went silent for %v (stream_idle_timeout in the config)", s.idle))
}
