package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestSizeClass(t *testing.T) {
	tests := []struct {
		n    int64
		want int
	}{
		{0, -1},
		{300, -1},       // small: plain allocation, one write with the headers
		{4 << 10, -1},   // the largest plain body
		{4<<10 + 1, 0},  // 8 KiB class
		{8 << 10, 0},    // exactly 8 KiB
		{8<<10 + 1, 1},  // 16 KiB class
		{64 << 10, 3},   // 64 KiB
		{64<<10 + 1, 4}, // 128 KiB
		{1 << 20, 7},    // 1 MiB, the largest pooled
		{1<<20 + 1, -1}, // larger: not pooled
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			got := sizeClass(tt.n)
			if got != tt.want {
				t.Fatalf("sizeClass(%d) = %d, want %d", tt.n, got, tt.want)
			}
			if got >= 0 && int64(1)<<(got+minPooledShift) < tt.n {
				t.Fatalf("class %d holds %d bytes, less than %d", got, 1<<(got+minPooledShift), tt.n)
			}
		})
	}
}

// TestSmallBodyIsSentWithItsHeaders guards a cost the benchmark found:
// net/http writes a request's headers and body in one write only when the
// body is a reader it knows to be in memory (io.NopCloser of a
// *bytes.Reader); any other type flushes the headers on their own first.
func TestSmallBodyIsSentWithItsHeaders(t *testing.T) {
	r, _ := http.NewRequest("POST", "http://upstream/v1/messages", strings.NewReader(msgBody))
	var pools bodyPools
	b, _, err := readBody(r, r.Body, 1<<20, &pools)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := http.NewRequest("POST", "http://upstream/v1/messages", nil)
	setBody(out, b)
	want := reflect.TypeOf(io.NopCloser(bytes.NewReader(nil)))
	if got := reflect.TypeOf(out.Body); got != want {
		t.Errorf("small body handed to the Transport as %v, want %v", got, want)
	}
	if got, _ := io.ReadAll(out.Body); string(got) != msgBody {
		t.Errorf("body = %q, want %q", got, msgBody)
	}
	if out.ContentLength != int64(len(msgBody)) {
		t.Errorf("ContentLength = %d, want %d", out.ContentLength, len(msgBody))
	}
}

func TestBodyIsHeldUntilEveryReaderCloses(t *testing.T) {
	var pools bodyPools
	b := pools.get(64 << 10)
	r1 := b.reader()
	r2 := b.reader() // as GetBody would hand out for a Transport retry
	b.release()      // the handler is done
	if got := b.refs.Load(); got != 2 {
		t.Fatalf("refs after the handler let go = %d, want 2 (two open readers)", got)
	}
	r1.Close()
	r1.Close() // a second Close must not release twice
	if got := b.refs.Load(); got != 1 {
		t.Fatalf("refs after closing one reader twice = %d, want 1", got)
	}
	r2.Close()
	if got := b.refs.Load(); got != 0 {
		t.Fatalf("refs after every reader closed = %d, want 0", got)
	}
}

func TestReadAfterCloseFails(t *testing.T) {
	var pools bodyPools
	b := pools.get(16 << 10)
	r := b.reader()
	r.Close()
	if _, err := r.Read(make([]byte, 10)); err != http.ErrBodyReadAfterClose {
		t.Errorf("Read after Close = %v, want http.ErrBodyReadAfterClose", err)
	}
	b.release()
}

// TestHTTP2UpstreamAnswersBeforeReadingTheBody sends big bodies to an
// HTTP/2 upstream that answers 400 without reading them. The HTTP/2
// Transport then closes a request body from one goroutine while another may
// still be reading it; -race checks that the readers hold up.
func TestHTTP2UpstreamAnswersBeforeReadingTheBody(t *testing.T) {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"no"}}`)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	t.Cleanup(up.Close)
	e := setupWith(t, up.URL, up.Client().Transport, nil, "priority", "a")
	big := `{"model":"claude-sonnet-4-5","pad":"` + strings.Repeat("x", 900<<10) + `"}`
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				req, _ := http.NewRequest("POST", e.proxy.URL+"/v1/messages", strings.NewReader(big))
				req.Header.Set("Authorization", "Bearer "+e.secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("status = %d, want the upstream's 400", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
}

// lateReader answers at once and keeps the request body, unread and
// unclosed, as an HTTP/1 Transport may while its write loop still sends it
// after RoundTrip returned.
type lateReader struct{ bodies chan io.ReadCloser }

func (l lateReader) RoundTrip(r *http.Request) (*http.Response, error) {
	l.bodies <- r.Body
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"type":"message"}`)),
		Request:    r,
	}, nil
}

// TestLateReaderSeesItsOwnBody sends bodies of one size class one after the
// other while the Transport keeps every earlier body open: a buffer that
// went back to its pool when the handler returned would be overwritten by
// the next request's body.
func TestLateReaderSeesItsOwnBody(t *testing.T) {
	const n = 16
	lr := lateReader{bodies: make(chan io.ReadCloser, n)}
	e := setupWith(t, "http://upstream.invalid", lr, nil, "priority", "a")
	want := make([]string, n)
	for i := range want {
		want[i] = `{"model":"claude-sonnet-4-5","pad":"` + strings.Repeat(string(rune('a'+i)), 64<<10-64) + `"}`
		resp := e.post(t, "/v1/messages", want[i])
		readAll(t, resp.Body) // the handler has returned once the answer is read
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	for i := range want {
		rc := <-lr.bodies
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte(want[i])) {
			t.Fatalf("body %d read after its handler returned is not the one sent (starts %.60q)", i, got)
		}
	}
}

// BenchmarkReadBody compares buffering a 64 KiB body from the pools with a
// fresh allocation per request (the baseline, as before the pools).
func BenchmarkReadBody(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 64<<10)
	req := func() *http.Request {
		r, _ := http.NewRequest("POST", "http://proxy/v1/messages", bytes.NewReader(payload))
		return r
	}
	b.Run("alloc", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			r := req()
			buf := make([]byte, r.ContentLength)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pooled", func(b *testing.B) {
		var pools bodyPools
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			r := req()
			body, _, err := readBody(r, r.Body, 32<<20, &pools)
			if err != nil {
				b.Fatal(err)
			}
			rc := body.reader()
			body.release()
			rc.Close()
		}
	})
}
