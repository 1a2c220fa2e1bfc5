// Package assets holds MaxRouter's icons, embedded in the binary.
//
// The PNGs are drawn by gen/main.go; change the drawing there and run
// `go generate ./assets` (or `go run assets/gen/main.go` from the repository
// root) rather than editing the images. Each accessor returns a fresh copy, so
// callers may keep or modify the bytes.
package assets

import (
	"embed"
	"fmt"
)

//go:generate go run gen/main.go -out .

// File names of the embedded icons, as accepted by Resource.
const (
	IconName     = "icon.png"
	TrayOKName   = "tray-ok.png"
	TraySomeName = "tray-some.png"
	TrayNoneName = "tray-none.png"
	TrayDownName = "tray-down.png"
	// TrayLoginName is shown when an account needs the person (a login, or
	// one failing): violet, an exclamation mark beside the router.
	TrayLoginName = "tray-login.png"
	// TrayPausedName is shown while routing is paused: slate blue, two bars.
	TrayPausedName = "tray-paused.png"
	// TrayEmptyName is shown when no account is configured: grey, both
	// outputs as rings.
	TrayEmptyName = "tray-empty.png"
)

//go:embed icon.png tray-ok.png tray-some.png tray-none.png tray-down.png tray-login.png tray-paused.png tray-empty.png
var files embed.FS

// Icon returns the application icon: a 512×512 PNG.
func Icon() []byte { return mustRead(IconName) }

// TrayOK returns the tray icon shown when every enabled account is available:
// a green disc with the router glyph, 64×64 PNG.
func TrayOK() []byte { return mustRead(TrayOKName) }

// TraySome returns the tray icon shown when some accounts are cooling down
// and at least one is available: amber, one output drawn as a ring.
func TraySome() []byte { return mustRead(TraySomeName) }

// TrayNone returns the tray icon shown when no account is available: red,
// both outputs drawn as rings.
func TrayNone() []byte { return mustRead(TrayNoneName) }

// TrayDown returns the tray icon shown when the daemon cannot be reached:
// grey, the glyph struck through.
func TrayDown() []byte { return mustRead(TrayDownName) }

// Names lists the embedded icons' file names.
func Names() []string {
	return []string{IconName, TrayOKName, TraySomeName, TrayNoneName, TrayDownName, TrayLoginName, TrayPausedName, TrayEmptyName}
}

// Bytes returns the embedded file with the given name, or an error naming it
// when there is none.
func Bytes(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading embedded asset %q: %w", name, err)
	}
	return b, nil
}

// mustRead reads a file that the go:embed directive above guarantees exists.
func mustRead(name string) []byte {
	b, err := Bytes(name)
	if err != nil {
		panic(err)
	}
	return b
}
