// Package linux builds MaxRouter's Linux packages (.deb, .rpm and a tar.xz)
// from one description: the binary, the menu entry and hicolor icons, an
// XDG autostart entry for the tray and a systemd user unit for the daemon.
//
// The autostart entry and the unit are rendered by the same code the app
// uses to write them for one user (app/autostart, app/service), so the
// packaged files cannot drift from what the app itself installs.
package linux

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/maxrouter/maxrouter/app/autostart"
	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/installer/release"
)

// Where the packages put their files.
const (
	BinPath       = "/usr/bin/maxrouter"
	AutostartPath = "/etc/xdg/autostart/maxrouter.desktop"
	UnitPath      = "/usr/lib/systemd/user/" + service.Name + ".service"
	DocPath       = "/usr/share/doc/maxrouter/README.md"
	// IconName is the icon's name in the theme (Icon= in the entries).
	IconName = "maxrouter"
)

// IconSizes are the hicolor sizes the packages ship.
var IconSizes = []int{16, 22, 24, 32, 48, 64, 128, 256, 512}

// DesktopPath is the menu entry, named after the app ID so desktops can
// match the running window (Wayland app_id) to it.
func DesktopPath(m release.Meta) string {
	return "/usr/share/applications/" + m.Details.ID + ".desktop"
}

// IconPath is the hicolor icon of size px.
func IconPath(px int) string {
	return fmt.Sprintf("/usr/share/icons/hicolor/%dx%d/apps/%s.png", px, px, IconName)
}

// placeholderConfig stands for the config path in the unit Manager renders;
// the packaged unit drops it (see Unit).
const placeholderConfig = "/maxrouter-packaged-config/config.toml"

// Unit is the systemd user unit for every user of a packaged install: the
// unit app/service writes for one user, running exe, without --config, so
// `maxrouter serve` uses the default config path
// ($XDG_CONFIG_HOME/maxrouter/config.toml, else ~/.config/maxrouter/config.toml),
// the same one the desktop app and the CLI use.
func Unit(exe string) (string, error) {
	m, err := service.New(service.Options{Executable: exe, ConfigPath: placeholderConfig})
	if err != nil {
		return "", fmt.Errorf("rendering the systemd unit: %w", err)
	}
	text, err := m.Unit()
	if err != nil {
		return "", fmt.Errorf("rendering the systemd unit: %w", err)
	}
	flag := " --config " + placeholderConfig
	if strings.Count(text, flag) != 1 {
		return "", fmt.Errorf("rendering the systemd unit: app/service's ExecStart no longer ends in %q:\n%s", flag, text)
	}
	return strings.Replace(text, flag, "", 1), nil
}

// AutostartEntry is the XDG autostart entry starting exe (the tray) at
// login, the text app/autostart writes into one user's ~/.config/autostart.
// The same file name there overrides this one, as the XDG autostart spec
// says, so a user's own entry never starts a second tray, and a user who
// switches start-at-login off gets a Hidden=true copy there.
func AutostartEntry(exe string) (string, error) {
	if filepath.Base(AutostartPath) != autostart.XDGName {
		return "", fmt.Errorf("rendering the autostart entry: app/autostart names it %s, the package %s", autostart.XDGName, filepath.Base(AutostartPath))
	}
	return autostart.XDGEntry(exe), nil
}

// DesktopEntry is the application-menu entry, from FyneApp.toml.
func DesktopEntry(m release.Meta) string {
	list := func(xs []string) string {
		if len(xs) == 0 {
			return ""
		}
		return strings.Join(xs, ";") + ";"
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=" + m.Details.Name + "\n")
	if g := m.LinuxAndBSD.GenericName; g != "" {
		b.WriteString("GenericName=" + g + "\n")
	}
	if c := m.LinuxAndBSD.Comment; c != "" {
		b.WriteString("Comment=" + c + "\n")
	}
	b.WriteString("Exec=" + filepath.Base(BinPath) + "\n")
	b.WriteString("TryExec=" + BinPath + "\n")
	b.WriteString("Icon=" + IconName + "\n")
	b.WriteString("Terminal=false\n")
	// The app starts in the tray; a launch spinner would wait for a window.
	b.WriteString("StartupNotify=false\n")
	if c := list(m.LinuxAndBSD.Categories); c != "" {
		b.WriteString("Categories=" + c + "\n")
	}
	if k := list(m.LinuxAndBSD.Keywords); k != "" {
		b.WriteString("Keywords=" + k + "\n")
	}
	return b.String()
}
