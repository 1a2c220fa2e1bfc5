// Package notifytest runs a private DBus session bus and a fake
// freedesktop notification server on it, so that tests can see the desktop
// notifications MaxRouter sends without a desktop.
//
// The bus must exist before anything in the test binary touches the session
// bus (godbus caches its shared connection), so start it in TestMain:
//
//	func TestMain(m *testing.M) {
//		addr, stop, err := notifytest.StartBus()
//		if err == nil {
//			busAddr = addr // a package variable; tests skip when it is ""
//			os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
//		} else if !errors.Is(err, notifytest.ErrNoDaemon) {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
//
// and in a test: srv := notifytest.NewServer(t, notifytest.Connect(t, busAddr)),
// then srv.Wait(t, 1, 10*time.Second) for what arrived. The Server says it
// supports actions; SetCapabilities changes that. Invoke clicks an action
// (the ActionInvoked signal) and Closed lists what CloseNotification
// closed.
package notifytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// ErrNoDaemon is returned by StartBus when dbus-daemon is not installed.
var ErrNoDaemon = errors.New("dbus-daemon is not installed (apt-get install dbus-daemon); skipping DBus tests")

// StartBus starts a private session bus (`dbus-daemon --session`) and
// returns its address and a function that kills it. stop is never nil and
// may be called more than once.
func StartBus() (addr string, stop func(), err error) {
	stop = func() {}
	path, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return "", stop, ErrNoDaemon
	}
	cmd := exec.Command(path, "--session", "--nofork", "--nopidfile", "--print-address=1")
	cmd.SysProcAttr = procAttr()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", stop, fmt.Errorf("starting dbus-daemon: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", stop, fmt.Errorf("starting dbus-daemon: %w", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr = <-line:
	case <-time.After(10 * time.Second):
	}
	if addr == "" {
		stop()
		return "", func() {}, fmt.Errorf("dbus-daemon printed no address: %s", strings.TrimSpace(stderr.String()))
	}
	return addr, stop, nil
}

// Connect opens a private connection to the bus at addr, closed when the
// test ends.
func Connect(t testing.TB, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Notification is one Notify call the Server received.
type Notification struct {
	ID         uint32 // the id the Server answered
	AppName    string
	ReplacesID uint32
	AppIcon    string
	Summary    string
	Body       string
	Actions    []string // key, label, key, label…
	Hints      map[string]dbus.Variant
	Timeout    int32 // milliseconds; -1 for the server's default, 0 for never
}

// Urgency is the notification's urgency hint (0 low, 1 normal, 2
// critical), or -1 when it has none.
func (n Notification) Urgency() int {
	v, ok := n.Hints["urgency"]
	if !ok {
		return -1
	}
	b, ok := v.Value().(byte)
	if !ok {
		return -1
	}
	return int(b)
}

// DefaultCapabilities are what a Server says it supports until
// SetCapabilities changes it.
var DefaultCapabilities = []string{"actions", "body"}

// Server is a fake org.freedesktop.Notifications service that records what
// it is sent and what it is asked to close.
type Server struct {
	conn *dbus.Conn

	mu      sync.Mutex
	got     []Notification
	closed  []uint32
	caps    []string
	changed chan struct{} // closed and replaced on every Notify and CloseNotification
}

// Name, Path and Interface are where the notification service lives.
const (
	Name      = "org.freedesktop.Notifications"
	Path      = dbus.ObjectPath("/org/freedesktop/Notifications")
	Interface = "org.freedesktop.Notifications"
)

// NewServer exports the notification service on conn and takes its name;
// both are given up when the test ends. It fails t if another connection
// owns the name.
func NewServer(t testing.TB, conn *dbus.Conn) *Server {
	t.Helper()
	s := &Server{conn: conn, caps: DefaultCapabilities, changed: make(chan struct{})}
	if err := conn.Export(handler{s}, Path, Interface); err != nil {
		t.Fatalf("exporting the notification server: %v", err)
	}
	reply, err := conn.RequestName(Name, dbus.NameFlagDoNotQueue)
	if err != nil {
		t.Fatalf("requesting %s: %v", Name, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("requesting %s: not the owner (reply %d)", Name, reply)
	}
	t.Cleanup(func() {
		conn.ReleaseName(Name)
		conn.Export(nil, Path, Interface)
	})
	return s
}

// SetCapabilities sets what GetCapabilities answers from now on.
func (s *Server) SetCapabilities(caps ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caps = append([]string(nil), caps...)
}

// Received returns the notifications received so far, oldest first.
func (s *Server) Received() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.got...)
}

// Closed returns the ids CloseNotification was called with, oldest first.
func (s *Server) Closed() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.closed...)
}

// Wait waits until at least n notifications have arrived and returns them
// all; it fails t after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Notification {
	t.Helper()
	s.until(t, timeout, func() bool { return len(s.got) >= n }, fmt.Sprintf("%d notifications", n))
	return s.Received()
}

// WaitClosed waits until notification id was closed with
// CloseNotification; it fails t after timeout.
func (s *Server) WaitClosed(t testing.TB, id uint32, timeout time.Duration) {
	t.Helper()
	s.until(t, timeout, func() bool { return slices.Contains(s.closed, id) }, fmt.Sprintf("notification %d closed", id))
}

// until waits for cond, called with s.mu held, to hold.
func (s *Server) until(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		got, closed := len(s.got), slices.Clone(s.closed)
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("waited %v for %s: received %d notifications, closed %v", timeout, what, got, closed)
		}
	}
}

// Invoke says that the user chose the action key on notification id: the
// ActionInvoked signal, as a notification server sends it.
func (s *Server) Invoke(t testing.TB, id uint32, key string) {
	t.Helper()
	if err := s.conn.Emit(Path, Interface+".ActionInvoked", id, key); err != nil {
		t.Fatalf("emitting ActionInvoked(%d, %q): %v", id, key, err)
	}
}

// changedLocked wakes whoever waits; s.mu is held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// handler holds the DBus methods, apart from Server's Go API.
type handler struct{ s *Server }

// Notify records a notification.
func (h handler) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := uint32(len(s.got) + 1)
	s.got = append(s.got, Notification{
		ID: id, AppName: app, ReplacesID: replaces, AppIcon: icon, Summary: summary, Body: body,
		Actions: actions, Hints: hints, Timeout: timeout,
	})
	s.changedLocked()
	return id, nil
}

// GetCapabilities says what the server supports (see SetCapabilities).
func (h handler) GetCapabilities() ([]string, *dbus.Error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return append([]string(nil), h.s.caps...), nil
}

// GetServerInformation names the fake server.
func (h handler) GetServerInformation() (name, vendor, version, specVersion string, err *dbus.Error) {
	return "notifytest", "maxrouter", "1", "1.2", nil
}

// CloseNotification records id and says it was closed by a call (the
// NotificationClosed signal with reason 3), as a server does for a
// notification it shows. An id it never gave out is an error, as the
// specification has it.
func (h handler) CloseNotification(id uint32) *dbus.Error {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 || int(id) > len(s.got) {
		return dbus.MakeFailedError(fmt.Errorf("no notification %d", id))
	}
	s.closed = append(s.closed, id)
	s.changedLocked()
	s.conn.Emit(Path, Interface+".NotificationClosed", id, uint32(3))
	return nil
}
