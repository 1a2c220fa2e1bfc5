// Package settings is MaxRouter's settings window: the accounts in
// priority order, the routing strategy, the proxy's port and client tokens,
// the notification switches, and each account's usage over the last week.
//
// The window is a client of the daemon's control API, like the tray: it
// reads the configuration, lets the person edit a copy as a form, and
// applies it in one PutConfig when Apply is pressed. Values the daemon
// refuses are marked next to their field and nothing is applied; Revert
// reloads what the daemon holds. Account states and usage follow the
// tray's event stream through Refresh. Closing the window only hides it.
//
// The package does not import fyne.io/fyne/v2/app (which needs cgo); the
// desktop entry creates the fyne.App and passes it to New.
package settings

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/tint"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

// Daemon is what the window needs from the daemon; *control.Client
// implements it.
type Daemon interface {
	Accounts(ctx context.Context) ([]control.Account, error)
	// Config returns the configuration and its revision.
	Config(ctx context.Context) (control.Config, string, error)
	// PutConfig replaces the configuration at revision rev and returns the
	// new revision. It returns a *config.ValidationError listing the fields
	// when values are invalid, and a *control.StaleError when the
	// configuration changed since rev.
	PutConfig(ctx context.Context, cfg control.Config, rev string) (string, error)
	ResetAccount(ctx context.Context, name string) error
	CheckDir(ctx context.Context, dir string) (control.DirCheck, error)
	Tokens(ctx context.Context) ([]control.Token, error)
	IssueToken(ctx context.Context, label string, ttl time.Duration) (control.Issued, error)
	RevokeToken(ctx context.Context, id string) error
	// Usage returns the usage history from since on, in buckets of step
	// (control.StepDay or control.StepHour).
	Usage(ctx context.Context, since time.Time, step string) (control.Usage, error)
	// BaseURL is the daemon's address, such as "http://127.0.0.1:8787".
	BaseURL() string
}

var _ Daemon = (*control.Client)(nil)

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
// first Show. Show and Refresh may be called from any goroutine.
type Window struct {
	app  fyne.App
	d    Daemon
	opts Options
	now  func() time.Time
	home string
	log  *slog.Logger

	// busy counts background daemon calls (tests wait on it).
	busy sync.WaitGroup

	// Everything below belongs to the UI goroutine (fyne callbacks and
	// fyne.Do).
	win      fyne.Window
	content  fyne.CanvasObject
	stopTick chan struct{} // closed to stop the countdown ticker; nil when stopped

	base     control.Config // the configuration last read from the daemon
	rev      string         // its revision
	loaded   bool           // base holds a configuration
	clean    formState      // the form as last filled from base
	autoBase bool           // autostart state last read
	snaps    map[string]control.Account
	tokens   []control.Token
	baseURL  string
	filling  bool // the form is being filled: edits are not the person's
	applying bool

	tabs     *container.AppTabs
	tabItems map[string]*container.TabItem
	tabIcons map[string]fyne.Resource

	banner     *fyne.Container
	bannerText *widget.Label

	summary   *widget.Label
	applyBtn  *widget.Button
	revertBtn *widget.Button

	// Accounts tab.
	rows        []*accountRow
	accountList *fyne.Container
	noAccounts  fyne.CanvasObject
	addBtn      *widget.Button
	adding      *addDialog // the open Add account dialog, if any

	// Routing tab.
	strategy    *widget.RadioGroup
	strategyErr *widget.Label
	cooldown    *widget.Entry
	cooldownErr *widget.Label
	affinity    *widget.Check

	// Proxy tab.
	port       *widget.Entry
	portErr    *widget.Label
	baseURLBox *widget.Label
	tokenList  *fyne.Container

	// Notifications tab.
	notify       *widget.Check
	kinds        [4]*widget.Check // cooldown started, ended, needs login, all exhausted
	notifyErr    *widget.Label
	autostart    *widget.Check
	autostartErr *widget.Label

	// Usage tab.
	usage usageTab
}

// callTimeout bounds one call to the daemon.
const callTimeout = 15 * time.Second

// tickEvery is how often countdowns are rewritten while the window shows.
const tickEvery = 20 * time.Second

// New returns the settings window for the daemon d. Nothing is built or
// shown until Show.
func New(app fyne.App, d Daemon, opts Options) *Window {
	w := &Window{app: app, d: d, opts: opts, now: opts.Now, log: opts.Logger, baseURL: d.BaseURL()}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.log = w.log.With("component", "settings")
	switch opts.Home {
	case "":
		w.home, _ = os.UserHomeDir()
	case "-":
	default:
		w.home = opts.Home
	}
	return w
}

// Show builds the window on its first call, reloads what the daemon holds
// (keeping edits not yet applied), and shows and focuses the window.
func (w *Window) Show() {
	fyne.Do(w.show)
}

// Hide hides the window, as its close button does. It may be called from
// any goroutine.
func (w *Window) Hide() {
	fyne.Do(func() {
		if w.win != nil {
			w.hide()
		}
	})
}

// Refresh updates the account rows with a fresh snapshot of the accounts
// (states, usage, token expiry). It may be called from any goroutine, also
// while the window is hidden.
func (w *Window) Refresh(accounts []control.Account) {
	accounts = slices.Clone(accounts)
	fyne.Do(func() {
		w.setSnapshots(accounts)
	})
}

// Content returns the window's content, building it if needed. It is meant
// for tests and must be called on the UI goroutine.
func (w *Window) Content() fyne.CanvasObject {
	w.build()
	return w.content
}

func (w *Window) show() {
	w.build()
	w.win.Show()
	w.win.RequestFocus()
	w.startTicker()
	w.reload(true)
	if w.tabs.Selected() == w.usage.item {
		w.loadUsage()
	}
}

// hide hides the window (its close button does this): the tray stays.
func (w *Window) hide() {
	if w.adding != nil {
		w.adding.dlg.Hide()
	}
	w.stopTicker()
	w.win.Hide()
}

func (w *Window) build() {
	if w.win != nil {
		return
	}
	w.win = w.app.NewWindow("MaxRouter Settings")
	w.win.SetCloseIntercept(w.hide)
	w.content = w.buildUI()
	w.win.SetContent(w.content)
	w.win.Resize(fyne.NewSize(820, 560))
	w.updateDirty()
}

func (w *Window) buildUI() fyne.CanvasObject {
	w.tabIcons = map[string]fyne.Resource{
		"Accounts":      theme.AccountIcon(),
		"Routing":       theme.MediaFastForwardIcon(),
		"Proxy":         theme.ComputerIcon(),
		"Notifications": theme.InfoIcon(),
		"Usage":         theme.HistoryIcon(),
	}
	w.tabItems = map[string]*container.TabItem{
		"Accounts":      container.NewTabItemWithIcon("Accounts", w.tabIcons["Accounts"], w.buildAccounts()),
		"Routing":       container.NewTabItemWithIcon("Routing", w.tabIcons["Routing"], w.buildRouting()),
		"Proxy":         container.NewTabItemWithIcon("Proxy", w.tabIcons["Proxy"], w.buildProxy()),
		"Notifications": container.NewTabItemWithIcon("Notifications", w.tabIcons["Notifications"], w.buildNotifications()),
		"Usage":         container.NewTabItemWithIcon("Usage", w.tabIcons["Usage"], w.buildUsage()),
	}
	w.usage.item = w.tabItems["Usage"]
	w.tabs = container.NewAppTabs(w.tabItems["Accounts"], w.tabItems["Routing"], w.tabItems["Proxy"], w.tabItems["Notifications"], w.tabItems["Usage"])
	w.tabs.OnSelected = w.onTabSelected

	w.bannerText = widget.NewLabel("")
	w.bannerText.Wrapping = fyne.TextWrapWord
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { w.reload(true) })
	w.banner = container.NewStack(
		tint.NewPanel(theme.ColorNameError, 0.18),
		container.NewPadded(container.NewBorder(nil, nil,
			widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon())),
			container.NewCenter(retry),
			w.bannerText)),
	)
	w.banner.Hide()

	w.summary = widget.NewLabel("")
	w.summary.Wrapping = fyne.TextWrapWord
	w.revertBtn = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), w.onRevert)
	w.applyBtn = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), w.onApply)
	w.applyBtn.Importance = widget.HighImportance
	w.setSummary("", widget.LowImportance)
	bottom := container.NewVBox(
		widget.NewSeparator(),
		container.NewBorder(nil, nil, nil,
			container.NewHBox(w.revertBtn, w.applyBtn),
			w.summary),
	)
	return container.NewBorder(w.banner, container.NewPadded(bottom), nil, nil, w.tabs)
}

// setSummary writes the line left of Apply; "" shows the version.
func (w *Window) setSummary(text string, imp widget.Importance) {
	if text == "" {
		text, imp = "MaxRouter", widget.LowImportance
		if w.opts.Version != "" {
			text += " " + w.opts.Version
		}
	}
	w.summary.Text = text
	w.summary.Importance = imp
	w.summary.Refresh()
}

// async runs fn on its own goroutine with a bounded context. fn hands its
// results to the UI with fyne.Do.
func (w *Window) async(fn func(ctx context.Context)) {
	w.busy.Add(1)
	go func() {
		defer w.busy.Done()
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// wait waits until no background call is running (for tests).
func (w *Window) wait() { w.busy.Wait() }

// reload reads the configuration, accounts and tokens from the daemon.
// With keepEdits, a form holding edits not yet applied keeps them (only
// the configuration they will be applied onto is refreshed).
func (w *Window) reload(keepEdits bool) {
	auto := w.opts.Autostart
	w.async(func(ctx context.Context) {
		cfg, rev, cfgErr := w.d.Config(ctx)
		accts, accErr := w.d.Accounts(ctx)
		toks, tokErr := w.d.Tokens(ctx)
		var autoOn bool
		var autoErr error
		if auto != nil {
			autoOn, autoErr = auto.Enabled()
		}
		fyne.Do(func() {
			if err := firstErr(cfgErr, accErr, tokErr); err != nil {
				w.showBanner(err)
			} else {
				w.hideBanner()
			}
			if auto != nil {
				w.setAutostart(autoOn, autoErr)
			}
			if cfgErr == nil {
				w.rev = rev
				w.setBase(cfg, keepEdits)
			}
			if accErr == nil {
				w.setSnapshots(accts)
			}
			if tokErr == nil {
				w.setTokens(toks)
			}
		})
	})
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Window) showBanner(err error) {
	w.log.Warn("daemon call failed", "err", err)
	w.bannerText.SetText(bannerText(err, w.d.BaseURL()))
	w.banner.Show()
}

func (w *Window) hideBanner() { w.banner.Hide() }

// setBase takes cfg as what the daemon holds and shows it. With
// keepEdits, the fields the person edited keep their edits; the others
// follow cfg (the tray may have changed the strategy meanwhile).
func (w *Window) setBase(cfg control.Config, keepEdits bool) {
	w.base = cfg
	if !w.loaded {
		keepEdits = false
	}
	w.loaded = true
	w.fillForm(cfg, keepEdits)
	w.updateDirty()
}

// fillForm shows cfg in the fields: in all of them, or with keepEdits only
// in those that hold no edit. Without keepEdits, errors are forgotten too.
func (w *Window) fillForm(cfg control.Config, keepEdits bool) {
	w.filling = true
	defer func() { w.filling = false }()

	cur, fresh := w.formState(), configState(cfg)
	set := func(edited bool) bool { return !keepEdits || !edited }
	if set(cur.Strategy != w.clean.Strategy) {
		w.strategy.SetSelected(fresh.Strategy)
	}
	if set(cur.Cooldown != w.clean.Cooldown) {
		w.cooldown.SetText(fresh.Cooldown)
	}
	if set(cur.Affinity != w.clean.Affinity) {
		w.affinity.SetChecked(fresh.Affinity)
	}
	if set(cur.Port != w.clean.Port) {
		w.port.SetText(fresh.Port)
	}
	if set(cur.Notify != w.clean.Notify) {
		w.notify.SetChecked(fresh.Notify)
	}
	for i := range w.kinds {
		if set(cur.Kinds[i] != w.clean.Kinds[i]) {
			w.kinds[i].SetChecked(fresh.Kinds[i])
		}
	}
	w.updateNotifyEnabled()
	if set(!slices.Equal(cur.Accounts, w.clean.Accounts)) {
		w.rows = nil
		for _, a := range cfg.Accounts {
			w.rows = append(w.rows, w.newAccountRow(a, a.Name))
		}
		w.renderAccounts()
	} else {
		w.updateRows()
	}
	w.clean = fresh
	if !keepEdits {
		w.clearFieldErrors()
		if w.autostart != nil {
			w.autostart.SetChecked(w.autoBase)
		}
	}
}

// configState is the form as it shows cfg.
func configState(cfg control.Config) formState {
	s := formState{
		Strategy: strategyLabel(cfg.Strategy),
		Cooldown: durationInput(time.Duration(cfg.Cooldown)),
		Port:     listenPort(cfg.Listen),
		Affinity: cfg.SessionAffinity,
		Notify:   cfg.Notify,
		Kinds:    kindValues(cfg.Notifications),
	}
	for _, a := range cfg.Accounts {
		s.Accounts = append(s.Accounts, accountState{a.Name, a.Dir, a.Token, a.IsEnabled()})
	}
	return s
}

// setAutostart takes the autostart state read from the system.
func (w *Window) setAutostart(on bool, err error) {
	if w.autostart == nil {
		return
	}
	edited := w.autostart.Checked != w.autoBase
	w.autoBase = on
	if !edited {
		w.filling = true
		w.autostart.SetChecked(on)
		w.filling = false
	}
	if err != nil {
		setError(w.autostartErr, "Could not read whether MaxRouter starts at login: "+err.Error())
	} else {
		setError(w.autostartErr, "")
	}
}

// edited is called by every field's change handler.
func (w *Window) edited() {
	if w.filling {
		return
	}
	if !w.applying {
		w.setSummary("", 0)
	}
	w.updateDirty()
}

// dirty reports whether the form holds edits not yet applied.
func (w *Window) dirty() bool {
	if !w.loaded {
		return false
	}
	if w.autostart != nil && w.autostart.Checked != w.autoBase {
		return true
	}
	return !w.formState().equal(w.clean)
}

func (w *Window) updateDirty() {
	if w.applyBtn == nil {
		return
	}
	if w.loaded && !w.applying && w.dirty() {
		w.applyBtn.Enable()
		w.revertBtn.Enable()
	} else {
		w.applyBtn.Disable()
		w.revertBtn.Disable()
	}
	if w.addBtn != nil {
		enableIf(w.addBtn, w.loaded)
	}
}

// onRevert reloads everything from the daemon, losing the edits not yet
// applied.
func (w *Window) onRevert() {
	w.setSummary("", 0)
	w.clearFieldErrors()
	w.reload(false)
}

// onApply builds the configuration from the form and sends it to the
// daemon. Values found invalid here or by the daemon are marked next to
// their field, and then nothing is applied.
func (w *Window) onApply() {
	if !w.loaded || w.applying {
		return
	}
	w.clearFieldErrors()
	f, errs := w.readForm()
	if len(errs) > 0 {
		w.showFieldErrors(errs, w.rows)
		return
	}
	cfg := f.config(w.base)
	rev := w.rev
	putConfig := !w.formState().equal(w.clean)
	auto := w.opts.Autostart
	setAuto, autoOn := false, false
	if w.autostart != nil && w.autostart.Checked != w.autoBase {
		setAuto, autoOn = true, w.autostart.Checked
	}
	rows := slices.Clone(w.rows) // field errors name these by index
	w.applying = true
	w.updateDirty()
	w.setSummary("Applying…", widget.LowImportance)

	w.async(func(ctx context.Context) {
		var err, autoErr error
		if putConfig {
			_, err = w.d.PutConfig(ctx, cfg, rev)
		}
		if err == nil && setAuto {
			if autoOn {
				autoErr = auto.Enable()
			} else {
				autoErr = auto.Disable()
			}
		}
		var fresh control.Config
		var freshRev string
		var freshErr error
		var accts []control.Account
		var accErr error = errors.New("not read")
		if err == nil && putConfig {
			fresh, freshRev, freshErr = w.d.Config(ctx)
			accts, accErr = w.d.Accounts(ctx)
		}
		fyne.Do(func() {
			w.applying = false
			defer w.updateDirty()
			var ve *config.ValidationError
			switch {
			case errors.As(err, &ve):
				w.showFieldErrors(ve.Fields, rows)
				return
			case err != nil:
				w.showBanner(err)
				w.setSummary("Not applied: the daemon could not be asked", widget.DangerImportance)
				return
			}
			w.hideBanner()
			if putConfig {
				if freshErr != nil {
					fresh = cfg // applied; the daemon will tell the rest on the next reload
				} else {
					w.rev = freshRev
				}
				if fresh.Listen != w.base.Listen {
					if u := baseURLFor(fresh.Listen); u != "" {
						w.setBaseURL(u)
					}
				}
				w.setBase(fresh, false)
				if accErr == nil {
					w.setSnapshots(accts)
				}
			}
			if setAuto {
				if autoErr != nil {
					setError(w.autostartErr, "Could not change it: "+autoErr.Error())
					w.setTabError("Notifications", true)
					w.setSummary("Applied, but starting at login could not be changed", widget.WarningImportance)
					return
				}
				w.autoBase = autoOn
			}
			w.setSummary("Applied.", widget.SuccessImportance)
		})
	})
}

// form is what the window edits of a configuration, read from its fields.
type form struct {
	Strategy      string
	Cooldown      time.Duration
	Port          int
	Affinity      bool
	Notify        bool
	Notifications config.Notifications
	Accounts      []config.Account
}

// config returns base with the form's values put in; everything the window
// does not edit is kept as base has it.
func (f form) config(base control.Config) control.Config {
	c := base
	if f.Strategy != "" {
		c.Strategy = f.Strategy
	}
	c.Cooldown = config.Duration(f.Cooldown)
	c.Listen = withPort(base.Listen, f.Port)
	c.SessionAffinity = f.Affinity
	c.Notify = f.Notify
	c.Notifications = f.Notifications
	c.Accounts = make([]config.Account, len(f.Accounts))
	for i, a := range f.Accounts {
		if a.Enabled != nil {
			v := *a.Enabled
			a.Enabled = &v
		}
		c.Accounts[i] = a
	}
	return c
}

// readForm reads the fields, checking those the window can check itself.
func (w *Window) readForm() (form, []config.FieldError) {
	var errs []config.FieldError
	f := form{
		Strategy:      strategyValue(w.strategy.Selected),
		Affinity:      w.affinity.Checked,
		Notify:        w.notify.Checked,
		Notifications: config.Notifications{CooldownStarted: w.kinds[0].Checked, CooldownEnded: w.kinds[1].Checked, NeedsLogin: w.kinds[2].Checked, AllExhausted: w.kinds[3].Checked},
	}
	var msg string
	if f.Cooldown, msg = parseCooldown(w.cooldown.Text); msg != "" {
		errs = append(errs, config.FieldError{Field: "cooldown", Message: msg})
	}
	if f.Port, msg = parsePort(w.port.Text); msg != "" {
		errs = append(errs, config.FieldError{Field: "listen", Message: msg})
	}
	for _, r := range w.rows {
		f.Accounts = append(f.Accounts, r.acct)
	}
	return f, errs
}

// formState is the form as text, to tell whether it holds edits.
type formState struct {
	Strategy, Cooldown, Port string
	Affinity, Notify         bool
	Kinds                    [4]bool
	Accounts                 []accountState
}

type accountState struct {
	Name, Dir, Token string
	Enabled          bool
}

func (s formState) equal(o formState) bool {
	return s.Strategy == o.Strategy && s.Cooldown == o.Cooldown && s.Port == o.Port &&
		s.Affinity == o.Affinity && s.Notify == o.Notify && s.Kinds == o.Kinds &&
		slices.Equal(s.Accounts, o.Accounts)
}

func (w *Window) formState() formState {
	s := formState{
		Strategy: w.strategy.Selected,
		Cooldown: w.cooldown.Text,
		Port:     w.port.Text,
		Affinity: w.affinity.Checked,
		Notify:   w.notify.Checked,
	}
	for i, k := range w.kinds {
		s.Kinds[i] = k.Checked
	}
	for _, r := range w.rows {
		s.Accounts = append(s.Accounts, accountState{r.acct.Name, r.acct.Dir, r.acct.Token, r.acct.IsEnabled()})
	}
	return s
}

// clearFieldErrors hides every inline error and restores the tab icons.
func (w *Window) clearFieldErrors() {
	for _, l := range []*widget.Label{w.portErr, w.strategyErr, w.cooldownErr, w.notifyErr} {
		setError(l, "")
	}
	for _, r := range w.rows {
		setError(r.err, "")
	}
	for name := range w.tabItems {
		w.setTabError(name, false)
	}
}

// showFieldErrors marks each invalid value next to its field (rows are the
// account rows the fields' indexes refer to) and sums them up.
func (w *Window) showFieldErrors(fields []config.FieldError, rows []*accountRow) {
	w.clearFieldErrors()
	msgs := map[*widget.Label][]string{}
	var order []*widget.Label
	add := func(l *widget.Label, msg string) {
		if _, ok := msgs[l]; !ok {
			order = append(order, l)
		}
		msgs[l] = append(msgs[l], msg)
	}
	var unplaced []config.FieldError
	for _, f := range fields {
		target, i := fieldTarget(f.Field)
		switch target {
		case targetListen:
			add(w.portErr, upperFirst(f.Message))
		case targetStrategy:
			add(w.strategyErr, upperFirst(f.Message))
		case targetCooldown:
			add(w.cooldownErr, upperFirst(f.Message))
		case targetNotify:
			add(w.notifyErr, upperFirst(f.Message))
		case targetAccount:
			if i < len(rows) && slices.Contains(w.rows, rows[i]) {
				add(rows[i].err, fieldMessage(f.Field, f.Message))
				continue
			}
			unplaced = append(unplaced, f)
			continue
		default:
			continue
		}
		w.setTabError(tabOf(target), true)
	}
	for _, l := range order {
		setError(l, strings.Join(msgs[l], "\n"))
	}
	for _, r := range rows {
		if r.err.Visible() {
			w.setTabError("Accounts", true)
		}
	}
	w.setSummary(summaryText(fields), widget.DangerImportance)
	if len(unplaced) > 0 {
		w.log.Info("field errors for rows no longer shown", "fields", len(unplaced))
	}
	// Show the first tab holding a marked value.
	for _, name := range []string{"Accounts", "Routing", "Proxy", "Notifications"} {
		if w.tabItems[name].Icon != w.tabIcons[name] {
			if w.tabs.Selected() != w.tabItems[name] && !w.tabHasError(w.tabs.Selected()) {
				w.tabs.Select(w.tabItems[name])
			}
			break
		}
	}
}

func (w *Window) tabHasError(t *container.TabItem) bool {
	for name, item := range w.tabItems {
		if item == t {
			return item.Icon != w.tabIcons[name]
		}
	}
	return false
}

// setTabError swaps a tab's icon for a warning when it holds a marked value.
func (w *Window) setTabError(name string, bad bool) {
	item := w.tabItems[name]
	if item == nil {
		return
	}
	icon := w.tabIcons[name]
	if bad {
		icon = theme.NewErrorThemedResource(theme.WarningIcon())
	}
	if item.Icon != icon {
		item.Icon = icon
		w.tabs.Refresh()
	}
}

// newErrorLabel is a red label under a field, hidden while empty.
func newErrorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// setError shows msg in an error label, or hides it for "".
func setError(l *widget.Label, msg string) {
	if l == nil {
		return
	}
	l.SetText(msg)
	if msg == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// newHint is grey explanatory text, wrapped.
func newHint(text string) *widget.RichText {
	r := widget.NewRichText(&widget.TextSegment{Text: text, Style: hintStyle})
	r.Wrapping = fyne.TextWrapWord
	return r
}

// hintStyle is the style of explanatory text.
var hintStyle = widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePlaceHolder}

// setText replaces the segments of r with texts in the given styles.
func setText(r *widget.RichText, parts ...styled) {
	segs := make([]widget.RichTextSegment, 0, len(parts))
	for _, p := range parts {
		if p.text != "" {
			segs = append(segs, &widget.TextSegment{Text: p.text, Style: p.style})
		}
	}
	r.Segments = segs
	r.Refresh()
}

// styled is a piece of text in a style, for setText.
type styled struct {
	text  string
	style widget.RichTextStyle
}

func hint(text string) styled { return styled{text, hintStyle} }

// newHeading is a section title.
func newHeading(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.TextStyle = fyne.TextStyle{Bold: true}
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// page wraps a tab's content: padded, scrolling vertically.
func page(objs ...fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVScroll(container.NewPadded(container.NewVBox(objs...)))
}

// fixedWidth gives obj a fixed width and its own height, at the top.
func fixedWidth(width float32, obj fyne.CanvasObject) fyne.CanvasObject {
	return container.New(&widthLayout{width: width}, obj)
}

type widthLayout struct{ width float32 }

func (l *widthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		h := min(o.MinSize().Height, size.Height)
		o.Move(fyne.NewPos(0, 0))
		o.Resize(fyne.NewSize(l.width, h))
	}
}

func (l *widthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(l.width, h)
}

var _ fyne.Layout = (*widthLayout)(nil)

// spacer is an empty object of a fixed size.
func spacer(w, h float32) fyne.CanvasObject {
	return container.New(layout.NewGridWrapLayout(fyne.NewSize(w, h)))
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
				fyne.Do(func() {
					if w.stopTick == stop {
						w.updateRows()
						w.renderTokens()
					}
				})
			}
		}
	}()
}

func (w *Window) stopTicker() {
	if w.stopTick != nil {
		close(w.stopTick)
		w.stopTick = nil
	}
}
