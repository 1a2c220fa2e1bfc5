package service

import (
	"encoding/xml"
	"strings"
)

// The service files for every platform are rendered by pure functions here,
// so each can be tested on any OS.

// systemdUnit renders the systemd user unit running exe with args.
func systemdUnit(description, exe string, args []string) string {
	words := make([]string, 0, len(args)+1)
	for _, w := range append([]string{exe}, args...) {
		words = append(words, systemdWord(w))
	}
	var b strings.Builder
	b.WriteString("[Unit]\n")
	b.WriteString("Description=" + systemdSpecifiers(description) + "\n")
	// A removed binary (package uninstalled) leaves the unit inert instead
	// of failing in a restart loop.
	b.WriteString("ConditionFileIsExecutable=" + systemdSpecifiers(exe) + "\n")
	b.WriteString("\n[Service]\n")
	b.WriteString("Type=simple\n")
	b.WriteString("ExecStart=" + strings.Join(words, " ") + "\n")
	b.WriteString("Restart=on-failure\n")
	b.WriteString("RestartSec=5\n")
	b.WriteString("\n[Install]\n")
	// default.target, not multi-user.target: a user manager never reaches
	// multi-user.target, so a unit wanted by it would never start at login.
	b.WriteString("WantedBy=default.target\n")
	return b.String()
}

// systemdSpecifiers escapes % so systemd does not expand it as a specifier.
func systemdSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// systemdWord renders one word of an ExecStart command line: % and $ are
// doubled (specifiers, variables), and a word with anything beyond a plain
// path is double-quoted with \ and " escaped.
func systemdWord(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	plain := s != ""
	for _, r := range s {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@%$", r) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// launchdPlist renders the LaunchAgent that runs exe with args at login and
// keeps it alive, with its output appended to logPath.
func launchdPlist(label, exe string, args []string, logPath string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
`)
	plistString(&b, "Label", label)
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range append([]string{exe}, args...) {
		b.WriteString("\t\t<string>" + xmlText(a) + "</string>\n")
	}
	b.WriteString("\t</array>\n")
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>KeepAlive</key>\n\t<true/>\n")
	plistString(&b, "StandardOutPath", logPath)
	plistString(&b, "StandardErrorPath", logPath)
	b.WriteString("</dict>\n</plist>\n")
	return b.String()
}

func plistString(b *strings.Builder, key, value string) {
	b.WriteString("\t<key>" + xmlText(key) + "</key>\n\t<string>" + xmlText(value) + "</string>\n")
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// windowsCommandLine renders a command line for the Run key: the program
// path in quotes (CreateProcess splits it on spaces otherwise), then each
// argument quoted as CommandLineToArgvW expects.
func windowsCommandLine(exe string, args []string) string {
	parts := []string{`"` + exe + `"`}
	for _, a := range args {
		parts = append(parts, windowsArg(a))
	}
	return strings.Join(parts, " ")
}

// windowsArg quotes one argument: backslashes are literal except before a
// quote, where they are doubled, and a quote is written as \".
func windowsArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\v\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			b.WriteByte('"')
			slashes = 0
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
			b.WriteByte(c)
			slashes = 0
		}
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}
