package notify

import "log/slog"

// NewBeeep is the beeep fallback alone, for the DBus tests.
func NewBeeep(png []byte) Sender { return newBeeep(&icon{png: png, log: slog.Default()}) }
