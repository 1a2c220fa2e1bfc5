package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultBodyTimeout is how long a client's request body may stop
// arriving before the request is cut (Options.BodyTimeout).
const DefaultBodyTimeout = 30 * time.Second

// dropGrace is how long a body that will not be read may go on arriving,
// discarded, once the answer is out: a client that sent it at once (a
// wrong token, on loopback) reads its answer rather than a reset
// connection, and one that trickles it is cut.
const dropGrace = 500 * time.Millisecond

// DropBody lets the server answer r at once without the body the handler
// leaves unread: call it before writing the answer. Without it, net/http
// reads what is left of the body before it sends the answer, for as long
// as the client takes. With it, the answer says "Connection: close" and
// goes out at once, and the connection closes after at most half a
// second of discarding. A request without a body is left alone.
func DropBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(dropGrace))
}

// stallReader reads a request body with a read deadline on the
// connection that each Read moves idle ahead: a body that stops arriving
// for idle fails with a timeout. done clears the deadline, which must not
// outlive the body: net/http reads the idle connection in the background
// afterwards, and a timeout there would cancel the request's context.
type stallReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	s.rc.SetReadDeadline(time.Now().Add(s.idle))
	return s.r.Read(p)
}

func (s *stallReader) done() { s.rc.SetReadDeadline(time.Time{}) }

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
