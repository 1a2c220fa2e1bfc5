package notify

import (
	"log/slog"
)

// Desktop is the Sender for this platform: on Linux (and the BSDs) it talks
// to the freedesktop notification service over the session bus (urgency,
// expiry, actions where the server has them, closing), and falls back to
// beeep for a notification the bus cannot take; elsewhere it is beeep
// alone (see Sender for what it then ignores). Create it with NewDesktop.
type Desktop struct {
	bus      busSender // nil: beeep alone
	fallback Sender
	log      *slog.Logger
}

// busSender is a Sender that holds a session bus connection.
type busSender interface {
	Sender
	stop()
}

// NewDesktop returns the Sender for this platform. png is the icon (a
// PNG), written on the first Send to the user's cache directory so that
// the notification server can read it; nil means no icon. log receives
// what went wrong (nil: slog.Default()). Call Stop when done.
func NewDesktop(png []byte, log *slog.Logger) *Desktop {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "notify")
	ic := &icon{png: png, log: log}
	d := &Desktop{fallback: newBeeep(ic), log: log}
	if bus, err := connectBus(ic, log); err != nil {
		log.Info("desktop notifications through beeep", "reason", err)
	} else {
		d.bus = bus
	}
	return d
}

// Send implements Sender. A notification the session bus could not take
// is handed to beeep (which tries the bus again, then notify-send), with
// nothing but title and body.
func (d *Desktop) Send(m Message) (uint32, error) {
	if d.bus != nil {
		id, err := d.bus.Send(m)
		if err == nil {
			return id, nil
		}
		d.log.Debug("notification service unavailable; trying beeep", "err", err)
	}
	return d.fallback.Send(m)
}

// Close implements Sender.
func (d *Desktop) Close(id uint32) error {
	if id == 0 || d.bus == nil {
		return nil
	}
	return d.bus.Close(id)
}

// Stop releases the session bus connection; actions are not run after it.
func (d *Desktop) Stop() {
	if d.bus != nil {
		d.bus.stop()
	}
}
