// Package tray is MaxRouter's tray icon and menu. Like Tailscale's systray,
// it is a thin client of the daemon: everything it shows comes from the
// control API (accounts, configuration, status, the event stream), and
// every action is a control API call (choose the strategy, pause or resume
// routing) or a callback the desktop app supplies (open settings, start or
// stop the service, quit).
//
// The view decisions (Title, AccountLine, IconState, Tooltip) are pure
// functions; Tray keeps the menu live and Serve follows the daemon,
// reconnecting with backoff when it goes away.
package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/maxrouter/maxrouter/assets"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// Daemon is the part of the control API the tray uses; *control.Client
// satisfies it. Errors wrapping control.ErrUnreachable mean the daemon is
// not running.
type Daemon interface {
	// Status tells whether routing is paused.
	Status(ctx context.Context) (control.Status, error)
	Accounts(ctx context.Context) ([]control.Account, error)
	Events(ctx context.Context, after string, fn func(control.Event)) error
	Config(ctx context.Context) (control.Config, string, error)
	// UpdateConfig changes the configuration with edit, on top of any
	// change made meanwhile.
	UpdateConfig(ctx context.Context, edit func(*control.Config) error) error
	Tokens(ctx context.Context) ([]control.Token, error)
	IssueToken(ctx context.Context, label string, ttl time.Duration) (control.Issued, error)
	// Pause and Resume stop and restart routing ("Pause routing",
	// "Resume routing"); both are idempotent.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// BaseURL is the daemon's address as a client dials it
	// ("http://127.0.0.1:8787"), the ANTHROPIC_BASE_URL to hand out.
	BaseURL() string
}

// Notifier receives the daemon's events for desktop notifications;
// *notify.Notifier satisfies it.
type Notifier interface {
	Handle(e control.Event, accounts []control.Account)
	SetPrefs(notify bool, kinds config.Notifications)
}

// Options configures a Tray. Daemon is required; every other field is
// optional, and what happens when it is nil is said beside it.
type Options struct {
	// Daemon is the control API client.
	Daemon Daemon
	// Notifier gets every event with the fresh account snapshot, and the
	// notification switches from the configuration. Nil: no notifications.
	Notifier Notifier
	// TokenFile remembers the client token "Copy Claude Code setup" issued
	// (JSON with its ID and secret, mode 0600), so later copies reuse it.
	// "": a new token is issued for every copy.
	TokenFile string
	// Hostname names the issued token ("<hostname> (tray)"). "": os.Hostname.
	Hostname string

	// OpenSettings shows the settings window ("Settings…", and a click on
	// an account line). Nil: no "Settings…" item; account lines are
	// disabled.
	OpenSettings func()
	// StartService starts the daemon ("Start MaxRouter", offered while it is
	// unreachable); it runs off the UI thread and may block. Nil: not offered.
	StartService func() error
	// StopService stops the daemon ("Stop MaxRouter"). Nil: not offered.
	StopService func() error
	// ServiceStatus describes the service in a few words ("stopped", "not
	// installed"), shown while the daemon is unreachable; it runs off the UI
	// thread. Nil: not shown.
	ServiceStatus func() string
	// Quit ends the desktop app ("Quit"). Nil: fyne's default, which quits
	// the fyne app.
	Quit func()
	// CopyToClipboard puts text on the clipboard; it is called on the UI
	// thread. Nil: "Copy Claude Code setup" is not offered.
	CopyToClipboard func(text string)
	// Tell shows a short message to the person: confirmations and errors of
	// menu actions. Nil: they are only logged.
	Tell func(title, body string)
	// OnAccounts receives every account snapshot the tray reads (for the
	// settings window), from the tray's goroutine. Nil: nobody.
	OnAccounts func(accounts []control.Account)
	// SetTooltip sets the icon's hover text. Nil: no tooltip.
	SetTooltip func(text string)
	// Icons returns the icon for each state. Nil: the icons in assets.
	Icons func(State) fyne.Resource

	// Do runs fn on the UI thread. Nil: fyne.Do.
	Do func(fn func())
	// Now is the clock; its location is the one times are shown in.
	// Nil: time.Now.
	Now func() time.Time
	// Home is written as "~" in account directories. "": os.UserHomeDir;
	// "-": never.
	Home string
	// Poll is how often the account snapshot is re-read while connected
	// (usage changes without events). Default 15s.
	Poll time.Duration
	// Backoff is the first wait before reconnecting; it doubles up to
	// MaxBackoff and starts over after a successful connection.
	// Defaults 250ms and 10s.
	Backoff, MaxBackoff time.Duration
	// Logger receives what went wrong. Nil: slog.Default.
	Logger *slog.Logger
}

// Menu labels that tests and people look for.
const (
	LabelStrategy = "Strategy"
	LabelCopy     = "Copy Claude Code setup"
	LabelSettings = "Settings…"
	LabelPause    = "Pause routing"
	LabelResume   = "Resume routing"
	LabelStart    = "Start MaxRouter"
	LabelStarting = "Starting MaxRouter…"
	LabelStop     = "Stop MaxRouter"
	LabelStopping = "Stopping MaxRouter…"
	LabelQuit     = "Quit"
)

// strategies lists the routing strategies in menu order with their labels.
var strategies = []struct{ name, label string }{
	{"round-robin", "Round-robin"},
	{"priority", "Priority"},
	{"least-used", "Least used"},
	{"headroom", "Most headroom"},
}

// callTimeout bounds one control API call made for a menu action or a
// refresh.
const callTimeout = 15 * time.Second

// Tray is the tray icon and its menu. Create it with New and run Serve.
type Tray struct {
	app  desktop.App
	o    Options
	log  *slog.Logger
	home string
	wake chan struct{} // try to connect now (after "Start MaxRouter")

	mu        sync.Mutex
	snap      snapshot
	ctx       context.Context // Serve's, for menu actions
	actions   sync.WaitGroup  // goroutines started by menu actions
	tokenLock sync.Mutex      // one "Copy Claude Code setup" at a time

	ui    sync.Mutex // held by render (one at a time, latest snapshot wins); guards the fields below
	menu  *fyne.Menu
	shown shown
}

// snapshot is what the menu shows; guarded by Tray.mu.
type snapshot struct {
	connecting bool              // no connection attempt finished yet
	reachable  bool              // the last attempt or stream worked
	accounts   []control.Account // as last read; nil while unreachable
	strategy   string            // from the configuration; "" when unknown
	paused     bool              // routing is paused (from Status and the paused/resumed events)
	problem    string            // why the daemon is unreachable, for a person
	service    string            // ServiceStatus, while unreachable
	busy       string            // LabelStarting or LabelStopping, or ""
	busySince  time.Time         // when busy was set
}

// shown is what was last handed to the desktop, to skip needless updates.
type shown struct {
	set     bool
	key     string
	icon    State
	tooltip string
}

// New returns a tray for app (the fyne app, which must implement
// desktop.App to show a tray). Nothing is shown until Serve runs.
func New(app desktop.App, opts Options) *Tray {
	t := &Tray{app: app, o: opts, wake: make(chan struct{}, 1)}
	if t.o.Do == nil {
		t.o.Do = fyne.Do
	}
	if t.o.Now == nil {
		t.o.Now = time.Now
	}
	if t.o.Poll <= 0 {
		t.o.Poll = 15 * time.Second
	}
	if t.o.Backoff <= 0 {
		t.o.Backoff = 250 * time.Millisecond
	}
	if t.o.MaxBackoff <= 0 {
		t.o.MaxBackoff = 10 * time.Second
	}
	if t.o.Icons == nil {
		t.o.Icons = DefaultIcon
	}
	switch t.o.Home {
	case "":
		t.home, _ = os.UserHomeDir()
	case "-":
	default:
		t.home = t.o.Home
	}
	log := t.o.Logger
	if log == nil {
		log = slog.Default()
	}
	t.log = log.With("component", "tray")
	t.snap.connecting = true
	return t
}

// DefaultIcon returns the embedded tray icon for s.
func DefaultIcon(s State) fyne.Resource {
	name := assets.TrayDownName
	switch s {
	case AllAvailable:
		name = assets.TrayOKName
	case SomeCooling:
		name = assets.TraySomeName
	case NoneAvailable:
		name = assets.TrayNoneName
	}
	return assets.Resource(name)
}

// Serve shows the tray and keeps it live until ctx ends: it reads the
// accounts, follows the event stream (each event re-reads the accounts,
// bursts coalesced, and goes to the Notifier), re-reads the accounts every
// Poll, and when the daemon goes away shows so and reconnects with
// exponential backoff. It returns nil when ctx ends.
func (t *Tray) Serve(ctx context.Context) error {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
	defer t.actions.Wait()
	t.update(func(*snapshot) {})

	backoff := t.o.Backoff
	for {
		connected, err := t.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			backoff = t.o.Backoff
		}
		t.lost(err)
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-t.wake:
			timer.Stop()
			backoff = t.o.Backoff
		case <-timer.C:
			backoff = min(2*backoff, t.o.MaxBackoff)
		}
	}
}

// Show puts the icon and the first menu ("connecting…") in the tray at
// once. Call it on the UI goroutine before the fyne app runs: fyne's GLFW
// driver starts the system tray only when the app starts, and only if a
// tray menu was set by then. Serve shows the same by itself otherwise.
func (t *Tray) Show() { t.render() }

// Reconnect makes Serve try to reach the daemon now rather than after its
// backoff, for a caller that just started it.
func (t *Tray) Reconnect() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// session connects once: it reads the accounts and the configuration, then
// follows the event stream until it breaks. connected reports whether the
// daemon answered at all.
func (t *Tray) session(ctx context.Context) (connected bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	accounts, err := t.o.Daemon.Accounts(cctx)
	cancel()
	if err != nil {
		return false, err
	}
	strategy := t.readConfig(ctx)
	paused, pausedKnown := t.readPaused(ctx)
	t.accountsRead(accounts)
	t.update(func(s *snapshot) {
		s.connecting, s.reachable, s.problem, s.service = false, true, "", ""
		s.accounts = accounts
		s.paused = pausedKnown && paused
		if strategy != "" {
			s.strategy = strategy
		}
		if s.busy == LabelStarting {
			s.busy = ""
		}
	})
	t.log.Debug("connected to the daemon", "accounts", len(accounts))

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	f := &follower{t: t, kick: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Go(func() { f.refresh(sctx) })
	err = t.o.Daemon.Events(sctx, "", f.add)
	stop()
	wg.Wait()
	return true, err
}

// follower collects events from the stream and refreshes the snapshot for
// them, one refresh per burst.
type follower struct {
	t    *Tray
	kick chan struct{}

	mu     sync.Mutex
	queued []control.Event
}

// add queues e; it is called from the event stream's goroutine.
func (f *follower) add(e control.Event) {
	f.mu.Lock()
	f.queued = append(f.queued, e)
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// refresh re-reads the accounts for each burst of events (and every Poll),
// hands the events to the Notifier with the fresh snapshot and updates the
// menu, until ctx ends.
func (f *follower) refresh(ctx context.Context) {
	t := f.t
	tick := time.NewTicker(t.o.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-tick.C:
		}
		f.mu.Lock()
		events := f.queued
		f.queued = nil
		f.mu.Unlock()

		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		accounts, err := t.o.Daemon.Accounts(cctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.log.Warn("re-reading accounts", "err", err)
		}
		strategy := t.readConfig(ctx)
		paused, pausedKnown := t.readPaused(ctx)
		if !pausedKnown {
			// The events say it when the status cannot: the last one counts.
			for _, e := range events {
				switch e.Type {
				case event.Paused:
					paused, pausedKnown = true, true
				case event.Resumed:
					paused, pausedKnown = false, true
				}
			}
		}
		if err == nil {
			t.accountsRead(accounts)
		}
		t.mu.Lock()
		if err == nil {
			t.snap.accounts = accounts
		}
		snap := slices.Clone(t.snap.accounts)
		t.mu.Unlock()
		if t.o.Notifier != nil {
			for _, e := range events {
				t.o.Notifier.Handle(e, snap)
			}
		}
		t.update(func(s *snapshot) {
			if strategy != "" {
				s.strategy = strategy
			}
			if pausedKnown {
				s.paused = paused
			}
		})
	}
}

// accountsRead hands a fresh snapshot to OnAccounts.
func (t *Tray) accountsRead(accounts []control.Account) {
	if t.o.OnAccounts != nil {
		t.o.OnAccounts(slices.Clone(accounts))
	}
}

// readConfig reads the configuration for the strategy and the notification
// switches; it returns "" when the daemon did not answer.
func (t *Tray) readConfig(ctx context.Context) string {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cfg, _, err := t.o.Daemon.Config(cctx)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("reading the configuration", "err", err)
		}
		return ""
	}
	if t.o.Notifier != nil {
		t.o.Notifier.SetPrefs(cfg.Notify, cfg.Notifications)
	}
	return cfg.Strategy
}

// readPaused asks the daemon whether routing is paused; known is false when
// it did not answer.
func (t *Tray) readPaused(ctx context.Context) (paused, known bool) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	st, err := t.o.Daemon.Status(cctx)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("reading the daemon's status", "err", err)
		}
		return false, false
	}
	return st.Paused, true
}

// lost marks the daemon unreachable because of err.
func (t *Tray) lost(err error) {
	var service string
	if t.o.ServiceStatus != nil {
		service = t.o.ServiceStatus()
	}
	problem := Problem(err)
	t.mu.Lock()
	was := t.snap.reachable
	t.mu.Unlock()
	if was {
		t.log.Info("lost the daemon", "err", err)
	} else {
		t.log.Debug("daemon not reachable", "err", err)
	}
	t.update(func(s *snapshot) {
		s.connecting, s.reachable, s.accounts, s.paused = false, false, nil, false
		s.problem, s.service = problem, service
		if s.busy == LabelStarting && t.o.Now().Sub(s.busySince) > startGrace {
			s.busy = "" // it did not come up: offer to start it again
		}
	})
}

// startGrace is how long "Starting MaxRouter…" waits for the daemon to
// answer before "Start MaxRouter" is offered again.
const startGrace = 20 * time.Second

// Problem says in words why the daemon cannot be used, from the error of a
// control API call.
func Problem(err error) string {
	switch {
	case err == nil, errors.Is(err, control.ErrUnreachable):
		return "The MaxRouter daemon is not running."
	case errors.Is(err, control.ErrUnauthorized):
		return "The daemon refused this app's control secret (is it using another data directory?)."
	}
	return "Cannot talk to the daemon: " + shorten(oneLine(err.Error()), maxDetail)
}

// update changes the snapshot with fn and renders it on the UI thread.
func (t *Tray) update(fn func(*snapshot)) {
	t.mu.Lock()
	fn(&t.snap)
	t.mu.Unlock()
	t.o.Do(t.render)
}

// render shows the current snapshot: the menu when it changed, the icon and
// the tooltip. It runs on the UI thread.
func (t *Tray) render() {
	t.ui.Lock()
	defer t.ui.Unlock()
	t.mu.Lock()
	s := t.snap
	s.accounts = slices.Clone(s.accounts)
	t.mu.Unlock()
	for i := range s.accounts {
		s.accounts[i].Dir = shortenHome(s.accounts[i].Dir, t.home)
	}
	items := t.items(s)
	icon := IconState(s.accounts, s.reachable, s.paused)
	tooltip := Tooltip(s.accounts, s.reachable, s.paused, t.o.Now())
	if s.connecting {
		tooltip = "MaxRouter — connecting to the daemon…"
	}

	key := menuKey(items)
	// The menu goes last: the first one starts fyne's tray, which then
	// shows the icon already set.
	if !t.shown.set || icon != t.shown.icon {
		if res := t.o.Icons(icon); res != nil {
			t.app.SetSystemTrayIcon(res)
		}
	}
	if t.o.SetTooltip != nil && (!t.shown.set || tooltip != t.shown.tooltip) {
		t.o.SetTooltip(tooltip)
	}
	if !t.shown.set || key != t.shown.key {
		if t.menu == nil {
			t.menu = fyne.NewMenu("MaxRouter")
		}
		t.menu.Items = items
		t.app.SetSystemTrayMenu(t.menu)
	}
	t.shown = shown{set: true, key: key, icon: icon, tooltip: tooltip}
}

// items builds the menu for s.
func (t *Tray) items(s snapshot) []*fyne.MenuItem {
	now := t.o.Now()
	title := Title(s.accounts, s.reachable, s.paused)
	if s.connecting {
		title = "MaxRouter — connecting…"
	}
	items := []*fyne.MenuItem{
		{Label: title, Disabled: true},
		fyne.NewMenuItemSeparator(),
	}
	add := func(it ...*fyne.MenuItem) { items = append(items, it...) }
	line := func(label string, action func()) *fyne.MenuItem {
		return &fyne.MenuItem{Label: label, Action: action, Disabled: action == nil}
	}

	if !s.reachable && !s.connecting {
		why := s.problem
		if s.service != "" {
			why = strings.TrimSuffix(why, ".") + " (service: " + s.service + ")."
		}
		add(line(why, nil))
		switch {
		case s.busy == LabelStarting:
			add(line(LabelStarting, nil))
		case t.o.StartService != nil:
			add(line(LabelStart, t.startService))
		}
		add(fyne.NewMenuItemSeparator())
	} else if s.reachable {
		if len(s.accounts) == 0 {
			add(line("No accounts yet — log in with Claude Code, then add it in Settings", t.o.OpenSettings))
		}
		for _, a := range s.accounts {
			add(line(AccountLine(a, now), t.o.OpenSettings))
		}
		add(fyne.NewMenuItemSeparator())
		sub := fyne.NewMenu(LabelStrategy)
		for _, st := range strategies {
			name := st.name
			sub.Items = append(sub.Items, &fyne.MenuItem{
				Label:   st.label,
				Checked: name == s.strategy,
				Action:  func() { t.chooseStrategy(name) },
			})
		}
		add(&fyne.MenuItem{Label: LabelStrategy, ChildMenu: sub, Disabled: s.strategy == ""})
	}
	if t.o.CopyToClipboard != nil {
		add(line(LabelCopy, t.copySetup))
	}
	if t.o.OpenSettings != nil {
		add(line(LabelSettings, t.o.OpenSettings))
	}
	if s.reachable {
		if s.paused {
			add(line(LabelResume, func() { t.setPaused(false) }))
		} else {
			add(line(LabelPause, func() { t.setPaused(true) }))
		}
		switch {
		case s.busy == LabelStopping:
			add(line(LabelStopping, nil))
		case t.o.StopService != nil:
			add(line(LabelStop, t.stopService))
		}
	}
	add(fyne.NewMenuItemSeparator(), &fyne.MenuItem{Label: LabelQuit, IsQuit: true, Action: t.o.Quit})
	return items
}

// menuKey describes items (labels, states, submenus) to tell whether the
// menu changed.
func menuKey(items []*fyne.MenuItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%q %t %t %t;", it.Label, it.IsSeparator, it.Disabled, it.Checked)
		if it.ChildMenu != nil {
			b.WriteString("[" + menuKey(it.ChildMenu.Items) + "]")
		}
	}
	return b.String()
}

// do runs fn in a goroutine tied to Serve's context (Background before
// Serve), with a timeout for one action.
func (t *Tray) do(fn func(ctx context.Context)) {
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	t.actions.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, 2*callTimeout)
		defer cancel()
		fn(cctx)
	})
}

// tell shows a message to the person, or logs it when nobody listens.
func (t *Tray) tell(title, body string) {
	if t.o.Tell != nil {
		t.o.Tell(title, body)
		return
	}
	t.log.Info(title, "detail", body)
}

// chooseStrategy switches the daemon to the strategy name: it reads the
// configuration, changes the strategy and writes it back. The check mark
// moves at once and moves back if the daemon refuses.
func (t *Tray) chooseStrategy(name string) {
	t.mu.Lock()
	prev := t.snap.strategy
	t.mu.Unlock()
	if name == prev {
		return
	}
	t.update(func(s *snapshot) { s.strategy = name })
	t.do(func(ctx context.Context) {
		err := t.putStrategy(ctx, name)
		if err == nil {
			t.log.Info("strategy changed", "strategy", name)
			return
		}
		t.log.Warn("changing the strategy", "strategy", name, "err", err)
		t.update(func(s *snapshot) {
			if s.strategy == name {
				s.strategy = prev
			}
		})
		t.tell("Couldn't change the strategy", err.Error())
	})
}

// putStrategy writes strategy name into the daemon's configuration.
func (t *Tray) putStrategy(ctx context.Context, name string) error {
	if err := t.o.Daemon.UpdateConfig(ctx, func(cfg *control.Config) error {
		cfg.Strategy = name
		return nil
	}); err != nil {
		return fmt.Errorf("saving the configuration: %w", err)
	}
	return nil
}

// setPaused pauses or resumes routing ("Pause routing", "Resume routing").
// The menu changes when the daemon's event says it did.
func (t *Tray) setPaused(pause bool) {
	t.do(func(ctx context.Context) {
		call, verb := t.o.Daemon.Resume, "resume"
		if pause {
			call, verb = t.o.Daemon.Pause, "pause"
		}
		if err := call(ctx); err != nil {
			t.log.Warn("changing routing", "action", verb, "err", err)
			t.tell("Couldn't "+verb+" routing", err.Error())
			return
		}
		// The menu follows the daemon's paused/resumed event, not this
		// call: another client may have changed it back in between.
		t.log.Info("routing changed", "action", verb)
	})
}

// startService runs StartService and then connects at once.
func (t *Tray) startService() {
	t.update(func(s *snapshot) { s.busy, s.busySince = LabelStarting, t.o.Now() })
	t.do(func(context.Context) {
		err := t.o.StartService()
		if err != nil {
			t.log.Warn("starting the daemon", "err", err)
			t.tell("Couldn't start MaxRouter", err.Error())
		} else {
			t.log.Info("started the daemon")
		}
		t.update(func(s *snapshot) {
			if err != nil && s.busy == LabelStarting {
				s.busy = ""
			}
		})
		t.Reconnect()
	})
}

// stopService runs StopService; the event stream's end then shows the
// daemon as gone.
func (t *Tray) stopService() {
	t.update(func(s *snapshot) { s.busy, s.busySince = LabelStopping, t.o.Now() })
	t.do(func(context.Context) {
		err := t.o.StopService()
		if err != nil {
			t.log.Warn("stopping the daemon", "err", err)
			t.tell("Couldn't stop MaxRouter", err.Error())
		} else {
			t.log.Info("stopped the daemon")
		}
		t.update(func(s *snapshot) {
			if s.busy == LabelStopping {
				s.busy = ""
			}
		})
	})
}
