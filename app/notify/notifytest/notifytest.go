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
// then srv.Wait(t, 1, 10*time.Second) for what arrived.
package notifytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
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
	Actions    []string
	Hints      map[string]dbus.Variant
	Timeout    int32
}

// Server is a fake org.freedesktop.Notifications service that records what
// it is sent.
type Server struct {
	mu      sync.Mutex
	got     []Notification
	changed chan struct{} // closed and replaced on every notification
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
	s := &Server{changed: make(chan struct{})}
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

// Received returns the notifications received so far, oldest first.
func (s *Server) Received() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.got...)
}

// Wait waits until at least n notifications have arrived and returns them
// all; it fails t after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Notification {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, changed := append([]Notification(nil), s.got...), s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("got %d notifications after %v, want %d: %+v", len(got), timeout, n, got)
		}
	}
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
	close(s.changed)
	s.changed = make(chan struct{})
	return id, nil
}

// GetCapabilities says the server shows bodies.
func (h handler) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body"}, nil
}

// GetServerInformation names the fake server.
func (h handler) GetServerInformation() (name, vendor, version, specVersion string, err *dbus.Error) {
	return "notifytest", "maxrouter", "1", "1.2", nil
}

// CloseNotification accepts any id.
func (h handler) CloseNotification(id uint32) *dbus.Error { return nil }
