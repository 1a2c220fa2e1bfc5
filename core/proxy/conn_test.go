package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest writes a request's head and the start of its body on a new
// connection to the proxy, sends nothing more, and returns the answer read
// within 3s and the connection.
func (e *env) rawRequest(t *testing.T, head, bodyStart string) (*http.Response, net.Conn, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.proxy.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	start := time.Now()
	if _, err := io.WriteString(conn, head+"\r\n"+bodyStart); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(start.Add(3 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	took := time.Since(start)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// What follows the answer: the connection must end, not wait for the body.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Errorf("after the answer: %v, want the connection closed", err)
	}
	return resp, conn, took
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// TestRefusedBodyIsNotAwaited: a request the proxy refuses before reading
// its body gets its answer at once and its connection closed, however
// slowly the body comes (20,000 such requests used to hold 20,000
// connections and 470 MB).
func TestRefusedBodyIsNotAwaited(t *testing.T) {
	e := setup(t, "priority", "a")
	revoked, info, _ := e.tokens.Issue("old", 0)
	e.tokens.Revoke(info.ID)
	tests := []struct {
		name, path, auth string
		length           int
		want             int
	}{
		{"no token", "/v1/messages", "", 100000, 401},
		{"unknown token", "/v1/messages", "Authorization: Bearer la_sk_nope", 100000, 401},
		{"revoked token", "/v1/messages", "Authorization: Bearer " + revoked, 100000, 403},
		{"path refused", "/v1/%2e%2e/api/oauth/profile", "Authorization: Bearer " + e.secret, 100000, 400},
		{"body over the bound", "/v1/messages", "X-Api-Key: " + e.secret, 2 << 20, 413},
		{"no token, chunked", "/v1/messages", "", -1, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := "POST " + tt.path + " HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\n"
			if tt.auth != "" {
				head += tt.auth + "\r\n"
			}
			start := `{"model":`
			if tt.length < 0 {
				head += "Transfer-Encoding: chunked\r\n"
				start = fmt.Sprintf("%x\r\n%s", len(start), start)
			} else {
				head += fmt.Sprintf("Content-Length: %d\r\n", tt.length)
			}
			resp, _, took := e.rawRequest(t, head, start)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if !resp.Close {
				t.Errorf("answer without Connection: close")
			}
			if took > time.Second {
				t.Errorf("answered after %v, want at once", took)
			}
		})
	}
	if n := len(e.fake.Received()); n != 0 {
		t.Errorf("upstream got %d requests, want none", n)
	}
}

// TestStalledBodyIsCut: an admitted client whose body stops arriving is
// answered 408 once it stalls for the bound, and its connection closed.
func TestStalledBodyIsCut(t *testing.T) {
	e := setup(t, "priority", "a")
	e.handler.bodyIdle = 200 * time.Millisecond // before any request
	head := "POST /v1/messages HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nAuthorization: Bearer " + e.secret + "\r\n"
	resp, _, took := e.rawRequest(t, head, `{"model":"claude`)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status = %d, want 408", resp.StatusCode)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("cut after %v, want after the 200ms bound", took)
	}
	if n := len(e.fake.Received()); n != 0 {
		t.Errorf("upstream got %d requests, want none", n)
	}
}

// TestBodyDeadlineEndsWithTheBody: the body's deadline must not outlive
// it: a stream longer than the bound goes through whole, and the
// connection is reused.
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	e := setup(t, "priority", "a")
	e.handler.bodyIdle = 100 * time.Millisecond // before any request
	e.fake.StreamDelay = 60 * time.Millisecond
	e.fake.Events = 5 // about 0.6s of stream
	for range 2 {
		resp := e.post(t, "/v1/messages", `{"model":"claude-sonnet-4-5","stream":true,"messages":[]}`)
		body := readAll(t, resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(body, "message_stop") {
			t.Fatalf("status %d, body %q: want the whole stream", resp.StatusCode, body)
		}
	}
}
