//go:build !windows

package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/maxrouter/maxrouter/core/daemon"
)

// reloadOnHangup re-reads the configuration on SIGHUP.
func reloadOnHangup(ctx context.Context, d *daemon.Daemon, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := d.Reload(); err != nil {
				log.Error("configuration not reloaded; keeping the running one", "err", err)
			}
		}
	}
}
