//go:build !(linux || freebsd || netbsd || openbsd || illumos)

package notify

import (
	"errors"
	"log/slog"
)

// connectBus: this platform has no freedesktop notification service.
func connectBus(*icon, *slog.Logger) (busSender, error) {
	return nil, errors.New("no freedesktop notifications on this platform")
}
