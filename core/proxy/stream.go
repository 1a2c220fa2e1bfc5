package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// watchedBody wraps an upstream answer on its way to the client: it ends
// the account's in-flight count when the body is closed and, for an event
// stream, notices an `event: error` that ends a 200 with a rate-limit or
// overload error, so the account rests before the next request. It looks
// at the bytes as they pass; it never holds them back.
type watchedBody struct {
	io.ReadCloser
	h      *Handler
	a      *account.Account
	family string
	done   func()
	once   sync.Once
	sse    bool
	seen   bool                      // an error event was classified already
	tail   [len(errorEvent) - 1]byte // the end of the stream so far, for a marker split across reads
	tailN  int                       // bytes in tail
}

const errorEvent = "event: error"

var errorMarker = []byte(errorEvent)

func watch(resp *http.Response, a *account.Account, h *Handler, family string, done func()) io.ReadCloser {
	sse := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") && resp.Header.Get("Content-Encoding") == ""
	return &watchedBody{ReadCloser: resp.Body, h: h, a: a, family: family, done: done, sse: sse}
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.sse && !b.seen && n > 0 {
		b.scan(p[:n])
	}
	if err != nil {
		b.finish()
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

func (b *watchedBody) finish() { b.once.Do(b.done) }
