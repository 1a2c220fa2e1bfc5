//go:build unix && !darwin

package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXDGEnableDisable(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "")
	e := Entry{Home: home, ConfigDirs: []string{}}
	path := filepath.Join(home, ".config", "autostart", "maxrouter.desktop")

	if got, err := e.Location(); err != nil || got != path {
		t.Errorf("Location() = %q, %v; want %q", got, err, path)
	}
	assertEnabled(t, e, false)

	if err := e.Enable("/usr/bin/maxrouter"); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the entry: %v", err)
	}
	if string(b) != desktopEntry("/usr/bin/maxrouter") {
		t.Errorf("entry:\n%s\nwant:\n%s", b, desktopEntry("/usr/bin/maxrouter"))
	}
	assertEnabled(t, e, true)

	// Enabling again with another binary replaces the entry.
	if err := e.Enable("/opt/maxrouter/maxrouter"); err != nil {
		t.Fatalf("second Enable: %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "\nExec=/opt/maxrouter/maxrouter\n") {
		t.Errorf("entry after second Enable:\n%s\nwant Exec=/opt/maxrouter/maxrouter", b)
	}

	if err := e.Disable(); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry after Disable: stat err = %v, want not exist", err)
	}
	assertEnabled(t, e, false)
	if err := e.Disable(); err != nil {
		t.Errorf("Disable with no entry: %v, want nil", err)
	}
}

func TestXDGConfigHome(t *testing.T) {
	tests := []struct {
		name, xdg string
		want      func(home, xdg string) string
	}{
		{"absolute XDG_CONFIG_HOME wins", "abs", func(home, xdg string) string {
			return filepath.Join(xdg, "autostart", "maxrouter.desktop")
		}},
		{"relative XDG_CONFIG_HOME is ignored", "rel", func(home, xdg string) string {
			return filepath.Join(home, ".config", "autostart", "maxrouter.desktop")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			xdg := filepath.Join(t.TempDir(), "xdg")
			if tt.xdg == "rel" {
				xdg = "relative/config"
			}
			t.Setenv("XDG_CONFIG_HOME", xdg)
			e := Entry{Home: home, ConfigDirs: []string{}}
			if err := e.Enable("/usr/bin/maxrouter"); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			want := tt.want(home, xdg)
			if _, err := os.Stat(want); err != nil {
				t.Errorf("entry not at %s: %v", want, err)
			}
			if got, _ := e.Location(); got != want {
				t.Errorf("Location() = %q, want %q", got, want)
			}
		})
	}
}

func TestXDGSwitchedOff(t *testing.T) {
	tests := []struct {
		name, line string
		want       bool
	}{
		{"GNOME switch off", "X-GNOME-Autostart-enabled=false", false},
		{"hidden", "Hidden=true", false},
		{"hidden false", "Hidden=false", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", "")
			e := Entry{Home: home, ConfigDirs: []string{}}
			if err := e.Enable("/usr/bin/maxrouter"); err != nil {
				t.Fatal(err)
			}
			path, _ := e.Location()
			b, _ := os.ReadFile(path)
			text := strings.Replace(string(b), "X-GNOME-Autostart-enabled=true\n", tt.line+"\n", 1)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			assertEnabled(t, e, tt.want)
		})
	}
}

func TestEnableNeedsExecutable(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "")
	if err := (Entry{Home: t.TempDir(), ConfigDirs: []string{}}).Enable(""); err == nil {
		t.Error(`Enable("") = nil, want an error`)
	}
}

func assertEnabled(t *testing.T, e Entry, want bool) {
	t.Helper()
	got, err := e.Enabled()
	if err != nil {
		t.Fatalf("Enabled: %v", err)
	}
	if got != want {
		t.Errorf("Enabled() = %v, want %v", got, want)
	}
}
