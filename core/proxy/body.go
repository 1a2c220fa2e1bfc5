package proxy

import (
	"bytes"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"sync"
	"sync/atomic"
)

// Request bodies are buffered (for retries, and because a live incoming body
// handed to the Transport is cut when the response starts: golang/go#40747).
// Buffers above 4 KiB come from pools by power-of-two size, so a busy proxy
// does not allocate and zero a fresh 64 KiB for every request. A pooled
// buffer goes back only when nobody can read it any more: the handler has
// returned and the Transport has closed every reader it was given, which it
// may do after RoundTrip returned.
//
// Bodies up to 4 KiB are plain allocations handed to the Transport as
// io.NopCloser(*bytes.Reader): net/http recognises that as in memory and
// sends the request headers and body in one write, where any other reader
// (such as the counting one pooled buffers need) costs a second write.
const (
	maxPlainBody   = 4 << 10
	minPooledShift = 13 // 8 KiB, the smallest pooled buffer
	maxPooledShift = 20 // 1 MiB: larger bodies are rare and not kept around
)

// bodyPools holds one pool of buffers per size class, 8 KiB … 1 MiB.
type bodyPools [maxPooledShift - minPooledShift + 1]sync.Pool

// body is a buffered request body shared by the handler and the readers
// handed to the Transport. refs counts them; the last release returns the
// buffer to its pool.
type body struct {
	data []byte
	pool *sync.Pool // nil for a buffer that is not pooled
	refs atomic.Int32
}

// sizeClass is the pool for a body of n bytes, or -1 for a body that is
// not pooled (up to maxPlainBody, or above the largest class).
func sizeClass(n int64) int {
	if n <= maxPlainBody || n > 1<<maxPooledShift {
		return -1
	}
	return max(bits.Len64(uint64(n-1)), minPooledShift) - minPooledShift
}

// get returns a body of n bytes (contents undefined) held once, by the
// caller.
func (p *bodyPools) get(n int64) *body {
	c := sizeClass(n)
	if c < 0 {
		b := &body{data: make([]byte, n)}
		b.refs.Store(1)
		return b
	}
	b, ok := p[c].Get().(*body)
	if !ok {
		b = &body{data: make([]byte, 1<<(c+minPooledShift)), pool: &p[c]}
	}
	b.data = b.data[:n]
	b.refs.Store(1)
	return b
}

// release drops one reference; the last one returns the buffer.
func (b *body) release() {
	if b.refs.Add(-1) == 0 && b.pool != nil {
		b.data = b.data[:cap(b.data)]
		b.pool.Put(b)
	}
}

// reader returns a new reader of the body that holds a reference until it
// is closed.
func (b *body) reader() io.ReadCloser {
	b.refs.Add(1)
	return &bodyReader{b: b}
}

// bodyReader reads a body and holds a reference to it until closed. The
// HTTP/2 Transport may close a request body from one goroutine while
// another is still reading it (an aborted stream), so Read and Close
// exclude each other: after Close, no Read touches the buffer, which may
// by then serve another request.
type bodyReader struct {
	mu  sync.Mutex
	b   *body // nil once closed
	off int
}

// Read implements io.Reader.
func (r *bodyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		return 0, http.ErrBodyReadAfterClose
	}
	if r.off >= len(r.b.data) {
		return 0, io.EOF
	}
	n := copy(p, r.b.data[r.off:])
	r.off += n
	return n, nil
}

// Close implements io.Closer; it releases the reference once.
func (r *bodyReader) Close() error {
	r.mu.Lock()
	b := r.b
	r.b = nil
	r.mu.Unlock()
	if b != nil {
		b.release()
	}
	return nil
}

// readBody buffers the client's body, bounded by max bytes, in a buffer
// from pools. It reads src, which is r.Body or a reader of it (r.Body
// itself must stay: net/http looks at it after the handler to decide what
// to do with what is left). The caller releases the returned body when it is done with
// it. The status is the one to answer with when err is not nil.
func readBody(r *http.Request, src io.Reader, max int64, pools *bodyPools) (*body, int, error) {
	tooLarge := func() (*body, int, error) {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: the limit is %d MiB (max_body_mb in the config)", errTooLarge, max>>20)
	}
	if r.ContentLength > max {
		return tooLarge()
	}
	if r.ContentLength > 0 {
		b := pools.get(r.ContentLength)
		if _, err := io.ReadFull(src, b.data); err != nil {
			b.release()
			return nil, http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
		}
		return b, 0, nil
	}
	// No length given (chunked): read what comes, up to the bound.
	data, err := io.ReadAll(io.LimitReader(src, max+1))
	if int64(len(data)) > max {
		return tooLarge()
	}
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
	}
	b := &body{data: data}
	b.refs.Store(1)
	return b, 0, nil
}

// setBody gives req its own reader of b (nil or empty: no body), and a
// GetBody that hands out more for the Transport's own retries.
func setBody(req *http.Request, b *body) {
	if b == nil || len(b.data) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
		return
	}
	req.ContentLength = int64(len(b.data))
	if b.pool == nil {
		// Not pooled: nothing to count, and a reader net/http knows.
		data := b.data
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		return
	}
	req.Body = b.reader()
	req.GetBody = func() (io.ReadCloser, error) { return b.reader(), nil }
}
