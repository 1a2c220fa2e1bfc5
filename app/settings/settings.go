// Package settings is MaxRouter's settings window: the accounts in
// priority order with their state and usage, the routing strategy (and the
// model names OpenAI clients may send), the proxy's port, client tokens and
// Claude Code's setup, the notification switches, and each account's usage
// over the last week. Accounts are added and logged in again from here:
// a login run by the daemon in the browser, a Claude Code login found on
// this computer, or a folder picked.
//
// The window follows the daemon through a live.Model, as the tray does:
// account states, usage bars and the configuration shown change as soon
// as the daemon's do, wherever the change was made (the tray, the command
// line, a hand edit of the file). A field whose value differs from the
// daemon's is being edited: it keeps the edit while every other field
// follows. Apply puts only the edited fields onto the latest configuration
// and sends it with its revision; when the configuration changed in
// between, the edits are kept and the window says what changed. While
// the daemon is away, a banner says so and offers to start it.
//
// Each tab is one struct (accountsTab, routingTab, proxyTab,
// notificationsTab, usageTab) holding its widgets; the Window builds them,
// follows the model and applies. What the window says is decided by pure
// functions (view.go, draft.go), tested without a window. Closing the
// window only hides it.
//
// The package does not import fyne.io/fyne/v2/app (which needs cgo); the
// desktop entry creates the fyne.App and passes it to New.
package settings

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/words"
)

// Daemon is the part of the control API the window calls itself;
// *control.Client implements it. Accounts, configuration and status come
// from the live.Model instead.
type Daemon interface {
	// PutConfig replaces the configuration at revision rev and returns the
	// new revision. It returns a *config.ValidationError listing the fields
	// when values are invalid, and a *control.StaleError when the
	// configuration changed since rev.
	PutConfig(ctx context.Context, cfg control.Config, rev string) (string, error)
	ResetAccount(ctx context.Context, name string) error
	CheckDir(ctx context.Context, dir string) (control.DirCheck, error)
	Tokens(ctx context.Context) ([]control.Token, error)
	// IssueTokenWith issues a client token with a label, a lifetime and
	// limits; UpdateToken changes a token's limits or expiry.
	IssueTokenWith(ctx context.Context, req control.IssueRequest) (control.Issued, error)
	UpdateToken(ctx context.Context, id string, u control.TokenUpdate) (control.Token, error)
	RevokeToken(ctx context.Context, id string) error
	// UsageBy returns the usage history from since on, in buckets of step
	// (control.StepDay or control.StepHour), per account or per client
	// token (by control.UsageByAccount or control.UsageByToken).
	UsageBy(ctx context.Context, since time.Time, step, by string) (control.Usage, error)
	// StartLogin starts a login run by the daemon (a new account is added
	// once it succeeds); Login reports how it goes; LoginCode completes a
	// manual login with the code its page showed; CancelLogin ends one
	// nobody waits for any more.
	StartLogin(ctx context.Context, req control.LoginRequest) (control.Login, error)
	Login(ctx context.Context, id string) (control.Login, error)
	LoginCode(ctx context.Context, id, code string) (control.Login, error)
	CancelLogin(ctx context.Context, id string) (control.Login, error)
	// BaseURL is the daemon's address, such as "http://127.0.0.1:8787".
	BaseURL() string
}

var _ Daemon = (*control.Client)(nil)

// ClaudeCode points Claude Code at MaxRouter in its user settings and takes
// that back; *setup.Claude implements it.
type ClaudeCode interface {
	Apply(ctx context.Context) (setup.ClaudeResult, error)
	Undo(ctx context.Context) (setup.ClaudeUndone, error)
	// Current says whether Claude Code is set up, and in which file.
	Current() (settings string, ok bool, err error)
}

var _ ClaudeCode = (*setup.Claude)(nil)

// Autostart turns "Start MaxRouter at login" on and off.
type Autostart interface {
	Enabled() (bool, error)
	Enable() error
	Disable() error
}

// Options tunes a Window. Every field is optional.
type Options struct {
	// Autostart backs the "Start MaxRouter at login" checkbox; nil hides it.
	Autostart Autostart
	// Start starts the daemon (installs and starts the user service, or
	// runs it in the background). The banner shown while the daemon is
	// away offers it as "Start MaxRouter"; it is called off the UI
	// goroutine. Nil: the banner sends the person to the tray menu.
	Start func() error
	// Claude sets Claude Code up to go through MaxRouter (the Proxy tab's
	// Set up Claude Code and Undo). Nil: the Proxy tab does not offer it.
	Claude ClaudeCode
	// OpenURL opens a login page in the browser. Default the app's
	// OpenURL.
	OpenURL func(u *url.URL) error
	// Discover lists the Claude Code config folders on this computer
	// (absolute or "~/…"), for Add account's "Use a Claude Code login on
	// this computer"; the daemon says which hold a login. Default: those
	// config.Discover finds under Home.
	Discover func() []string
	// LoginPoll is how often a login under way is asked about. Default 1s.
	LoginPoll time.Duration
	// Preferences keeps the window's size between runs. Default the
	// app's Preferences().
	Preferences fyne.Preferences
	// Now is the clock for countdowns. Default time.Now.
	Now func() time.Time
	// Version is shown in the window's bottom bar ("MaxRouter 1.2.0").
	Version string
	// Home is replaced by "~" in account directories. Default
	// os.UserHomeDir(); "-" disables the replacement.
	Home string
	// Logger receives what the window cannot show. Default slog.Default().
	Logger *slog.Logger
}

// Window is the settings window. Create it with New; it is built on the
// first Show. Its methods may be called from any goroutine.
type Window struct {
	app   fyne.App
	d     Daemon
	model *live.Model
	opts  Options // with defaults filled in
	log   *slog.Logger
	// do runs fn on the UI goroutine (fyne.Do; tests run a loop of their
	// own).
	do func(fn func())

	busy   sync.WaitGroup // background calls (tests wait on it)
	logins sync.WaitGroup // logins being waited for (they end with their dialog)

	mu          sync.Mutex
	pending     *live.State // the model's latest State, not yet shown
	tokensStale bool        // an event said the client tokens changed

	// Everything below belongs to the UI goroutine.
	win      fyne.Window
	unwatch  func()        // stops following the model; nil while hidden
	stopTick chan struct{} // closed to stop the countdown ticker
	state    live.State    // the model's State as last shown
	base     control.Config
	rev      string // base's revision; "" until the configuration was read
	autoBase bool   // whether MaxRouter starts at login, as last read
	filling  bool   // the fields are being set: not the person's edits
	applying bool

	tabs          *container.AppTabs
	accounts      *accountsTab
	routing       *routingTab
	proxy         *proxyTab
	notifications *notificationsTab
	usage         *usageTab
	banner        *daemonBanner
	bar           *applyBar
}

// Defaults.
const (
	callTimeout = 15 * time.Second // one call to the daemon
	tickEvery   = 20 * time.Second // countdowns are rewritten while the window shows
)

// The default size, and where the size the person gave the window is kept.
var defaultSize = fyne.NewSize(860, 700)

const (
	prefWidth  = "settings.window.width"
	prefHeight = "settings.window.height"
)

// New returns the settings window for the daemon d, followed through
// model (which the caller serves). Nothing is built or shown until Show.
func New(app fyne.App, d Daemon, model *live.Model, opts Options) *Window {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Preferences == nil {
		opts.Preferences = app.Preferences()
	}
	switch opts.Home {
	case "":
		opts.Home, _ = os.UserHomeDir()
	case "-":
		opts.Home = ""
	}
	if opts.OpenURL == nil {
		opts.OpenURL = app.OpenURL
	}
	if opts.Discover == nil {
		home := opts.Home
		opts.Discover = func() []string {
			if home == "" {
				return nil
			}
			var dirs []string
			for _, a := range config.Discover(home, nil) {
				dirs = append(dirs, a.Dir)
			}
			return dirs
		}
	}
	if opts.LoginPoll <= 0 {
		opts.LoginPoll = time.Second
	}
	return &Window{app: app, d: d, model: model, opts: opts, log: opts.Logger.With("component", "settings"), do: fyne.Do}
}

// Show builds the window on its first call, shows and focuses it, and
// follows the daemon while it shows. Edits not yet applied are kept.
func (w *Window) Show() { w.do(w.show) }

// ShowAccount shows the window on the Accounts tab, scrolled to the
// account named name and marked (for a notification's "Open settings" or
// an account's line in the tray). An unknown name just shows the tab; ""
// is Show.
func (w *Window) ShowAccount(name string) {
	w.do(func() {
		w.show()
		if name == "" {
			return
		}
		w.tabs.Select(w.accounts.item)
		w.accounts.reveal(name)
	})
}

// ShowLogin shows the window at the account named name and logs it in
// again: a login run by the daemon, in the browser, with the code to paste
// as the fallback (a tray line's or a notification's Log in again).
func (w *Window) ShowLogin(name string) {
	w.do(func() {
		w.show()
		w.tabs.Select(w.accounts.item)
		w.accounts.reveal(name)
		w.accounts.logIn(name)
	})
}

// Hide hides the window, as its close button does; the tray stays.
func (w *Window) Hide() {
	w.do(func() {
		if w.win != nil {
			w.hide()
		}
	})
}

func (w *Window) show() {
	w.build()
	w.setState(w.model.State())
	if w.unwatch == nil {
		w.unwatch = w.model.Watch(w.onModel)
	}
	w.win.Show()
	w.win.RequestFocus()
	w.startTicker()
	w.readAutostart()
	w.proxy.loadTokens()
	w.proxy.showClaude()
	if w.tabs.Selected() == w.usage.item {
		w.usage.load()
	}
}

func (w *Window) hide() {
	if w.unwatch != nil {
		w.unwatch()
		w.unwatch = nil
	}
	w.accounts.closeDialogs()
	w.stopTicker()
	w.saveSize(w.win.Canvas().Size())
	w.win.Hide()
}

// onModel is the model's Watcher: it keeps the latest State and has the
// UI goroutine show it (a burst of States is shown once). A client token
// that spent its budget, or events lost, have the tokens read again.
func (w *Window) onModel(s live.State, events []control.Event) {
	stale := slices.ContainsFunc(events, func(e control.Event) bool {
		return e.Type == event.TokenBudgetReached || e.Type == control.EventReset
	})
	w.mu.Lock()
	first := w.pending == nil
	w.pending = &s
	w.tokensStale = w.tokensStale || stale
	w.mu.Unlock()
	if first {
		w.do(w.takeState)
	}
}

func (w *Window) takeState() {
	w.mu.Lock()
	s, stale := w.pending, w.tokensStale
	w.pending, w.tokensStale = nil, false
	w.mu.Unlock()
	if s != nil && w.unwatch != nil {
		w.setState(*s)
		if stale {
			w.proxy.loadTokens()
		}
	}
}

// setState shows a State of the model: a new configuration (the fields
// being edited keep their edits), the accounts' states, the banner.
func (w *Window) setState(s live.State) {
	prev := w.state
	w.state = s
	// While Apply waits for the daemon, the configuration stays as it was
	// sent from: the answer says what became of it (see catchUp).
	if s.HasConfig() && !w.applying && (s.Revision != prev.Revision || w.rev == "") {
		w.setBase(s.Config, s.Revision, fromConfig(w.base))
	}
	if s.Connected && !prev.Connected && prev.Tried {
		// The daemon is back: read what it holds now.
		w.banner.started()
		w.proxy.loadTokens()
		if w.tabs.Selected() == w.usage.item {
			w.usage.load()
		}
	}
	w.accounts.update()
	w.proxy.setBaseURL(w.baseURL())
	if s.HasConfig() && (s.Revision != prev.Revision || s.Status.Config != prev.Status.Config) {
		w.routing.showModels(s.Config.Models, words.Tilde(s.Status.Config, w.opts.Home))
	}
	w.showBanner()
	w.updateDirty()
}

// setBase takes cfg (at revision rev) as the daemon's configuration. The
// fields whose value differs from was (the draft they were based on) are
// being edited and keep their values; all others show cfg's.
func (w *Window) setBase(cfg control.Config, rev string, was draft) {
	next := fromConfig(cfg)
	if w.rev != "" {
		next = rebase(w.current(), was, next)
	}
	w.base, w.rev = cfg, rev
	w.showDraft(next)
}

// loaded reports whether the configuration was read.
func (w *Window) loaded() bool { return w.rev != "" }

// baseURL is the address clients use: the configured listen address,
// the daemon's address until it is known.
func (w *Window) baseURL() string {
	if u := control.BaseURL(w.base.Listen); w.loaded() && u != "" {
		return u
	}
	return w.d.BaseURL()
}

// current is the draft the fields hold.
func (w *Window) current() draft {
	var d draft
	w.routing.read(&d)
	w.proxy.read(&d)
	w.notifications.read(&d)
	w.accounts.read(&d)
	return d
}

// showDraft puts d into the fields.
func (w *Window) showDraft(d draft) {
	w.filling = true
	defer func() { w.filling = false }()
	w.routing.show(d)
	w.proxy.show(d)
	w.notifications.show(d)
	w.accounts.show(d)
}

// edited is called by every field's change handler.
func (w *Window) edited() {
	if w.filling {
		return
	}
	if !w.applying {
		w.bar.setSummary("", widget.LowImportance)
	}
	w.updateDirty()
}

// dirty reports whether the fields hold edits not yet applied.
func (w *Window) dirty() bool {
	if !w.loaded() {
		return false
	}
	return w.autostartEdited() || !w.current().equal(fromConfig(w.base))
}

func (w *Window) autostartEdited() bool {
	a := w.notifications.autostart
	return a != nil && a.Checked != w.autoBase
}

func (w *Window) updateDirty() {
	w.bar.enable(w.loaded() && !w.applying && w.dirty())
	w.accounts.setLoaded(w.loaded())
}

// onRevert forgets the edits: every field shows the daemon's value again.
func (w *Window) onRevert() {
	w.bar.setSummary("", widget.LowImportance)
	w.clearFieldErrors()
	w.showDraft(fromConfig(w.base))
	if a := w.notifications.autostart; a != nil {
		w.filling = true
		a.SetChecked(w.autoBase)
		w.filling = false
	}
	w.updateDirty()
}

// onApply puts the edited fields onto the daemon's latest configuration
// and sends it at its revision. Values found invalid here or by the
// daemon are marked next to their field, and nothing is applied; when
// the configuration changed meanwhile, the edits are kept and the summary
// says what changed.
func (w *Window) onApply() {
	if !w.loaded() || w.applying {
		return
	}
	w.clearFieldErrors()
	sent := w.current()
	base, rev := w.base, w.rev
	cfg, errs := sent.config(base)
	if len(errs) > 0 {
		w.showFieldErrors(errs)
		return
	}
	putConfig := !sent.equal(fromConfig(base))
	setAuto, autoOn := w.autostartEdited(), w.notifications.autostart != nil && w.notifications.autostart.Checked
	rows := w.accounts.rowsNow() // field errors name these by index
	w.applying = true
	w.updateDirty()
	w.bar.setSummary("Applying…", widget.LowImportance)

	w.async(func(ctx context.Context) func() {
		var newRev string
		var err, autoErr error
		if putConfig {
			newRev, err = w.d.PutConfig(ctx, cfg, rev)
		}
		if err == nil && setAuto {
			autoErr = w.setAutostart(autoOn)
		}
		return func() {
			w.applying = false
			defer w.updateDirty()
			defer w.catchUp(rev)
			var stale *control.StaleError
			var invalid *config.ValidationError
			switch {
			case errors.As(err, &stale):
				if stale.Revision != w.rev {
					w.setBase(stale.Config, stale.Revision, fromConfig(w.base))
				}
				w.bar.setSummary(staleText(changes(base, stale.Config)), widget.WarningImportance)
				return
			case errors.As(err, &invalid):
				w.showFieldErrors(invalid.Fields, rows...)
				return
			case errors.Is(err, control.ErrUnreachable):
				w.bar.setSummary("Not applied: MaxRouter is not running. Your edits are kept: start it, then press Apply again.", widget.DangerImportance)
				return
			case err != nil:
				w.log.Warn("applying the configuration", "err", err)
				w.bar.setSummary("Not applied: "+err.Error(), widget.DangerImportance)
				return
			}
			if putConfig && w.rev == rev {
				// Fields left as they were sent take the daemon's values.
				w.base, w.rev = cfg, newRev
				w.showDraft(rebase(w.current(), sent, fromConfig(cfg)))
				w.proxy.setBaseURL(w.baseURL())
			}
			if setAuto {
				if autoErr != nil {
					setError(w.notifications.autostartErr, "Could not change it: "+autoErr.Error())
					w.setTabError(w.notifications.item, true)
					w.bar.setSummary("Applied, but starting at login could not be changed", widget.WarningImportance)
					return
				}
				w.autoBase = autoOn
			}
			w.bar.setSummary("Applied.", widget.SuccessImportance)
		}
	})
}

// catchUp shows the model's configuration once Apply is answered, if it
// is newer than what the answer said: the model's revision is then
// neither the one Apply was based on (rev) nor the one the window holds.
func (w *Window) catchUp(rev string) {
	if s := w.state; s.HasConfig() && s.Revision != rev && s.Revision != w.rev {
		w.setBase(s.Config, s.Revision, fromConfig(w.base))
	}
}

// async runs fn off the UI goroutine with a bounded context, then the
// function it returns (if any) on the UI goroutine.
func (w *Window) async(fn func(ctx context.Context) func()) {
	w.busy.Add(1)
	go func() {
		defer w.busy.Done()
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if ui := fn(ctx); ui != nil {
			w.do(ui)
		}
	}()
}

// readAutostart reads whether MaxRouter starts at login.
func (w *Window) readAutostart() {
	auto := w.opts.Autostart
	if auto == nil {
		return
	}
	w.async(func(context.Context) func() {
		on, err := auto.Enabled()
		return func() {
			w.filling = true
			w.notifications.setAutostart(on, err, &w.autoBase)
			w.filling = false
			w.updateDirty()
		}
	})
}

func (w *Window) setAutostart(on bool) error {
	if on {
		return w.opts.Autostart.Enable()
	}
	return w.opts.Autostart.Disable()
}

// onStart starts the daemon for the banner's button.
func (w *Window) onStart() {
	if w.opts.Start == nil || w.banner.starting {
		return
	}
	w.banner.starting, w.banner.startErr = true, nil
	w.showBanner()
	w.async(func(context.Context) func() {
		err := w.opts.Start()
		if err == nil {
			w.model.Reconnect()
		}
		return func() {
			w.banner.starting, w.banner.startErr = false, err
			if err != nil {
				w.log.Warn("starting the daemon", "err", err)
			}
			w.showBanner()
		}
	})
}

func (w *Window) showBanner() {
	s := w.state
	w.banner.show(banner(bannerInput{
		Connected: s.Connected, Tried: s.Tried, Stopped: s.Stopped, Paused: s.Paused(), Problem: s.Problem,
		CanStart: w.opts.Start != nil, Starting: w.banner.starting, StartErr: w.banner.startErr,
		BaseURL: w.d.BaseURL(), Stale: len(s.Accounts) > 0,
	}))
}

// startTicker rewrites countdowns every tickEvery while the window shows.
func (w *Window) startTicker() {
	if w.stopTick != nil {
		return
	}
	stop := make(chan struct{})
	w.stopTick = stop
	go func() {
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				w.do(func() {
					if w.stopTick == stop {
						w.tick()
					}
				})
			}
		}
	}()
}

// tick rewrites the countdowns. While the Proxy tab shows, the client
// tokens are read again: what their windows used changes with every
// request, and no event says so (a loopback call every tickEvery).
func (w *Window) tick() {
	w.accounts.update()
	if w.tabs.Selected() == w.proxy.item {
		w.proxy.loadTokens()
	} else {
		w.proxy.renderTokens()
	}
}

func (w *Window) stopTicker() {
	if w.stopTick != nil {
		close(w.stopTick)
		w.stopTick = nil
	}
}
