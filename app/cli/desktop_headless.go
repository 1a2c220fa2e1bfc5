//go:build headless

package cli

import (
	"errors"
	"log/slog"
)

func runDesktop(string, string, *slog.Logger) error {
	return errors.New("this maxrouter was built without the desktop app (-tags headless); run `maxrouter serve`, see `maxrouter --help`")
}
