package autostart

import (
	"encoding/xml"
	"strings"
)

// The login items' contents for each platform are pure functions here, so
// every one can be tested on any OS.

// Label is the launchd label of the tray's LaunchAgent; the file is
// ~/Library/LaunchAgents/Label.plist.
const Label = "io.maxrouter.tray"

// launchAgent renders the LaunchAgent that starts exe once at login in the
// user's graphical (Aqua) session. No KeepAlive: quitting the tray is the
// user's choice.
func launchAgent(exe string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + Label + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + xmlText(exe) + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
</dict>
</plist>
`
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// XDGName is the file name of the XDG autostart entry, in the user's
// $XDG_CONFIG_HOME/autostart and in a package's /etc/xdg/autostart alike:
// the same name is what lets the user's file override the system one.
const XDGName = "maxrouter.desktop"

// XDGEntry renders the XDG autostart entry that starts exe at login, as
// Enable writes it for one user; a package installs the same text for
// every user.
func XDGEntry(exe string) string { return desktopEntry(exe) }

// desktopEntry renders the XDG autostart entry that starts exe at login.
func desktopEntry(exe string) string {
	return `[Desktop Entry]
Type=Application
Name=MaxRouter
GenericName=Claude account router
Comment=Use several Claude subscriptions from one workstation
Exec=` + desktopExec(exe) + `
Icon=maxrouter
Terminal=false
StartupNotify=false
X-GNOME-Autostart-enabled=true
`
}

// desktopExec renders exe as an Exec value by the Desktop Entry spec: an
// argument with a reserved character is double-quoted with ", `, $ and \
// backslash-escaped inside; % is doubled (it starts field codes); then the
// value as a whole escapes \ again, and control characters, as any string
// value does.
func desktopExec(exe string) string {
	arg := strings.ReplaceAll(exe, "%", "%%")
	if strings.ContainsAny(arg, " \t\n\"'\\><~|&;$*?#()`") {
		arg = `"` + strings.NewReplacer(`"`, `\"`, "`", "\\`", `$`, `\$`, `\`, `\\`).Replace(arg) + `"`
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(arg)
}

// hiddenEntry renders the user's entry that switches off a system-wide one
// of the same name: by the XDG autostart spec, Hidden=true makes it as if
// the entry did not exist. exec is the system entry's Exec value, kept so
// that tools listing startup applications still see what it would start.
func hiddenEntry(exec string) string {
	if exec != "" {
		exec = "Exec=" + exec + "\n"
	}
	return `[Desktop Entry]
Type=Application
Name=MaxRouter
Comment=Switches off the MaxRouter login item installed for all users
` + exec + `Hidden=true
`
}
