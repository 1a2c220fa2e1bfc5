package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/ratelimit"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/usage"
)

// watchedBody wraps an upstream answer on its way to the client: it ends
// the account's in-flight count when the body is closed and, for an event
// stream, notices an `event: error` that ends a 200 with a rate-limit or
// overload error, so the account rests before the next request. With a
// Usage to feed or a client token with limits to charge, it also picks the
// token usage out of a /v1/messages answer: it reports it to the Usage
// when the body ends, and charges it to the client token's budget as soon
// as it is known (a stream's as each event reports it). It looks at the
// bytes as they pass; it never holds them back.
type watchedBody struct {
	io.ReadCloser
	h      *Handler
	a      *account.Account
	family string
	stall  *stall // nil: no bound on silences
	done   func()
	once   sync.Once
	sse    bool
	seen   bool                      // an error event was classified already
	tail   [len(errorEvent) - 1]byte // the end of the stream so far, for a marker split across reads
	tailN  int                       // bytes in tail

	tokens tokenMode
	events sseTokens           // tokens == tokensSSE
	jtail  *[jsonTailSize]byte // tokens == tokensJSON: the body's last bytes (nil until needed)
	jn     int                 // bytes in jtail
	last   []byte              // the final chunk while the body ends within one Read

	grant   token.Grant  // the client token the request was admitted with
	charged usage.Tokens // what was charged to its budget so far
}

// tokenMode is where a body's token usage is read from.
type tokenMode uint8

const (
	tokensNone tokenMode = iota
	tokensSSE            // message_start and message_delta events
	tokensJSON           // the message's usage object, at the end of the body
)

const errorEvent = "event: error"

var errorMarker = []byte(errorEvent)

func watch(resp *http.Response, a *account.Account, h *Handler, st *request, s *stall, done func()) io.ReadCloser {
	plain := resp.Header.Get("Content-Encoding") == ""
	ct := resp.Header.Get("Content-Type")
	sse := plain && strings.HasPrefix(ct, "text/event-stream")
	b := &watchedBody{ReadCloser: resp.Body, h: h, a: a, family: st.family, stall: s, done: done, sse: sse, grant: st.grant}
	if (h.usage != nil || st.grant.Metered()) && st.messages && plain && resp.StatusCode == http.StatusOK {
		switch {
		case sse:
			b.tokens = tokensSSE
		case strings.HasPrefix(ct, "application/json"):
			b.tokens = tokensJSON
		}
	}
	return b
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.stall.read()
		if b.sse && !b.seen {
			b.scan(p[:n])
		}
		switch b.tokens {
		case tokensSSE:
			b.events.feed(p[:n])
			if b.grant.Metered() && b.events.t != b.charged {
				b.charge(b.events.t)
			}
		case tokensJSON:
			if err != nil && b.jtail == nil {
				b.last = p[:n] // the whole body in one read: nothing to copy
			} else {
				b.keepTail(p[:n])
			}
		}
	}
	if err != nil {
		b.finish()
		b.last = nil
	}
	return n, err
}

func (b *watchedBody) scan(chunk []byte) {
	if i := bytes.Index(chunk, errorMarker); i >= 0 {
		b.classify(chunk[i:])
		return
	}
	// The marker may start in the previous reads and end in this one.
	var buf [2 * len(b.tail)]byte
	joined := append(append(buf[:0], b.tail[:b.tailN]...), chunk[:min(len(chunk), len(b.tail))]...)
	if b.tailN > 0 && bytes.Contains(joined, errorMarker) {
		b.classify(chunk)
		return
	}
	if len(chunk) >= len(b.tail) {
		b.tailN = copy(b.tail[:], chunk[len(chunk)-len(b.tail):])
	} else {
		b.tailN = copy(b.tail[:], joined[max(0, len(joined)-len(b.tail)):])
	}
}

// classify reads the error type out of the event data that follows the
// marker. When the data is split over reads the event is missed, which
// costs only a pause that would have sent the next request elsewhere.
func (b *watchedBody) classify(ev []byte) {
	typ := ""
	for _, t := range [...]string{"rate_limit_error", "overloaded_error"} {
		if bytes.Contains(ev, []byte(t)) {
			typ = t
			break
		}
	}
	if typ == "" {
		return
	}
	b.seen = true
	v := ratelimit.StreamError(typ, b.h.now())
	b.h.log.Info("stream ended in an error", "account", b.a.Name, "error", typ)
	b.h.pool.Observe(b.a, ratelimit.Info{}, v, b.family)
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.finish()
	return err
}

func (b *watchedBody) finish() { b.once.Do(b.end) }

func (b *watchedBody) end() {
	b.stall.done()
	b.done()
	if b.tokens != tokensNone {
		b.report()
	}
}

// keepTail keeps the last jsonTailSize bytes of the body seen so far.
func (b *watchedBody) keepTail(p []byte) {
	if b.jtail == nil {
		if t, ok := b.h.tails.Get().(*[jsonTailSize]byte); ok {
			b.jtail = t
		} else {
			b.jtail = new([jsonTailSize]byte)
		}
	}
	if len(p) >= jsonTailSize {
		b.jn = copy(b.jtail[:], p[len(p)-jsonTailSize:])
		return
	}
	if over := b.jn + len(p) - jsonTailSize; over > 0 {
		b.jn = copy(b.jtail[:], b.jtail[over:b.jn])
	}
	b.jn += copy(b.jtail[b.jn:], p)
}

// report hands the body's token usage to the Usage, once.
func (b *watchedBody) report() {
	var (
		t   usage.Tokens
		ok  bool
		err error
	)
	switch b.tokens {
	case tokensSSE:
		t, ok, err = b.events.result()
	case tokensJSON:
		end := b.last
		if b.jtail != nil {
			end = b.jtail[:b.jn]
		}
		t, ok, err = jsonTokens(end)
		if b.jtail != nil {
			b.h.tails.Put(b.jtail)
			b.jtail, b.jn = nil, 0
		}
	}
	b.tokens = tokensNone
	if err != nil {
		b.h.log.Debug("no token usage in the answer", "account", b.a.Name, "err", err)
	}
	if !ok {
		return
	}
	if b.h.usage != nil {
		b.h.usage.Tokens(b.a.Name, b.grant.Client().ID(), t)
	}
	b.charge(t)
}

// charge charges the client token's budget with what t, the usage the
// answer reported so far, adds to what was charged before. A stream's
// usage is cumulative: message_start gives the input, message_delta the
// output so far.
func (b *watchedBody) charge(t usage.Tokens) {
	if !b.grant.Metered() {
		return
	}
	c := &b.charged
	d := usage.Tokens{
		Input: max(t.Input-c.Input, 0), Output: max(t.Output-c.Output, 0),
		CacheRead: max(t.CacheRead-c.CacheRead, 0), CacheCreation: max(t.CacheCreation-c.CacheCreation, 0),
	}
	*c = usage.Tokens{
		Input: max(t.Input, c.Input), Output: max(t.Output, c.Output),
		CacheRead: max(t.CacheRead, c.CacheRead), CacheCreation: max(t.CacheCreation, c.CacheCreation),
	}
	if b.grant.Charge(d.Input+d.CacheCreation+d.Output, d.CacheRead) {
		b.h.budgetSpent(b.grant.Client(), b.grant.Until())
	}
}
