// Command maxrouter routes Claude Code and SDK requests over several Claude
// subscriptions. With no arguments it starts the desktop app; `maxrouter
// serve` runs the daemon; `maxrouter --help` lists the rest.
package main

import (
	_ "embed"
	"os"

	"github.com/pelletier/go-toml/v2"

	"github.com/maxrouter/maxrouter/app/cli"
)

// version overrides FyneApp.toml's version when set at link time:
// go build -ldflags "-X main.version=1.2.3".
var version string

//go:embed FyneApp.toml
var fyneApp []byte

func main() {
	os.Exit(cli.Main(os.Args[1:], appVersion()))
}

// appVersion is the release version: from the link flags, else from
// FyneApp.toml, the one place the version is kept.
func appVersion() string {
	if version != "" {
		return version
	}
	var meta struct {
		Details struct{ Version string }
	}
	if toml.Unmarshal(fyneApp, &meta) != nil || meta.Details.Version == "" {
		return "dev"
	}
	return meta.Details.Version
}
