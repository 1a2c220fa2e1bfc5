//go:build !headless

package desktop

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/maxrouter/maxrouter/app/autostart"
	"github.com/maxrouter/maxrouter/app/desktop/welcome"
	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/app/notify"
	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/app/settings"
	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/app/tray"
	"github.com/maxrouter/maxrouter/assets"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/words"
)

// tokenFileName is the file, in the daemon's data directory, where the app
// remembers the client token it issued for "Copy shell export lines".
const tokenFileName = "tray-token"

// settingsTitle is the settings window's title (set by package settings).
const settingsTitle = "MaxRouter Settings"

// Run runs the desktop app until the person quits it. On the first run
// (no configuration yet) it creates the configuration with the Claude Code
// directories it finds and shows the welcome window, which lists them and
// offers to start the daemon (as a user service where possible). On later
// runs it starts the daemon when it is down, unless the person stopped it.
func Run(opts Options) error {
	base := opts.Logger
	if base == nil {
		base = slog.Default()
	}
	log := base.With("component", "desktop")
	path := opts.ConfigPath
	if path == "" {
		p, err := config.DefaultPath()
		if err != nil {
			return err
		}
		path = p
	}
	home, _ := os.UserHomeDir()
	cfg, created, err := config.LoadOrCreate(path, home, hasCredentials)
	if err != nil {
		// The daemon cannot start with it either; the tray shows the
		// error and the app stays up so the person sees it.
		log.Error("reading the configuration", "err", err)
		cfg = config.Default()
	}
	if created {
		log.Info("created the configuration", "path", path, "accounts", len(cfg.Accounts))
	}

	// Launched again: show the running app's settings window instead.
	var activate atomic.Pointer[func()]
	release, err := claimInstance(func() {
		if show := activate.Load(); show != nil {
			(*show)()
		}
	})
	switch {
	case err == errAlreadyRunning:
		log.Info("MaxRouter is already running; showing its settings window")
		return nil
	case errors.Is(err, errAlreadyRunning):
		return err // it runs, but did not answer
	case err != nil:
		log.Warn("a second launch will start a second app", "err", err)
	}
	defer release()

	a := app.NewWithID(AppID)
	a.SetIcon(assets.Resource(assets.IconName))

	svc, err := service.New(service.Options{ConfigPath: path, Logger: base})
	if err != nil {
		log.Error("setting up the service manager", "err", err)
	}
	sender := notify.NewDesktop(assets.Icon(), base)
	defer sender.Stop()
	sh := newShell(a, shellOptions{
		Daemon:      &lazyDaemon{configPath: path},
		Sender:      sender,
		Service:     svcOrNil(svc),
		TokenFile:   filepath.Join(cfg.DataDirFor(path), tokenFileName),
		ClaudeState: filepath.Join(cfg.DataDirFor(path), setup.ClaudeStateFile),
		Autostart:   loginItem{exe: executable()},
		Version:     opts.Version,
		Logger:      base,
	})
	show := sh.settings.Show
	activate.Store(&show)
	ctx, cancel := context.WithCancel(context.Background())
	sh.start(ctx)
	switch {
	case created:
		sh.showWelcome(welcomeLogins(cfg.Accounts, home))
	default:
		sh.startIfDown(ctx)
		if sh.hasTray {
			sh.wg.Go(func() { sh.checkTrayHost(ctx, trayHostWait) })
		}
	}
	a.Run()
	cancel()
	sh.wait()
	return nil
}

// svcOrNil keeps a nil *service.Manager from becoming a non-nil interface.
func svcOrNil(m *service.Manager) serviceControl {
	if m == nil {
		return nil
	}
	return m
}

// hasCredentials tells Discover which Claude Code directories hold a login.
func hasCredentials(dir string) bool {
	_, err := credential.Inspect(dir)
	return err == nil
}

// executable is the binary to start at login: the AppImage itself when
// running from one (its mount point changes every run), else this binary.
func executable() string {
	if p := os.Getenv("APPIMAGE"); p != "" {
		return p
	}
	exe, err := os.Executable()
	if err != nil {
		return "maxrouter"
	}
	return exe
}

// loginItem adapts package autostart to the settings window's checkbox.
type loginItem struct{ exe string }

func (l loginItem) Enabled() (bool, error) { return autostart.Enabled() }
func (l loginItem) Enable() error          { return autostart.Enable(l.exe) }
func (l loginItem) Disable() error         { return autostart.Disable() }

// shellOptions are the parts the desktop app is made of; tests pass fakes.
type shellOptions struct {
	Daemon    daemonAPI
	Sender    notify.Sender
	Service   serviceControl // nil: the daemon cannot be started or stopped from the app
	TokenFile string         // see setup.Setup.TokenFile
	// ClaudeState is setup.Claude.StateFile, shared with `maxrouter setup
	// claude`; ClaudeSettings is the Claude Code settings file it writes
	// ("": Claude Code's own, see setup.ClaudeSettings).
	ClaudeState, ClaudeSettings string
	// OpenURL opens a login page in the browser. Nil: the app's OpenURL.
	OpenURL func(*url.URL) error
	// Discover lists the Claude Code folders on this computer for Add
	// account. Nil: those under the home directory.
	Discover  func() []string
	Autostart settings.Autostart // nil: no "start at login" checkbox
	Version   string
	// NoTray forces the no-tray mode (the settings window instead).
	NoTray bool
	// Menu replaces the system tray (tests draw the tray elsewhere). Nil:
	// the system tray, when the desktop has one.
	Menu tray.Menu
	// Model tunes the live model (tests shorten its waits).
	Model live.Options
	// Logger is the base logger; each part adds its component.
	Logger *slog.Logger
}

// shell wires one live model of the daemon to the tray, the settings
// window and the notifier, in one fyne app.
type shell struct {
	app     fyne.App
	o       shellOptions
	log     *slog.Logger
	hasTray bool
	// trayHost reports whether a panel shows the tray icon (trayHostShown).
	trayHost func(ctx context.Context, wait time.Duration) bool
	model    *live.Model
	systray  *tray.SystemTray // nil without the system tray
	tray     *tray.Tray       // nil without a tray
	notifier *notify.Notifier
	settings *settings.Window
	setup    *setup.Setup
	claude   *setup.Claude
	welcome  *welcome.Window // nil unless this is the first run
	wg       sync.WaitGroup
	reloaded atomic.Bool // the settings window was shown once the daemon answered
}

// newShell builds the parts; nothing runs until start.
func newShell(a fyne.App, o shellOptions) *shell {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	o.Model.Logger = log
	s := &shell{app: a, o: o, log: log.With("component", "desktop"), trayHost: trayHostShown}
	s.model = live.New(o.Daemon, o.Model)
	s.notifier = notify.New(o.Sender, notify.Options{Logger: log, OpenSettings: s.openSettings, LogIn: s.logIn, Memory: a.Preferences()})
	var start func() error
	if o.Service != nil {
		start = s.startDaemon
	}
	s.setup = &setup.Setup{Daemon: o.Daemon, TokenFile: o.TokenFile, Logger: log}
	s.claude = &setup.Claude{Daemon: o.Daemon, Settings: o.ClaudeSettings, StateFile: o.ClaudeState, Logger: log}
	s.settings = settings.New(a, o.Daemon, s.model, settings.Options{Autostart: o.Autostart, Start: start, Version: o.Version,
		Claude: s.claude, OpenURL: o.OpenURL, Discover: o.Discover, Logger: log})

	menu := o.Menu
	if menu == nil {
		switch err := trayUsable(); {
		case o.NoTray:
		case err != nil:
			s.log.Warn("no tray icon; showing the settings window instead (start MaxRouter inside a desktop session for the tray)", "err", err)
		default:
			s.systray = tray.NewSystemTray(nil)
			menu = s.systray
		}
	}
	if menu != nil && !o.NoTray {
		s.hasTray = true
		s.tray = tray.New(tray.Options{Menu: menu, Actions: s.trayActions(), Logger: log})
	}
	return s
}

// trayActions are what the tray menu's items do.
func (s *shell) trayActions() tray.Actions {
	a := tray.Actions{
		OpenSettings: s.openSettings,
		SetStrategy:  tray.UpdateStrategy(s.o.Daemon.UpdateConfig),
		SetPaused: func(ctx context.Context, paused bool) error {
			if paused {
				return s.o.Daemon.Pause(ctx)
			}
			return s.o.Daemon.Resume(ctx)
		},
		SetupClaude: s.setupClaude,
		CopySetup:   s.copySetup,
		LogIn:       s.logIn,
		Quit:        func() { fyne.Do(s.app.Quit) },
		Tell:        s.tell,
	}
	if s.o.Service != nil {
		a.Start = s.startDaemon
		a.Stop = func() error { return stopDaemon(s.o.Service) }
	}
	return a
}

// start shows the tray and runs the model and the notifier until ctx
// ends; without a tray it shows the settings window, and closing it quits.
// Call it on the main goroutine before the fyne app runs.
func (s *shell) start(ctx context.Context) {
	if s.systray != nil {
		s.app.Lifecycle().SetOnStarted(s.systray.Start)
		s.app.Lifecycle().SetOnStopped(s.systray.Stop)
	}
	if s.tray != nil {
		s.model.Watch(s.tray.Show)
	}
	s.model.Watch(s.follow)
	s.model.Watch(s.notifier.Follow)
	s.wg.Go(func() { s.notifier.Serve(ctx) })
	s.wg.Go(func() { s.model.Serve(ctx) })
	if !s.hasTray {
		s.settings.Show()
		fyne.Do(s.quitWithSettings)
	}
}

// follow shows the settings window once the daemon answered, when there is
// no tray, and keeps the tray's word on the service up to date.
func (s *shell) follow(st live.State, events []control.Event) {
	if !s.hasTray && st.Connected && !s.reloaded.Swap(true) {
		s.settings.Show() // it opened before the daemon answered
	}
	if s.tray != nil && st.Tried && !st.Connected && s.o.Service != nil {
		s.wg.Go(func() { s.tray.ShowService(serviceStatus(s.o.Service)) })
	}
}

// wait waits for what start and showWelcome started; cancel start's
// context first.
func (s *shell) wait() {
	s.wg.Wait()
	if s.tray != nil {
		s.tray.Close()
	}
	if s.welcome != nil {
		s.welcome.Wait()
	}
}

// quitWithSettings makes closing the settings window quit the app, when
// there is no tray to bring it back from.
func (s *shell) quitWithSettings() {
	for _, w := range s.app.Driver().AllWindows() {
		if w.Title() == settingsTitle {
			w.SetCloseIntercept(s.app.Quit)
		}
	}
}

// startDaemon is the tray's "Start MaxRouter".
func (s *shell) startDaemon() error {
	how, err := startDaemon(s.o.Service)
	if err == nil {
		s.log.Info("started the daemon", "how", how)
		s.model.Reconnect()
	}
	return err
}

// setupClaude is the tray's "Set up Claude Code": Claude Code's settings
// get MaxRouter's address and a client token; the confirmation offers
// Undo (where the desktop's notifications have buttons; Settings → Proxy
// has it too).
func (s *shell) setupClaude(ctx context.Context) error {
	res, err := s.claude.Apply(ctx)
	if err != nil {
		return err
	}
	title, body := settings.ClaudeApplied(res, s.home())
	m := notify.Message{Title: title, Body: body + " Settings → Proxy can undo it."}
	if res.Changed {
		m.Actions = []notify.Action{{Key: "undo", Label: "Undo", Do: func() { go s.undoClaude() }}}
	}
	s.send(m)
	return nil
}

// undoClaude is the Undo of Set up Claude Code's confirmation.
func (s *shell) undoClaude() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.claude.Undo(ctx)
	if err != nil {
		s.log.Warn("undoing the Claude Code setup", "err", err)
		s.tell("Couldn't undo the Claude Code setup", err.Error())
		return
	}
	s.tell(settings.ClaudeUndone(res, s.home()))
}

// claudeFromWelcome is the welcome window's "Set up Claude Code".
func (s *shell) claudeFromWelcome() (head, text string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.claude.Apply(ctx)
	if err != nil {
		return "", "", err
	}
	head, text = settings.ClaudeApplied(res, s.home())
	return head, text + " Settings → Proxy can undo it.", nil
}

// home is the home directory, written as "~" in what the app says.
func (s *shell) home() string {
	h, _ := os.UserHomeDir()
	return h
}

// logIn logs an account in again (a tray line's or a notification's Log
// in again): the settings window shows the login, which opens the browser.
func (s *shell) logIn(account string) {
	s.settings.ShowLogin(account)
}

// copySetup is the tray's "Copy shell export lines".
func (s *shell) copySetup(ctx context.Context) error {
	text, err := s.setup.Lines(ctx)
	if err != nil {
		return err
	}
	fyne.Do(func() { s.app.Clipboard().SetContent(text) })
	s.tell("Claude Code setup copied", "Paste it in the shell you start claude from.")
	return nil
}

// showWelcome shows the first run's welcome window for the logins found.
// Its "Start MaxRouter" starts the daemon as the tray's does; the result is
// shown in the window, so there is no notification unless the window was
// closed before the start finished. Call it on the main goroutine, before
// the fyne app runs or on the UI goroutine.
func (s *shell) showWelcome(logins []welcome.Login) {
	s.welcome = welcome.New(s.app, welcome.Options{
		Logins:      logins,
		Start:       s.startFromWelcome,
		SetupClaude: s.claudeFromWelcome,
		// On a first run the panel is up already: a tray nobody shows
		// (stock GNOME) is no tray for what the window says and does.
		Tray:   s.hasTray && s.trayHost(context.Background(), 0),
		Tell:   s.tell,
		Logger: s.o.Logger,
	})
	s.welcome.Show()
}

// startFromWelcome is the welcome window's "Start MaxRouter" (the window
// logs the result).
func (s *shell) startFromWelcome() (how string, err error) {
	how, err = startDaemon(s.o.Service)
	if err == nil {
		s.model.Reconnect()
	}
	return how, err
}

// welcomeLogins describes the accounts of a new configuration for the
// welcome window, with the subscription their credentials name.
func welcomeLogins(accounts []config.Account, home string) []welcome.Login {
	out := make([]welcome.Login, 0, len(accounts))
	for _, a := range accounts {
		l := welcome.Login{Name: a.Name, Dir: a.Dir}
		if info, err := credential.Inspect(config.ExpandHome(a.Dir, home)); err == nil {
			l.Plan = words.Plan(info.Subscription, info.RateLimitTier)
		}
		out = append(out, l)
	}
	return out
}

// startIfDown starts the daemon when the first attempt to reach it fails,
// unless the person stopped it on purpose (Stop MaxRouter, `maxrouter
// service stop`): launching the app means wanting it to work.
func (s *shell) startIfDown(ctx context.Context) {
	if s.o.Service == nil {
		return
	}
	first := make(chan live.State, 1)
	cancel := s.model.Watch(func(st live.State, _ []control.Event) {
		if st.Tried {
			select {
			case first <- st:
			default:
			}
		}
	})
	s.wg.Go(func() {
		defer cancel()
		var st live.State
		select {
		case <-ctx.Done():
			return
		case st = <-first:
		}
		if st.Connected {
			return
		}
		if s.o.Service.StoppedByUser() {
			s.log.Info("the daemon is not running: it was stopped on purpose, so it is left stopped")
			return
		}
		how, err := startDaemon(s.o.Service)
		if err != nil {
			s.log.Error("starting the daemon", "err", err)
			s.tell("MaxRouter could not start its daemon", err.Error())
			return
		}
		s.log.Info("started the daemon", "how", how)
		s.model.Reconnect()
	})
}

// openSettings shows the settings window, at account when it is not "".
func (s *shell) openSettings(account string) {
	s.settings.ShowAccount(account)
}

// tell shows a notification, which the person asked for by clicking.
func (s *shell) tell(title, body string) { s.send(notify.Message{Title: title, Body: body}) }

// send shows a notification.
func (s *shell) send(m notify.Message) {
	if _, err := s.o.Sender.Send(m); err != nil {
		s.log.Warn("showing a notification", "title", m.Title, "err", err)
	}
}

// trayHostWait is how long after starting the app waits for the desktop's
// panel to show tray icons (at login it may come up after the app).
const trayHostWait = 10 * time.Second

// noTrayHostTitle and noTrayHostBody are the notification sent when no
// panel shows the tray icon.
const (
	noTrayHostTitle = "MaxRouter has no tray icon here"
	noTrayHostBody  = "This desktop shows no tray icons (on GNOME, install and enable the AppIndicator extension, gnome-shell-extension-appindicator). Open MaxRouter from your applications to see its settings."
)

// checkTrayHost waits up to wait for a panel that shows tray icons. With
// none, the app would run unseen: it says why in a notification and shows
// the settings window.
func (s *shell) checkTrayHost(ctx context.Context, wait time.Duration) {
	if s.trayHost(ctx, wait) || ctx.Err() != nil {
		return
	}
	s.log.Warn("no panel shows tray icons on this desktop; showing the settings window instead")
	s.tell(noTrayHostTitle, noTrayHostBody)
	s.settings.Show()
}
