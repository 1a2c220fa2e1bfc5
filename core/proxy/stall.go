package proxy

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// An upstream that stops answering is bounded twice: the wait for its
// response headers (Options.ResponseTimeout for a request that does not
// stream, StreamIdleTimeout for one that does), and then the silences in
// its body (StreamIdleTimeout). One timer per attempt serves both, and
// costs nothing per event: while the body flows a Read only bumps a
// counter, and the timer ticks every quarter of the bound and cuts the
// attempt after stallTicks ticks in a row that saw no byte, that is after
// a silence of one to one and a quarter bounds. Whether the request
// streams is read from its body only when the shorter bound has passed
// without headers (a search of an 80 KB body costs as much as the rest
// of the request).
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
	h        *Handler
	a        *account.Account
	st       *request // its body is held until done
	cancel   context.CancelCauseFunc
	mu       sync.Mutex // orders the timer's uses, and tick after bound
	timer    *time.Timer
	start    time.Time
	response time.Duration // for the headers of a request that does not stream; 0: no bound
	idle     time.Duration // for those of one that does, and silences in the body; 0: no bound
	wait     time.Duration // the bound the wait for headers broke (set before phaseCut)
	key      string        // its configuration key
	ended    atomic.Bool
	phase    atomic.Int32
	reads    atomic.Uint32 // body reads that brought bytes
	seen     uint32        // reads at the last tick (tick's, under mu)
	quiet    int           // ticks in a row without a read (tick's, under mu)
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
	response, idle := time.Duration(h.responseTimeout.Load()), time.Duration(h.streamIdle.Load())
	if response <= 0 && idle <= 0 {
		return req, nil
	}
	s := &stall{h: h, a: a, st: st, start: time.Now(), response: response, idle: idle}
	if st.body != nil {
		st.body.refs.Add(1) // tick may read it after the handler returned
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	s.cancel = cancel
	first := response
	if first <= 0 || (idle > 0 && idle < first) {
		first = idle
	}
	s.mu.Lock()
	s.timer = time.AfterFunc(first, s.tick)
	s.mu.Unlock()
	return req.WithContext(ctx), s
}

// headerBound is how long this attempt may wait for its headers (0: no
// bound), and the configuration key behind it.
func (s *stall) headerBound() (time.Duration, string) {
	if s.st.body != nil && streams(s.st.body.data) {
		return s.idle, "stream_idle_timeout"
	}
	return s.response, "response_timeout"
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
	s.mu.Lock()
	if s.idle <= 0 {
		s.timer.Stop()
	} else {
		s.timer.Reset(s.idle / stallTicks)
	}
	s.mu.Unlock()
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

// done ends the attempt: the timer stops, the context and the body go.
func (s *stall) done() {
	if s == nil || s.ended.Swap(true) {
		return
	}
	s.phase.CompareAndSwap(phaseAnswered, phaseDone)
	s.phase.CompareAndSwap(phaseWaiting, phaseDone)
	s.mu.Lock()
	s.timer.Stop()
	s.mu.Unlock()
	s.cancel(nil)
	if s.st.body != nil {
		s.st.body.release()
	}
}

// tick is the timer's: it cuts a wait that lasted too long, or counts a
// quarter of the idle bound in the body.
func (s *stall) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase.Load() {
	case phaseWaiting:
		wait, key := s.headerBound()
		if wait <= 0 {
			return // no bound on this wait; answered arms the timer for the body
		}
		if left := wait - time.Since(s.start); left > 0 {
			s.timer.Reset(left)
			return
		}
		s.wait, s.key = wait, key
		if s.phase.CompareAndSwap(phaseWaiting, phaseCut) {
			s.cancel(&timeoutError{wait, key})
		}
		// else answered won and watches the body
	case phaseAnswered:
		if n := s.reads.Load(); n != s.seen {
			s.seen, s.quiet = n, 0
		} else if s.quiet++; s.quiet >= stallTicks {
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
	h.pool.Observe(s.a, ratelimit.Info{}, ratelimit.Stalled(h.now()), s.st.family)
	s.cancel(fmt.Errorf("the upstream answer went silent for %v (stream_idle_timeout in the config)", s.idle))
}
