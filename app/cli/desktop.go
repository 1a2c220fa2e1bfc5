//go:build !headless

package cli

import (
	"log/slog"

	"github.com/maxrouter/maxrouter/app/desktop"
)

func runDesktop(configPath, version string, log *slog.Logger) error {
	return desktop.Run(desktop.Options{ConfigPath: configPath, Version: version, Logger: log})
}
