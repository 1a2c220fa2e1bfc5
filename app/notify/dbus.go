//go:build linux || freebsd || netbsd || openbsd || illumos

package notify

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	fdo "github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"
)

// maxWithActions is how many notifications with actions the bus sender
// remembers, to run an action chosen on one of them.
const maxWithActions = 32

// The notification service on the session bus.
const (
	fdoName      = "org.freedesktop.Notifications"
	fdoPath      = dbus.ObjectPath("/org/freedesktop/Notifications")
	actionSignal = fdoName + ".ActionInvoked"
)

// dbusSender shows notifications through org.freedesktop.Notifications on
// its own session bus connection. It reads the ActionInvoked signal itself
// rather than through the notification library's listener, which takes
// any signal's arguments for granted: a malformed one, which any program
// on the session bus can send, would panic the app.
type dbusSender struct {
	conn    *dbus.Conn
	icon    *icon
	log     *slog.Logger
	signals chan *dbus.Signal
	done    chan struct{} // closed when the signal reader ended

	mu      sync.Mutex
	actions map[uint32][]Action // of the latest notifications with actions
	order   []uint32            // their ids, oldest first
	// early are actions chosen on notifications not known (yet): the
	// server may report a click before Send has its answer, or it was
	// another application's notification. The latest maxEarly are kept.
	early []chosen
}

// chosen is an action chosen on a notification: ActionInvoked's arguments.
type chosen struct {
	id  uint32
	key string
}

// maxEarly is how many action signals for unknown notifications are kept.
const maxEarly = 8

// connectBus opens a private connection to the session bus and listens
// for the notification server's ActionInvoked signal on it.
func connectBus(ic *icon, log *slog.Logger) (busSender, error) {
	return newDBus(ic, log)
}

func newDBus(ic *icon, log *slog.Logger) (*dbusSender, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("connecting to the session bus: %w", err)
	}
	s := &dbusSender{conn: conn, icon: ic, log: log, actions: map[uint32][]Action{},
		signals: make(chan *dbus.Signal, 16), done: make(chan struct{})}
	err = conn.AddMatchSignal(dbus.WithMatchObjectPath(fdoPath), dbus.WithMatchInterface(fdoName),
		dbus.WithMatchMember("ActionInvoked"))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("listening for notification actions: %w", err)
	}
	conn.Signal(s.signals)
	go s.readSignals()
	return s, nil
}

// readSignals runs the actions chosen until the connection closes. A
// signal whose arguments are not ActionInvoked's (a notification id and
// an action key) is ignored.
func (s *dbusSender) readSignals() {
	defer close(s.done)
	for sig := range s.signals {
		if sig.Name != actionSignal || sig.Path != fdoPath {
			continue
		}
		var c chosen
		if err := dbus.Store(sig.Body, &c.id, &c.key); err != nil {
			s.log.Debug("ignoring a malformed ActionInvoked signal", "sender", sig.Sender, "err", err)
			continue
		}
		s.invoked(c)
	}
}

// markup escapes what a server with "body-markup" would read as markup.
var markup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Send implements Sender: urgent messages are critical and never expire,
// the others are normal with the server's default expiry. Actions are
// offered only when the server says it supports them.
func (s *dbusSender) Send(m Message) (uint32, error) {
	caps, err := fdo.GetCapabilities(s.conn)
	if err != nil {
		s.log.Debug("asking the notification server what it supports", "err", err)
	}
	body := m.Body
	if slices.Contains(caps, "body-markup") {
		body = markup.Replace(body)
	}
	note := fdo.Notification{
		AppName:       AppName,
		AppIcon:       s.icon.path(),
		Summary:       m.Title,
		Body:          body,
		ExpireTimeout: fdo.ExpireTimeoutSetByNotificationServer,
	}
	if m.Urgent {
		note.SetUrgency(fdo.UrgencyCritical)
		note.ExpireTimeout = fdo.ExpireTimeoutNever
	} else {
		note.SetUrgency(fdo.UrgencyNormal)
	}
	var actions []Action
	if slices.Contains(caps, "actions") {
		actions = m.Actions
	}
	for _, a := range actions {
		note.Actions = append(note.Actions, fdo.Action{Key: a.Key, Label: a.Label})
	}
	id, err := fdo.SendNotification(s.conn, note)
	if err != nil {
		return 0, fmt.Errorf("showing notification %q: %w", m.Title, err)
	}
	if len(actions) > 0 {
		s.remember(id, actions)
	}
	return id, nil
}

// Close implements Sender.
func (s *dbusSender) Close(id uint32) error {
	s.mu.Lock()
	delete(s.actions, id)
	s.mu.Unlock()
	call := s.conn.Object(fdoName, fdoPath).Call(fdoName+".CloseNotification", 0, id)
	if err := call.Err; err != nil {
		return fmt.Errorf("closing notification %d: %w", id, err)
	}
	return nil
}

// remember keeps the actions of notification id, forgetting the oldest
// beyond maxWithActions, and runs one chosen before it was known.
func (s *dbusSender) remember(id uint32, actions []Action) {
	s.mu.Lock()
	s.actions[id] = actions
	s.order = append(s.order, id)
	for len(s.order) > maxWithActions {
		delete(s.actions, s.order[0])
		s.order = s.order[1:]
	}
	var keys []string
	s.early = slices.DeleteFunc(s.early, func(c chosen) bool {
		if c.id == id {
			keys = append(keys, c.key)
			return true
		}
		return false
	})
	s.mu.Unlock()
	for _, key := range keys {
		run(actions, key)
	}
}

// invoked runs the action the user chose on one of our notifications.
func (s *dbusSender) invoked(c chosen) {
	s.mu.Lock()
	actions, ok := s.actions[c.id]
	if !ok {
		s.early = append(s.early, c)
		if len(s.early) > maxEarly {
			s.early = s.early[1:]
		}
	}
	s.mu.Unlock()
	run(actions, c.key)
}

// run runs the action with key among actions.
func run(actions []Action, key string) {
	for _, a := range actions {
		if a.Key == key && a.Do != nil {
			a.Do()
			return
		}
	}
}

// stop closes the connection, which ends the signal reader, and waits for
// it.
func (s *dbusSender) stop() {
	s.conn.Close()
	<-s.done
}
