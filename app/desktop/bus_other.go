//go:build !headless && !(linux || freebsd || openbsd || netbsd)

package desktop

import (
	"context"
	"errors"
	"time"
)

// errAlreadyRunning is never returned here.
var errAlreadyRunning = errors.New("MaxRouter is already running")

// trayUsable reports whether a tray can be shown; on macOS and Windows it
// always can.
func trayUsable() error { return nil }

// claimInstance is a no-op here: a second launch starts a second app.
func claimInstance(func()) (func(), error) { return func() {}, nil }

// trayHostShown: macOS and Windows always show tray icons.
func trayHostShown(context.Context, time.Duration) bool { return true }
