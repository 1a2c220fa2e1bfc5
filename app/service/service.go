// Package service installs and controls the MaxRouter daemon
// (`maxrouter serve`) as a per-user OS service, and starts it as a detached
// background process where no user service manager exists.
package service

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kardianos/service"
	"github.com/maxrouter/maxrouter/core/store"
)

// Name is the service's name: the systemd unit is Name+".service", the
// launchd label is Name.
const Name = "maxrouter"

// Description is the one line shown by the service manager.
const Description = "MaxRouter — Claude account router (proxy daemon)"

// File names next to the config file, used by the daemon when it runs
// without a service manager (and on macOS for the service's output).
const (
	logFile = "maxrouter.log"
	pidFile = "maxrouter.pid"
	// stoppedFile marks a daemon the person stopped on purpose (Stop, or
	// `maxrouter service stop`): the desktop app does not start it again
	// by itself when it is launched. A start removes it.
	stoppedFile = "maxrouter.stopped"
)

var (
	// ErrNotInstalled is returned by the methods that need an installed
	// service when it is not installed.
	ErrNotInstalled = errors.New("service is not installed")
	// ErrNoServiceManager is returned where no per-user service manager
	// can be used (for example Linux without systemd as PID 1).
	ErrNoServiceManager = errors.New("no per-user service manager available")
	// ErrNotRunning is returned by StopDetached when no detached daemon runs.
	ErrNotRunning = errors.New("background daemon is not running")
)

// Options configures a Manager.
type Options struct {
	// Executable is the maxrouter binary the service runs; "" means the
	// running binary (os.Executable).
	Executable string
	// ConfigPath is the daemon's config file, passed as `serve --config`;
	// required. A relative path is made absolute.
	ConfigPath string
	// System is the service manager to use; nil means the one kardianos/service
	// detected for this machine. Tests pass the "linux-systemd" entry of
	// service.AvailableSystems(). Ignored on Windows.
	System service.System
	// Logger receives one line per action; nil discards them.
	Logger *slog.Logger
}

// State is what Status found.
type State int

// The states Status reports.
const (
	Unknown      State = iota // the service manager gave no clear answer
	NotInstalled              // no service is installed
	Stopped                   // installed, not running
	Running                   // installed and running (or starting)
)

// String returns the state for people: "running", "not installed", ...
func (s State) String() string {
	switch s {
	case NotInstalled:
		return "not installed"
	case Stopped:
		return "stopped"
	case Running:
		return "running"
	default:
		return "unknown"
	}
}

// Manager installs, starts and stops the daemon as a per-user service.
//
//   - Linux: a systemd user unit in ~/.config/systemd/user/maxrouter.service,
//     WantedBy=default.target (a user session never reaches multi-user.target),
//     restarted on failure; controlled with `systemctl --user`.
//   - macOS: a LaunchAgent in ~/Library/LaunchAgents/maxrouter.plist with
//     RunAtLoad and KeepAlive; output goes to maxrouter.log next to the config.
//   - Windows: kardianos/service would install a Windows service, which needs
//     an administrator and runs outside the user's session (where the Claude
//     credential directories and the user's profile live). We choose not to:
//     Install writes a value "MaxRouter daemon" under the per-user Run key
//     (HKCU\Software\Microsoft\Windows\CurrentVersion\Run) so that
//     `maxrouter serve` starts at login, with no admin rights and no surprise;
//     Start and Stop run and end that process as a detached background
//     process, as StartDetached and StopDetached do.
//
// Where Usable is false, callers start the daemon with StartDetached instead.
type Manager struct {
	exe        string // absolute path of the maxrouter binary
	configPath string // absolute path of the config file
	system     service.System
	svc        service.Service // nil where kardianos/service is not used
	log        *slog.Logger

	// systemdRunDir exists when systemd is PID 1 (sd_booted); a field so
	// tests can point it elsewhere.
	systemdRunDir string
}

// New returns a Manager for the daemon of the config file opts.ConfigPath.
func New(opts Options) (*Manager, error) {
	if opts.ConfigPath == "" {
		return nil, errors.New("service: config path is required")
	}
	cfg, err := filepath.Abs(opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("resolving config path %s: %w", opts.ConfigPath, err)
	}
	exe := opts.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding the maxrouter executable: %w", err)
		}
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, fmt.Errorf("resolving executable path %s: %w", opts.Executable, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	system := opts.System
	if system == nil {
		system = service.ChosenSystem()
	}
	m := &Manager{
		exe:           exe,
		configPath:    cfg,
		system:        system,
		log:           log.With("component", "service"),
		systemdRunDir: "/run/systemd/system",
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

// args are the daemon's arguments after the executable.
func (m *Manager) args() []string {
	return []string{"serve", "--config", m.configPath}
}

// LogPath is the file the daemon's output goes to when it runs detached
// (and, on macOS, under launchd): maxrouter.log next to the config file.
func (m *Manager) LogPath() string {
	return filepath.Join(filepath.Dir(m.configPath), logFile)
}

func (m *Manager) pidPath() string {
	return filepath.Join(filepath.Dir(m.configPath), pidFile)
}

// config is the kardianos/service configuration, with every platform's
// options in one place. The unit and plist are rendered here, in full, by
// unit.go rather than left to kardianos's templates: Unit can then show
// exactly what Install writes, and the values are escaped for each format
// (systemd's % specifiers and $ variables, XML in the plist). Options a
// platform does not read are ignored there.
func (m *Manager) config() (*service.Config, error) {
	if err := m.checkPaths(); err != nil {
		return nil, err
	}
	args := m.args()
	return &service.Config{
		Name:        Name,
		DisplayName: "MaxRouter",
		Description: Description,
		Executable:  m.exe,
		Arguments:   args,
		Option: service.KeyValue{
			// Linux and macOS: install for the current user, no root.
			"UserService": true,
			// Linux: WantedBy=default.target, Restart=on-failure, RestartSec=5.
			"SystemdScript": systemdUnit(Description, m.exe, args),
			"Restart":       "on-failure",
			// macOS: start at login and restart when it exits.
			"LaunchdConfig": launchdPlist(Name, m.exe, args, m.LogPath()),
			"RunAtLoad":     true,
			"KeepAlive":     true,
			"LogDirectory":  filepath.Dir(m.configPath),
		},
	}, nil
}

// checkPaths refuses paths that kardianos/service would misread: it parses
// the rendered unit as a template, where "{{" starts an action.
func (m *Manager) checkPaths() error {
	for _, p := range []string{m.exe, m.configPath} {
		if strings.Contains(p, "{{") {
			return fmt.Errorf("path %q contains \"{{\", which a service file cannot hold", p)
		}
	}
	return nil
}

// program satisfies service.Interface. The daemon never calls Run (it is a
// plain foreground process under systemd and launchd), so nothing happens.
type program struct{}

func (program) Start(service.Service) error { return nil }
func (program) Stop(service.Service) error  { return nil }

// Install installs the service so that it starts at login. Installing an
// identical unit again does nothing; a unit that differs (a moved binary or
// config file) is replaced. Install does not start the service.
func (m *Manager) Install() error {
	if err := m.install(); err != nil {
		return fmt.Errorf("installing the %s service: %w", Name, err)
	}
	return nil
}

// Uninstall stops the service and removes it; it returns ErrNotInstalled
// when there is nothing to remove.
func (m *Manager) Uninstall() error {
	if err := m.uninstall(); err != nil {
		return fmt.Errorf("uninstalling the %s service: %w", Name, err)
	}
	return nil
}

// Start starts the installed service.
func (m *Manager) Start() error {
	if err := m.start(); err != nil {
		return fmt.Errorf("starting the %s service: %w", Name, err)
	}
	m.markStopped(false)
	return nil
}

// Stop stops the installed service, and remembers that the person stopped
// it (see StoppedByUser).
func (m *Manager) Stop() error {
	if err := m.stop(); err != nil {
		return fmt.Errorf("stopping the %s service: %w", Name, err)
	}
	m.markStopped(true)
	return nil
}

// StoppedByUser reports whether the daemon was last stopped on purpose
// (Stop or StopDetached) rather than started since: the desktop app then
// leaves it stopped when it is launched.
func (m *Manager) StoppedByUser() bool {
	_, err := os.Stat(m.stoppedPath())
	return err == nil
}

func (m *Manager) stoppedPath() string {
	return filepath.Join(filepath.Dir(m.configPath), stoppedFile)
}

// markStopped records (or forgets) a stop made on purpose. It is best
// effort: without the mark the app merely starts the daemon at launch.
func (m *Manager) markStopped(stopped bool) {
	if !stopped {
		if err := os.Remove(m.stoppedPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("forgetting that the daemon was stopped", "err", err)
		}
		return
	}
	if err := store.WriteFile(m.stoppedPath(), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		m.log.Warn("remembering that the daemon was stopped", "err", err)
	}
}

// Restart restarts the installed service, starting it if it was stopped.
func (m *Manager) Restart() error {
	if err := m.restart(); err != nil {
		return fmt.Errorf("restarting the %s service: %w", Name, err)
	}
	return nil
}

// Status reports whether the service is installed and running. The error is
// nil when the state is known.
func (m *Manager) Status() (State, error) {
	s, err := m.status()
	if err != nil {
		return s, fmt.Errorf("reading the %s service status: %w", Name, err)
	}
	return s, nil
}

// Usable reports whether a per-user service manager works here. It is false
// in containers and wherever `systemctl --user` cannot reach a user manager;
// callers then use StartDetached. The check runs at most one quick command.
func (m *Manager) Usable() bool { return m.usable() }

// Unit returns the text Install writes: the systemd unit on Linux, the
// launchd plist on macOS, the Run-key command line on Windows.
func (m *Manager) Unit() (string, error) { return m.unit() }
