package cli

import (
	"context"
	"log/slog"

	"github.com/maxrouter/maxrouter/core/daemon"
)

// reloadOnHangup does nothing on Windows, which has no SIGHUP.
func reloadOnHangup(context.Context, *daemon.Daemon, *slog.Logger) {}
