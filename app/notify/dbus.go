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

// dbusSender shows notifications through org.freedesktop.Notifications on
// its own session bus connection.
type dbusSender struct {
	conn *dbus.Conn
	fdo  fdo.Notifier
	icon *icon
	log  *slog.Logger

	mu      sync.Mutex
	actions map[uint32][]Action // of the latest notifications with actions
	order   []uint32            // their ids, oldest first
	// early are actions chosen on notifications not known (yet): the
	// server may report a click before Send has its answer, or it was
	// another application's notification. The latest maxEarly are kept.
	early []*fdo.ActionInvokedSignal
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
	s := &dbusSender{conn: conn, icon: ic, log: log, actions: map[uint32][]Action{}}
	n, err := fdo.New(conn, fdo.WithOnAction(s.invoked), fdo.WithLogger(printf{log}))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("listening for notification actions: %w", err)
	}
	s.fdo = n
	return s, nil
}

// markup escapes what a server with "body-markup" would read as markup.
var markup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Send implements Sender: urgent messages are critical and never expire,
// the others are normal with the server's default expiry. Actions are
// offered only when the server says it supports them.
func (s *dbusSender) Send(m Message) (uint32, error) {
	caps, err := s.fdo.GetCapabilities()
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
	id, err := s.fdo.SendNotification(note)
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
	if _, err := s.fdo.CloseNotification(id); err != nil {
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
	var chosen []*fdo.ActionInvokedSignal
	s.early = slices.DeleteFunc(s.early, func(sig *fdo.ActionInvokedSignal) bool {
		if sig.ID == id {
			chosen = append(chosen, sig)
			return true
		}
		return false
	})
	s.mu.Unlock()
	for _, sig := range chosen {
		run(actions, sig.ActionKey)
	}
}

// invoked runs the action the user chose on one of our notifications.
func (s *dbusSender) invoked(sig *fdo.ActionInvokedSignal) {
	s.mu.Lock()
	actions, ok := s.actions[sig.ID]
	if !ok {
		s.early = append(s.early, sig)
		if len(s.early) > maxEarly {
			s.early = s.early[1:]
		}
	}
	s.mu.Unlock()
	run(actions, sig.ActionKey)
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

// stop ends listening and closes the connection.
func (s *dbusSender) stop() {
	s.fdo.Close()
	s.conn.Close()
}

// printf hands the notification library's log lines to slog, as debug
// lines: it reports signals it does not know, which are not our problem.
type printf struct{ log *slog.Logger }

func (p printf) Printf(format string, v ...any) {
	p.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
