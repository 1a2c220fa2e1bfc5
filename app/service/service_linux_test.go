package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kardianos/service"
)

// fakeSystemctl logs each call's arguments to $FAKE_SYSTEMCTL_LOG, answers
// is-active with $FAKE_SYSTEMCTL_ACTIVE (default "inactive"), and exits
// with $FAKE_SYSTEMCTL_EXIT for --user show-environment.
const fakeSystemctl = `#!/bin/sh
echo "$*" >> "$FAKE_SYSTEMCTL_LOG"
case "$1" in
is-active)
	state="${FAKE_SYSTEMCTL_ACTIVE:-inactive}"
	echo "$state"
	[ "$state" = active ] || exit 3 ;;
list-unit-files)
	echo "maxrouter.service enabled enabled" ;;
--version)
	echo "systemd 252 (252.33-1~deb12u1)" ;;
--user)
	exit "${FAKE_SYSTEMCTL_EXIT:-0}" ;;
esac
exit 0
`

type systemdEnv struct {
	home, config, log string
}

// setupSystemd points HOME at a temp dir and puts a fake systemctl first
// on PATH.
func setupSystemd(t *testing.T) systemdEnv {
	t.Helper()
	root := t.TempDir()
	env := systemdEnv{
		home:   filepath.Join(root, "home"),
		config: filepath.Join(root, "home", ".config", "maxrouter", "config.toml"),
		log:    filepath.Join(root, "systemctl.log"),
	}
	bin := filepath.Join(root, "bin")
	for _, d := range []string{env.home, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fakeSystemctl), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", env.home)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SYSTEMCTL_LOG", env.log)
	t.Setenv("FAKE_SYSTEMCTL_ACTIVE", "")
	t.Setenv("FAKE_SYSTEMCTL_EXIT", "")
	return env
}

// calls returns the fake systemctl's calls so far and forgets them.
func (e systemdEnv) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(e.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.log); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func systemdSystem(t *testing.T) service.System {
	t.Helper()
	for _, s := range service.AvailableSystems() {
		if s.String() == "linux-systemd" {
			return s
		}
	}
	t.Fatal("kardianos/service offers no linux-systemd system")
	return nil
}

func newSystemdManager(t *testing.T, env systemdEnv) *Manager {
	t.Helper()
	m, err := New(Options{
		Executable: "/usr/bin/maxrouter",
		ConfigPath: env.config,
		System:     systemdSystem(t),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func assertCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("systemctl calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestInstallUninstallSystemd(t *testing.T) {
	env := setupSystemd(t)
	m := newSystemdManager(t, env)
	unitFile := filepath.Join(env.home, ".config", "systemd", "user", "maxrouter.service")

	if got, err := m.Status(); got != NotInstalled || err != nil {
		t.Fatalf("Status before Install = %v, %v; want %v, nil", got, err, NotInstalled)
	}
	if err := m.Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatalf("reading the installed unit: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{
		"ExecStart=/usr/bin/maxrouter serve --config " + env.config,
		"WantedBy=default.target",
		"Restart=on-failure",
		"RestartSec=5",
		"Description=MaxRouter — Claude account router (proxy daemon)",
	} {
		if !contains(lines, want) {
			t.Errorf("installed unit has no line %q:\n%s", want, b)
		}
	}
	unit, err := m.Unit()
	if err != nil {
		t.Fatalf("Unit: %v", err)
	}
	if string(b) != unit {
		t.Errorf("installed unit differs from Unit():\n--- installed\n%s--- Unit()\n%s", b, unit)
	}
	assertCalls(t, env.calls(t), "enable --user maxrouter.service", "daemon-reload --user")

	// Installing the same unit again changes nothing.
	if err := m.Install(); err != nil {
		t.Fatalf("second Install: %v", err)
	}
	assertCalls(t, env.calls(t))

	if err := m.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	assertCalls(t, env.calls(t), "start --user maxrouter.service")
	if err := m.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	assertCalls(t, env.calls(t), "restart --user maxrouter.service")
	if err := m.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertCalls(t, env.calls(t), "stop --user maxrouter.service")

	if err := m.Uninstall(); err != nil {
		t.Fatalf("Uninstall: %v", err)
	}
	if _, err := os.Stat(unitFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unit file after Uninstall: stat err = %v, want not exist", err)
	}
	assertCalls(t, env.calls(t),
		"stop --user maxrouter.service",
		"disable --user maxrouter.service",
		"daemon-reload --user")

	if err := m.Uninstall(); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("second Uninstall: err = %v, want ErrNotInstalled", err)
	}
	if err := m.Start(); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Start after Uninstall: err = %v, want ErrNotInstalled", err)
	}
	assertCalls(t, env.calls(t))
}

func TestInstallReplacesOutdatedUnit(t *testing.T) {
	env := setupSystemd(t)
	old, err := New(Options{Executable: "/opt/old/maxrouter", ConfigPath: env.config, System: systemdSystem(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Install(); err != nil {
		t.Fatalf("Install (old): %v", err)
	}
	env.calls(t)

	m := newSystemdManager(t, env)
	if err := m.Install(); err != nil {
		t.Fatalf("Install (new): %v", err)
	}
	b, err := os.ReadFile(filepath.Join(env.home, ".config", "systemd", "user", "maxrouter.service"))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := m.Unit(); string(b) != want {
		t.Errorf("unit after reinstall:\n%s\nwant:\n%s", b, want)
	}
	assertCalls(t, env.calls(t),
		"disable --user maxrouter.service",
		"daemon-reload --user",
		"enable --user maxrouter.service",
		"daemon-reload --user")
}

func TestStatusSystemd(t *testing.T) {
	tests := []struct {
		active string
		want   State
	}{
		{"active", Running},
		{"activating", Running},
		{"inactive", Stopped},
		{"failed", Stopped},
	}
	for _, tt := range tests {
		t.Run(tt.active, func(t *testing.T) {
			env := setupSystemd(t)
			m := newSystemdManager(t, env)
			if err := m.Install(); err != nil {
				t.Fatal(err)
			}
			env.calls(t)
			t.Setenv("FAKE_SYSTEMCTL_ACTIVE", tt.active)
			got, err := m.Status()
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if got != tt.want {
				t.Errorf("Status with is-active %q = %v, want %v", tt.active, got, tt.want)
			}
			if calls := env.calls(t); len(calls) == 0 || calls[0] != "is-active maxrouter.service --user" {
				t.Errorf("systemctl calls = %q, want is-active --user first", calls)
			}
		})
	}
}

func TestUsable(t *testing.T) {
	tests := []struct {
		name        string
		system      string
		booted      bool
		systemctlRC string
		want        bool
		wantCalls   []string
	}{
		{"systemd with a user manager", "linux-systemd", true, "0", true, []string{"--user show-environment"}},
		{"systemctl --user fails", "linux-systemd", true, "1", false, []string{"--user show-environment"}},
		{"systemd is not PID 1", "linux-systemd", false, "0", false, nil},
		{"not systemd", "unix-systemv", true, "0", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := setupSystemd(t)
			t.Setenv("FAKE_SYSTEMCTL_EXIT", tt.systemctlRC)
			var system service.System
			for _, s := range service.AvailableSystems() {
				if s.String() == tt.system {
					system = s
				}
			}
			m, err := New(Options{Executable: "/usr/bin/maxrouter", ConfigPath: env.config, System: system})
			if err != nil {
				t.Fatal(err)
			}
			m.systemdRunDir = filepath.Join(t.TempDir(), "run-systemd-system")
			if tt.booted {
				if err := os.Mkdir(m.systemdRunDir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.Usable(); got != tt.want {
				t.Errorf("Usable() = %v, want %v", got, tt.want)
			}
			assertCalls(t, env.calls(t), tt.wantCalls...)
		})
	}
}

func TestNoServiceManager(t *testing.T) {
	env := setupSystemd(t)
	var sysv service.System
	for _, s := range service.AvailableSystems() {
		if s.String() == "unix-systemv" {
			sysv = s
		}
	}
	m, err := New(Options{Executable: "/usr/bin/maxrouter", ConfigPath: env.config, System: sysv})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() error{
		"Install": m.Install, "Uninstall": m.Uninstall, "Start": m.Start, "Stop": m.Stop, "Restart": m.Restart,
	} {
		if err := f(); !errors.Is(err, ErrNoServiceManager) {
			t.Errorf("%s: err = %v, want ErrNoServiceManager", name, err)
		}
	}
	if _, err := m.Status(); !errors.Is(err, ErrNoServiceManager) {
		t.Errorf("Status: err = %v, want ErrNoServiceManager", err)
	}
	assertCalls(t, env.calls(t))
}
