package daemon

import (
	"bufio"
	"cmp"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

// slowConns is how many slow connections TestSlowClientsDoNotStarveOthers
// opens: MAXROUTER_SLOW_CONNS, default 200 (the README's figure is from a
// larger run).
func slowConns() int {
	n, _ := strconv.Atoi(os.Getenv("MAXROUTER_SLOW_CONNS"))
	return cmp.Or(n, 200)
}

// slowAnswer is what one slow client got.
type slowAnswer struct {
	head   string
	status int
	took   time.Duration // until the answer
	closed bool          // the connection ended after the answer
	err    error
}

// sendSlow sends head and the first byte of a body that never comes, and
// reads the answer and what follows it.
func sendSlow(addr, head string) slowAnswer {
	a := slowAnswer{head: head}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		a.err = err
		return a
	}
	defer conn.Close()
	start := time.Now()
	if _, a.err = io.WriteString(conn, head+"\r\n{"); a.err != nil {
		return a
	}
	conn.SetReadDeadline(start.Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		a.err = err
		return a
	}
	a.status, a.took = resp.StatusCode, time.Since(start)
	io.Copy(io.Discard, resp.Body)
	_, err = br.ReadByte()
	a.closed = errors.Is(err, io.EOF) || (err != nil && strings.Contains(err.Error(), "connection reset"))
	return a
}

// TestSlowClientsDoNotStarveOthers opens connections that never finish
// their headers and requests whose bodies never come, on every path that
// will not read them: each gets its answer at once and loses its
// connection, and meanwhile /health and a client's request answer within
// a second. (The fault run's 20,000 such connections made the daemon stop
// answering and grow from 17 to 483 MB.)
func TestSlowClientsDoNotStarveOthers(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(time.Hour))
	})
	client := h.issue(t)
	addr := h.d.Addr()
	n := slowConns()

	for range n / 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("opening a slow connection: %v", err)
		}
		t.Cleanup(func() { conn.Close() })
		io.WriteString(conn, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
	}

	const body = "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
	heads := []struct {
		head string
		want int
	}{
		{"POST /v1/messages HTTP/1.1\r\n" + body, 401},
		{"POST /v1/messages HTTP/1.1\r\nAuthorization: Bearer la_sk_nope\r\n" + body, 401},
		{"POST /v1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: 127.0.0.1\r\n", 401},
		{"GET /v1/accounts HTTP/1.1\r\n" + body, 401},
		{"GET /v1/accounts HTTP/1.1\r\nAuthorization: Bearer " + client + "\r\n" + body, 200},
		{"GET /metrics HTTP/1.1\r\n" + body, 401},
		{"POST /control/v1/accounts/check HTTP/1.1\r\n" + body, 401},
		{"PUT /control/v1/config HTTP/1.1\r\nAuthorization: Bearer " + client + "\r\n" + body, 401},
		{"POST /health HTTP/1.1\r\n" + body, 405},
		{"POST /nowhere HTTP/1.1\r\n" + body, 404},
	}
	answers := make(chan slowAnswer, n/2)
	for i := range n / 2 {
		go func() { answers <- sendSlow(addr, heads[i%len(heads)].head) }()
	}
	// During the burst of new connections, and once the refused ones are
	// gone while the others still hold theirs, /health and a client's
	// request answer within a second.
	measure := func() (health, proxied time.Duration) {
		begin := time.Now()
		if resp, data := h.send(t, "GET", "/health", "", ""); resp.StatusCode != 200 {
			t.Errorf("/health = %d: %s", resp.StatusCode, data)
		}
		health = time.Since(begin)
		begin = time.Now()
		if resp := h.post(t, client, `{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}`); resp.StatusCode != 200 {
			t.Errorf("a client's request = %d, want 200", resp.StatusCode)
		}
		return health, time.Since(begin)
	}
	burstHealth, burstProxied := measure()

	var took []time.Duration
	for range n / 2 {
		a := <-answers
		want := 0
		for _, hd := range heads {
			if hd.head == a.head {
				want = hd.want
			}
		}
		first, _, _ := strings.Cut(a.head, "\r\n")
		switch {
		case a.err != nil:
			t.Errorf("%s: no answer while its body is pending: %v", first, a.err)
			continue
		case a.status != want:
			t.Errorf("%s = %d, want %d", first, a.status, want)
		case !a.closed:
			t.Errorf("%s: the connection stayed open after the answer", first)
		}
		took = append(took, a.took)
	}
	var health, proxied []time.Duration
	for range 5 {
		hd, pd := measure()
		health, proxied = append(health, hd), append(proxied, pd)
	}
	if m := slices.Max(health); m > time.Second {
		t.Errorf("/health took up to %v with %d connections still sending their headers, want under a second", m, n/2)
	}
	if m := slices.Max(proxied); m > time.Second {
		t.Errorf("a client's request took up to %v with %d connections still sending their headers, want under a second", m, n/2)
	}
	if len(took) > 0 {
		slices.Sort(took)
		t.Logf("%d connections stuck in their headers and %d requests whose bodies never come: refusals answered in p50 %v, max %v; during that burst /health %v, a client's request %v; after it, with the %d still open, /health max %v, a client's request max %v",
			n/2, n/2, took[len(took)/2], took[len(took)-1], burstHealth, burstProxied, n/2, slices.Max(health), slices.Max(proxied))
	}
}

// TestHeadersMustArriveSoon: a connection that never finishes its headers
// is closed after headerTimeout.
func TestHeadersMustArriveSoon(t *testing.T) {
	h := start(t, nil)
	conn, err := net.Dial("tcp", h.d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	io.WriteString(conn, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
	conn.SetReadDeadline(start.Add(headerTimeout + 3*time.Second))
	_, err = io.Copy(io.Discard, conn)
	if took := time.Since(start); err != nil || took < headerTimeout-time.Second {
		t.Errorf("connection ended after %v (%v), want closed after %v", took, err, headerTimeout)
	}
}

// TestResponseTimeoutFromConfig: response_timeout reaches the proxy, so
// an upstream that never answers gets a 504 after it.
func TestResponseTimeoutFromConfig(t *testing.T) {
	h := start(t, func(h *harness) {
		dir := filepath.Join(h.home, ".claude")
		writeCreds(t, dir, tok("main"), "r", time.Now().Add(time.Hour))
		os.MkdirAll(filepath.Dir(h.cfg), 0o700)
		cfg := "response_timeout = \"1s\"\n[[account]]\nname = \"main\"\ndir = " + strconv.Quote(dir) + "\n"
		if err := os.WriteFile(h.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	h.fake.On(tok("main"), anthropictest.Hang)
	begin := time.Now()
	resp, data := h.send(t, "POST", "/v1/messages", h.issue(t), body)
	if took := time.Since(begin); resp.StatusCode != http.StatusGatewayTimeout || took > 5*time.Second {
		t.Errorf("after %v: %d %s, want 504 after about 1s", took, resp.StatusCode, data)
	}
}
