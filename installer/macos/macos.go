// Package macos lays out MaxRouter.app from FyneApp.toml: Info.plist (a
// menu-bar app, LSUIElement), the binary and the icon. The layout is made by
// Go on any OS, so tests check it here; the binary itself (cgo, Apple's SDK)
// and the .dmg (hdiutil) are made on a Mac by build-macos.sh.
//
// The daemon's LaunchAgent is not in the bundle: it holds the user's own
// config path, so the app writes it (app/service) to
// ~/Library/LaunchAgents/maxrouter.plist when the daemon is set to start at
// login. maxrouter.plist beside this file is what it writes for a user
// "you" with the app in /Applications; a test keeps it in step.
package macos

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/maxrouter/maxrouter/installer/release"
)

//go:embed Info.plist.tmpl
var infoTemplate string

// Layout names inside the bundle.
const (
	// Executable is the binary's name in Contents/MacOS.
	Executable = "maxrouter"
	// IconFile is the icon in Contents/Resources.
	IconFile = "icon.icns"
)

// BundleName is the .app's directory name: "MaxRouter.app".
func BundleName(m release.Meta) string { return m.Details.Name + ".app" }

// ExecutablePath is the binary inside the bundle installed in dir
// (normally /Applications): what os.Executable reports in the app, and so
// what app/service and app/autostart write into the LaunchAgents.
func ExecutablePath(m release.Meta, dir string) string {
	return filepath.Join(dir, BundleName(m), "Contents", "MacOS", Executable)
}

// InfoPlist renders Contents/Info.plist.
func InfoPlist(m release.Meta) (string, error) {
	t, err := template.New("Info.plist").Funcs(template.FuncMap{"xml": xmlText}).Parse(infoTemplate)
	if err != nil {
		return "", fmt.Errorf("parsing the Info.plist template: %w", err)
	}
	var b strings.Builder
	err = t.Execute(&b, map[string]string{
		"Name": m.Details.Name, "ID": m.Details.ID, "Version": m.Details.Version,
		"Executable": Executable, "IconFile": IconFile,
	})
	if err != nil {
		return "", fmt.Errorf("rendering Info.plist: %w", err)
	}
	return b.String(), nil
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// Bundle lays out dir/MaxRouter.app around binary (a darwin build) and
// returns the bundle's path. An existing bundle there is replaced.
func Bundle(m release.Meta, binary, dir string) (string, error) {
	app := filepath.Join(dir, BundleName(m))
	if err := os.RemoveAll(app); err != nil {
		return "", fmt.Errorf("removing the old bundle: %w", err)
	}
	for _, d := range []string{"MacOS", "Resources"} {
		if err := os.MkdirAll(filepath.Join(app, "Contents", d), 0o755); err != nil {
			return "", fmt.Errorf("creating the bundle: %w", err)
		}
	}
	info, err := InfoPlist(m)
	if err != nil {
		return "", err
	}
	icon, err := release.LoadIcon(m.IconPath())
	if err != nil {
		return "", err
	}
	icns, err := ICNS(icon)
	if err != nil {
		return "", err
	}
	exe, err := os.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("reading the darwin binary: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"Info.plist", []byte(info), 0o644},
		{"PkgInfo", []byte("APPL????"), 0o644},
		{filepath.Join("MacOS", Executable), exe, 0o755},
		{filepath.Join("Resources", IconFile), icns, 0o644},
	} {
		p := filepath.Join(app, "Contents", f.name)
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return "", fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return app, nil
}

// icnsTypes are the PNG-encoded icon types of an .icns and their pixel
// sizes (the @2x types hold twice the point size).
var icnsTypes = []struct {
	kind string
	px   int
}{
	{"icp4", 16}, {"ic11", 32}, {"icp5", 32}, {"ic12", 64}, {"ic07", 128},
	{"ic13", 256}, {"ic08", 256}, {"ic14", 512}, {"ic09", 512},
}

// ICNS encodes img as an Apple icon file of PNG images.
func ICNS(img image.Image) ([]byte, error) {
	var body bytes.Buffer
	for _, t := range icnsTypes {
		p, err := release.ScaledPNG(img, t.px)
		if err != nil {
			return nil, err
		}
		body.WriteString(t.kind)
		body.Write(binary.BigEndian.AppendUint32(nil, uint32(8+len(p))))
		body.Write(p)
	}
	out := []byte("icns")
	out = binary.BigEndian.AppendUint32(out, uint32(8+body.Len()))
	return append(out, body.Bytes()...), nil
}
