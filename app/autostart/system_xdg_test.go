//go:build unix && !darwin

package autostart

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sysExe is the binary the packaged entry starts.
const sysExe = "/usr/bin/maxrouter"

// xdgFixture is a user's home and two system configuration directories,
// all empty until a test writes entries into them.
type xdgFixture struct {
	e          Entry
	user       string // the user's entry
	sys, sys2  string // the system entries, most important first
	sysContent string // what writeSystem wrote into sys
}

func newXDGFixture(t *testing.T) *xdgFixture {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", "")
	home, a, b := t.TempDir(), t.TempDir(), t.TempDir()
	return &xdgFixture{
		e:    Entry{Home: home, ConfigDirs: []string{a, b}},
		user: filepath.Join(home, ".config", "autostart", XDGName),
		sys:  filepath.Join(a, "autostart", XDGName),
		sys2: filepath.Join(b, "autostart", XDGName),
	}
}

// write writes text to path, creating its directory.
func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// read returns the file at path, or "<none>" when it does not exist.
func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "<none>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// switchOff returns the entry starting exe with line in place of the
// GNOME switch.
func switchOff(exe, line string) string {
	return strings.Replace(desktopEntry(exe), "X-GNOME-Autostart-enabled=true\n", line+"\n", 1)
}

func TestXDGEnabledWithSystemEntry(t *testing.T) {
	tests := []struct {
		name            string
		sys, sys2, user string // "" for no file
		want            bool
	}{
		{"nothing", "", "", "", false},
		{"system entry only", desktopEntry(sysExe), "", "", true},
		{"system entry in a less important dir", "", desktopEntry(sysExe), "", true},
		{"hidden by the user", desktopEntry(sysExe), "", hiddenEntry(sysExe), false},
		{"switched off in GNOME by the user", desktopEntry(sysExe), "", switchOff(sysExe, "X-GNOME-Autostart-enabled=false"), false},
		{"user's own entry too", desktopEntry(sysExe), "", desktopEntry("/opt/maxrouter/maxrouter"), true},
		{"switched off by the administrator", switchOff(sysExe, "Hidden=true"), "", "", false},
		{"the more important system dir wins", switchOff(sysExe, "Hidden=true"), desktopEntry(sysExe), "", false},
		{"the user's entry overrides an administrator's switch", switchOff(sysExe, "Hidden=true"), "", desktopEntry(sysExe), true},
		{"Hidden in another group does not count", desktopEntry(sysExe) + "\n[Desktop Action x]\nHidden=true\n", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newXDGFixture(t)
			for path, text := range map[string]string{f.sys: tt.sys, f.sys2: tt.sys2, f.user: tt.user} {
				if text != "" {
					write(t, path, text)
				}
			}
			assertEnabled(t, f.e, tt.want)
		})
	}
}

func TestXDGEnableDisableWithSystemEntry(t *testing.T) {
	tests := []struct {
		name    string
		sys     string // the system entry
		user    string // the user's entry before; "" for none
		disable bool   // Disable, else Enable(sysExe)
		want    string // the user's entry after ("<none>" for no file)
		enabled bool
	}{
		{"disable writes a hidden user entry", desktopEntry(sysExe), "", true, hiddenEntry(sysExe), false},
		{"disable replaces the user's own entry", desktopEntry(sysExe), desktopEntry("/opt/m/maxrouter"), true, hiddenEntry(sysExe), false},
		{"disable again keeps it hidden", desktopEntry(sysExe), hiddenEntry(sysExe), true, hiddenEntry(sysExe), false},
		{"disable when the administrator switched it off removes the user's entry",
			switchOff(sysExe, "Hidden=true"), desktopEntry(sysExe), true, "<none>", false},
		{"enable removes the hidden user entry", desktopEntry(sysExe), hiddenEntry(sysExe), false, "<none>", true},
		{"enable removes a GNOME switch-off", desktopEntry(sysExe), switchOff(sysExe, "X-GNOME-Autostart-enabled=false"), false, "<none>", true},
		{"enable with nothing to remove writes nothing", desktopEntry(sysExe), "", false, "<none>", true},
		{"enable of another binary writes the user's entry",
			desktopEntry("/usr/local/bin/maxrouter"), hiddenEntry("/usr/local/bin/maxrouter"), false, desktopEntry(sysExe), true},
		{"enable when the administrator switched it off writes the user's entry",
			switchOff(sysExe, "Hidden=true"), "", false, desktopEntry(sysExe), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newXDGFixture(t)
			write(t, f.sys, tt.sys)
			if tt.user != "" {
				write(t, f.user, tt.user)
			}
			var err error
			if tt.disable {
				err = f.e.Disable()
			} else {
				err = f.e.Enable(sysExe)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := read(t, f.user); got != tt.want {
				t.Errorf("user entry:\n%s\nwant:\n%s", got, tt.want)
			}
			if got := read(t, f.sys); got != tt.sys {
				t.Errorf("system entry changed to:\n%s", got)
			}
			assertEnabled(t, f.e, tt.enabled)
		})
	}
}

// TestXDGSystemRoundTrip is the settings checkbox switched off and on
// again with the package's entry installed.
func TestXDGSystemRoundTrip(t *testing.T) {
	f := newXDGFixture(t)
	write(t, f.sys2, desktopEntry(sysExe))
	assertEnabled(t, f.e, true)
	if err := f.e.Disable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, f.e, false)
	if got, want := read(t, f.user), hiddenEntry(sysExe); got != want {
		t.Errorf("user entry after Disable:\n%s\nwant:\n%s", got, want)
	}
	if err := f.e.Enable(sysExe); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, f.e, true)
	if got := read(t, f.user); got != "<none>" {
		t.Errorf("user entry after Enable:\n%s\nwant none", got)
	}
}

func TestXDGConfigDirs(t *testing.T) {
	tests := []struct {
		name   string
		dirs   []string // Entry.ConfigDirs
		env    string   // $XDG_CONFIG_DIRS
		want   []string
		envSet bool
	}{
		{"default", nil, "", []string{"/etc/xdg"}, false},
		{"empty variable", nil, "", []string{"/etc/xdg"}, true},
		{"variable", nil, "/etc/xdg/xdg-ubuntu:/etc/xdg", []string{"/etc/xdg/xdg-ubuntu", "/etc/xdg"}, true},
		{"relative entries are ignored", nil, "rel:/usr/local/etc/xdg", []string{"/usr/local/etc/xdg"}, true},
		{"only relative entries: the default", nil, "rel", []string{"/etc/xdg"}, true},
		{"given dirs win over the variable", []string{"/a", "/b"}, "/etc/xdg", []string{"/a", "/b"}, true},
		{"none given", []string{}, "/etc/xdg", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.envSet {
				t.Setenv("XDG_CONFIG_DIRS", tt.env)
			} else {
				t.Setenv("XDG_CONFIG_DIRS", "")
				os.Unsetenv("XDG_CONFIG_DIRS")
			}
			if got := (Entry{ConfigDirs: tt.dirs}).configDirs(); !slices.Equal(got, tt.want) {
				t.Errorf("configDirs() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestXDGConfigDirsVariable finds the system entry through
// $XDG_CONFIG_DIRS when ConfigDirs is not given.
func TestXDGConfigDirsVariable(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "")
	sys := t.TempDir()
	t.Setenv("XDG_CONFIG_DIRS", "relative:"+sys)
	write(t, filepath.Join(sys, "autostart", XDGName), desktopEntry(sysExe))
	e := Entry{Home: t.TempDir()}
	assertEnabled(t, e, true)
	if err := e.Disable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, e, false)
}

func TestXDGEntryIsWhatEnableWrites(t *testing.T) {
	f := newXDGFixture(t)
	if err := f.e.Enable(sysExe); err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, f.user), XDGEntry(sysExe); got != want {
		t.Errorf("Enable wrote:\n%s\nXDGEntry:\n%s", got, want)
	}
	if loc, _ := f.e.Location(); filepath.Base(loc) != XDGName {
		t.Errorf("Location() = %s, want a file named %s", loc, XDGName)
	}
}
