package controltest

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// Daemon is a control API server over a Backend that can vanish and come
// back as a real daemon does: Kill cuts every connection, the open event
// streams included, and refuses new ones (a kill -9); Stop first says it
// is stopping, as a daemon asked to stop does; Revive serves again.
type Daemon struct {
	b      *Backend
	secret string
	srv    atomic.Pointer[control.Server]
	hs     *httptest.Server
	down   atomic.Bool
}

// NewDaemon serves b's control API on a loopback test server with a random
// secret; it is closed when the test ends.
func NewDaemon(t testing.TB, b *Backend) *Daemon {
	t.Helper()
	buf := make([]byte, 16)
	rand.Read(buf)
	d := &Daemon{b: b, secret: hex.EncodeToString(buf)}
	d.srv.Store(control.NewServer(b, d.secret, slog.New(slog.DiscardHandler)))
	d.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.down.Load() {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		d.srv.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		d.srv.Load().Close()
		d.hs.Close()
	})
	return d
}

// Client returns a control API client of the daemon.
func (d *Daemon) Client() *control.Client { return control.NewClient(d.hs.URL, d.secret) }

// URL is the daemon's base URL.
func (d *Daemon) URL() string { return d.hs.URL }

// Kill makes the daemon vanish, its streams cut, as kill -9 does.
func (d *Daemon) Kill() {
	d.down.Store(true)
	d.hs.CloseClientConnections()
}

// Stop stops the daemon as a signal does: it says it is stopping, ends
// its event streams, and goes.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	d.b.Publish(control.Event{Type: event.Stopping})
	d.srv.Load().Close()
	d.b.WaitSubscribers(t, 0)
	d.Kill()
}

// Revive starts the daemon again.
func (d *Daemon) Revive() {
	d.srv.Store(control.NewServer(d.b, d.secret, slog.New(slog.DiscardHandler)))
	d.down.Store(false)
}

// Backend is the daemon's backend.
func (d *Daemon) Backend() *Backend { return d.b }
