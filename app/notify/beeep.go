package notify

import (
	"fmt"

	"github.com/gen2brain/beeep"
)

// beeepSender shows notifications with beeep: on Linux the notification
// service over the session bus, else notify-send; the native ones on macOS
// and Windows. It cannot make a notification urgent without a bell, keep
// it on the screen, offer actions nor close it: it shows title and body,
// and Send returns id 0. It never uses beeep.Alert, which writes a BEL to
// stdout.
type beeepSender struct{ icon *icon }

func newBeeep(ic *icon) *beeepSender {
	beeep.AppName = AppName
	return &beeepSender{icon: ic}
}

// Send implements Sender.
func (s *beeepSender) Send(m Message) (uint32, error) {
	if err := beeep.Notify(m.Title, m.Body, s.icon.path()); err != nil {
		return 0, fmt.Errorf("showing notification %q: %w", m.Title, err)
	}
	return 0, nil
}

// Close implements Sender: beeep cannot close a notification.
func (s *beeepSender) Close(uint32) error { return nil }
