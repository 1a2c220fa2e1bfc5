package anthropictest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimitedFor answers like RateLimited with a reset d after each answer:
// an account that is spent again every time its window comes back.
func RateLimitedFor(d time.Duration) Reply {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		RateLimited(fakeOf(r.Context()).now().Add(d))(w, r, body)
	}
}

// Reset drops the connection with a TCP reset before any response byte, as
// a load balancer that gives up on a connection does.
func Reset(w http.ResponseWriter, _ *http.Request, _ []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // close sends RST, not FIN
	}
	conn.Close()
}

// SilentAfterFirstEvent starts a 200 event stream, sends its message_start
// event and then nothing more until the client goes away: an upstream that
// hangs after its headers.
func SilentAfterFirstEvent(w http.ResponseWriter, r *http.Request, _ []byte) {
	limitHeaders(w.Header(), fakeOf(r.Context()).now(), "allowed", 0.25, 0.1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	msg := message("", "")
	msg["content"] = []any{}
	b, _ := json.Marshal(map[string]any{"type": "message_start", "message": msg})
	w.Write([]byte("event: message_start\ndata: "))
	w.Write(b)
	w.Write([]byte("\n\n"))
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	<-r.Context().Done()
}

// TokenEndpoint is a fake OAuth token endpoint: it answers refresh_token
// grants with a new token pair, or, with Hang set, holds every request
// until the client goes away. Set its fields before it serves.
type TokenEndpoint struct {
	// Hang makes every request wait until the client gives up.
	Hang bool
	// Access is the access token it hands out. Default
	// "sk-ant-oat01-fake-refreshed".
	Access string
	// ExpiresIn is the lifetime of the tokens it hands out. Default 8h.
	ExpiresIn time.Duration

	mu       sync.Mutex
	requests int
	waiting  int
	issued   int
}

// ServeHTTP implements http.Handler.
func (e *TokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests++
	e.mu.Unlock()
	var req struct {
		GrantType    string `json:"grant_type"`
		RefreshToken string `json:"refresh_token"`
		ClientID     string `json:"client_id"`
	}
	// The body is read first even when hanging: the server notices that
	// the client went away only once the body was consumed.
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req)
	io.Copy(io.Discard, r.Body)
	if e.Hang {
		e.mu.Lock()
		e.waiting++
		e.mu.Unlock()
		<-r.Context().Done()
		e.mu.Lock()
		e.waiting--
		e.mu.Unlock()
		return
	}
	if r.Method != http.MethodPost || err != nil || req.GrantType != "refresh_token" || req.RefreshToken == "" || req.ClientID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "want a POSTed JSON refresh_token grant with refresh_token and client_id"})
		return
	}
	access, life := e.Access, e.ExpiresIn
	if access == "" {
		access = "sk-ant-oat01-fake-refreshed"
	}
	if life <= 0 {
		life = 8 * time.Hour
	}
	e.mu.Lock()
	e.issued++
	n := e.issued
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":    "Bearer",
		"access_token":  access,
		"refresh_token": "sk-ant-ort01-fake-refreshed-" + strconv.Itoa(n),
		"expires_in":    int(life.Seconds()),
		"scope":         "user:inference user:profile",
	})
}

// Requests reports how many requests the endpoint received, and how many
// of them it is holding now (Hang).
func (e *TokenEndpoint) Requests() (received, waiting int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests, e.waiting
}
