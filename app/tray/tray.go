// Package tray draws MaxRouter's tray icon and menu from the live model of
// the daemon (app/live), and nothing else: every action is a callback the
// desktop app supplies. Like Tailscale's systray, it is a thin view.
//
// The menu is built once and then changed in place: titles, check marks and
// enabled states change on the existing items, so a panel reading the menu
// never sees it half built. It is rebuilt only when its shape changes:
// accounts added, removed or reordered, or the daemon going or coming
// back. The view decisions (IconFor, Title, Tooltip, AccountLine) are pure
// functions in view.go.
package tray

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/control"
)

// Actions are what the menu's items do. Each runs on its own goroutine and
// may block; a nil action's item is not offered (or shown disabled, for
// account lines).
type Actions struct {
	// OpenSettings shows the settings window, at an account when account
	// is not "" ("Settings…", an account line).
	OpenSettings func(account string)
	// SetStrategy switches the routing strategy (the Strategy submenu).
	SetStrategy func(ctx context.Context, name string) error
	// SetPaused pauses or resumes routing.
	SetPaused func(ctx context.Context, paused bool) error
	// Start starts the daemon ("Start MaxRouter", offered while it is not
	// running).
	Start func() error
	// Stop stops the daemon ("Stop MaxRouter").
	Stop func() error
	// SetupClaude points Claude Code at MaxRouter in its user settings
	// ("Set up Claude Code"), and says how it went.
	SetupClaude func(ctx context.Context) error
	// CopySetup puts the two lines that point a shell's Claude Code at
	// MaxRouter on the clipboard ("Copy shell export lines"), for other
	// shells and machines.
	CopySetup func(ctx context.Context) error
	// LogIn logs an account that needs a login in again (a click on its
	// line; without it the line opens Settings at the account).
	LogIn func(account string)
	// Quit ends the desktop app.
	Quit func()
	// Tell shows a short message: the outcome of an action that failed.
	// Nil: it is only logged.
	Tell func(title, body string)
}

// Options configure a Tray. Menu is required.
type Options struct {
	Menu    Menu
	Actions Actions
	// Icons returns the encoded image for an icon. Nil: TrayIcon.
	Icons func(Icon) []byte
	// Now is the clock; its location is the one times are shown in. Nil:
	// time.Now.
	Now func() time.Time
	// Home is written as "~" in directories. "": os.UserHomeDir; "-":
	// never.
	Home string
	// Logger; nil: slog.Default.
	Logger *slog.Logger
}

// Menu labels that tests and people look for.
const (
	LabelStrategy = "Strategy"
	LabelSetup    = "Set up Claude Code"
	LabelCopy     = "Copy shell export lines"
	LabelSettings = "Settings…"
	LabelPause    = "Pause routing"
	LabelResume   = "Resume routing"
	LabelStart    = "Start MaxRouter"
	LabelStarting = "Starting MaxRouter…"
	LabelStop     = "Stop MaxRouter"
	LabelStopping = "Stopping MaxRouter…"
	LabelQuit     = "Quit"
	LabelNoneYet  = "No accounts yet — add one in Settings"
)

// strategies lists the routing strategies in menu order with their labels.
var strategies = []struct{ name, label string }{
	{"round-robin", "Round-robin"},
	{"priority", "Priority"},
	{"least-used", "Least used"},
	{"headroom", "Most headroom"},
}

// Strategies returns the strategy names in menu order.
func Strategies() []string {
	out := make([]string, len(strategies))
	for i, s := range strategies {
		out[i] = s.name
	}
	return out
}

// startGrace is how long "Starting MaxRouter…" waits for the daemon to
// answer before "Start MaxRouter" is offered again.
const startGrace = 20 * time.Second

// actionTimeout bounds one menu action.
const actionTimeout = 30 * time.Second

// Tray is the tray icon and its menu. Create it with New, feed it States
// with Show (a live.Watcher), and Close it when the app ends.
type Tray struct {
	o    Options
	log  *slog.Logger
	home string

	ctx     context.Context // ends with Close: actions under way
	cancel  context.CancelFunc
	actions sync.WaitGroup

	mu        sync.Mutex // guards everything below; held while drawing
	state     live.State
	busy      string // LabelStarting or LabelStopping, or ""
	busySince time.Time
	strategy  string // chosen here, not yet confirmed by the daemon
	service   string // ServiceStatus, read when the daemon went away
	shape     string // what the built menu is for (accounts, reachability)
	items     items
	icon      Icon
	iconSet   bool
	tooltip   string
}

// items are the built menu's entries; absent ones are nil.
type items struct {
	title    Item
	accounts []Item
	note     Item // no accounts yet, or why the daemon is down
	start    Item
	strategy Item
	choices  []Item
	setup    Item
	copy     Item
	settings Item
	pause    Item
	stop     Item
	quit     Item
}

// New returns a tray drawing on o.Menu; nothing is drawn until Show.
func New(o Options) *Tray {
	t := &Tray{o: o}
	if t.o.Icons == nil {
		t.o.Icons = TrayIcon
	}
	if t.o.Now == nil {
		t.o.Now = time.Now
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
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.icon = -1
	return t
}

// Close ends the actions under way and waits for them.
func (t *Tray) Close() {
	t.cancel()
	t.actions.Wait()
}

// Show draws s. It is a live.Watcher: events are not needed to draw.
func (t *Tray) Show(s live.State, _ []control.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state = s
	if s.Connected && t.busy == LabelStarting {
		t.busy = ""
	}
	if !s.Connected && t.busy == LabelStopping {
		t.busy = ""
	}
	if t.strategy != "" && s.Config.Strategy == t.strategy {
		t.strategy = "" // the daemon has it now
	}
	t.drawLocked()
}

// ShowService sets a few words on the service's state ("stopped", "not
// installed"), shown while the daemon is down; "" shows none.
func (t *Tray) ShowService(status string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.service = status
	t.drawLocked()
}

// drawLocked brings the icon, tooltip and menu up to date; t.mu is held.
func (t *Tray) drawLocked() {
	s, now := t.state, t.o.Now()
	icon := IconFor(s)
	if !t.iconSet || icon != t.icon {
		if img := t.o.Icons(icon); img != nil {
			t.o.Menu.SetIcon(img)
		}
		t.icon, t.iconSet = icon, true
	}
	if tip := Tooltip(s, now); tip != t.tooltip {
		t.o.Menu.SetTooltip(tip)
		t.tooltip = tip
	}
	if shape := t.shapeOf(s); shape != t.shape {
		t.build(s)
		t.shape = shape
	}
	t.fill(s, now)
}

// shapeOf names what the menu's items are for: the daemon reachable or
// not, and the accounts in order.
func (t *Tray) shapeOf(s live.State) string {
	if !s.Connected {
		return "down"
	}
	shape := "up"
	for _, a := range s.Accounts {
		shape += "\x00" + a.Name
	}
	return shape
}

// build makes the menu's items for s's shape, replacing any built before.
func (t *Tray) build(s live.State) {
	m, a := t.o.Menu, t.o.Actions
	m.Reset()
	it := items{}
	it.title = m.Add(nil, "MaxRouter", false)
	m.AddSeparator()
	if s.Connected {
		for _, acct := range s.Accounts {
			name := acct.Name
			it.accounts = append(it.accounts, t.clickable(m.Add(nil, name, false), func(context.Context) error {
				t.clickAccount(name)
				return nil
			}, ""))
		}
		if len(s.Accounts) == 0 {
			it.note = t.clickable(m.Add(nil, LabelNoneYet, false), func(context.Context) error {
				if a.OpenSettings != nil {
					a.OpenSettings("")
				}
				return nil
			}, "")
		}
		m.AddSeparator()
		it.strategy = m.Add(nil, LabelStrategy, false)
		for _, st := range strategies {
			name := st.name
			it.choices = append(it.choices, t.clickable(m.Add(it.strategy, st.label, true), func(ctx context.Context) error {
				return t.chooseStrategy(ctx, name)
			}, "Couldn't change the strategy"))
		}
	} else {
		it.note = m.Add(nil, "", false)
		if a.Start != nil {
			it.start = t.clickable(m.Add(nil, LabelStart, false), func(context.Context) error { return t.run(LabelStarting, a.Start) }, "Couldn't start MaxRouter")
		}
		m.AddSeparator()
	}
	if a.SetupClaude != nil {
		it.setup = t.clickable(m.Add(nil, LabelSetup, false), a.SetupClaude, "Couldn't set up Claude Code")
	}
	if a.CopySetup != nil {
		it.copy = t.clickable(m.Add(nil, LabelCopy, false), a.CopySetup, "Couldn't copy the Claude Code setup")
	}
	if a.OpenSettings != nil {
		it.settings = t.clickable(m.Add(nil, LabelSettings, false), func(context.Context) error {
			a.OpenSettings("")
			return nil
		}, "")
	}
	if s.Connected {
		if a.SetPaused != nil {
			it.pause = t.clickable(m.Add(nil, LabelPause, false), func(ctx context.Context) error {
				t.mu.Lock()
				paused := t.state.Paused()
				t.mu.Unlock()
				return a.SetPaused(ctx, !paused)
			}, "Couldn't change routing")
		}
		if a.Stop != nil {
			it.stop = t.clickable(m.Add(nil, LabelStop, false), func(context.Context) error { return t.run(LabelStopping, a.Stop) }, "Couldn't stop MaxRouter")
		}
	}
	m.AddSeparator()
	it.quit = t.clickable(m.Add(nil, LabelQuit, false), func(context.Context) error {
		if a.Quit != nil {
			a.Quit()
		}
		return nil
	}, "")
	t.items = it
}

// fill writes s into the built items.
func (t *Tray) fill(s live.State, now time.Time) {
	it := t.items
	title := Title(s)
	if t.busy != "" && !s.Connected {
		title = "MaxRouter — starting…"
	}
	it.title.SetLabel(title)
	it.title.SetEnabled(false)
	for i, item := range it.accounts {
		if i < len(s.Accounts) {
			item.SetLabel(AccountLine(s.Accounts[i], now, t.home, t.o.Actions.LogIn != nil))
		}
		item.SetEnabled(t.o.Actions.OpenSettings != nil || t.o.Actions.LogIn != nil)
	}
	if !s.Connected {
		why := Problem(s)
		if t.service != "" {
			why = why[:len(why)-1] + " (service: " + t.service + ")."
		}
		if !s.Tried {
			why = "Looking for the MaxRouter daemon…"
		}
		it.note.SetLabel(why)
		it.note.SetEnabled(false)
	}
	if it.start != nil {
		if t.busy == LabelStarting && now.Sub(t.busySince) < startGrace {
			it.start.SetLabel(LabelStarting)
			it.start.SetEnabled(false)
		} else {
			it.start.SetLabel(LabelStart)
			it.start.SetEnabled(true)
		}
	}
	if it.strategy != nil {
		current := s.Config.Strategy
		if t.strategy != "" {
			current = t.strategy
		}
		it.strategy.SetEnabled(s.HasConfig())
		for i, c := range it.choices {
			c.SetChecked(strategies[i].name == current)
		}
	}
	if it.pause != nil {
		if s.Paused() {
			it.pause.SetLabel(LabelResume)
		} else {
			it.pause.SetLabel(LabelPause)
		}
	}
	if it.stop != nil {
		if t.busy == LabelStopping {
			it.stop.SetLabel(LabelStopping)
			it.stop.SetEnabled(false)
		} else {
			it.stop.SetLabel(LabelStop)
			it.stop.SetEnabled(true)
		}
	}
}

// clickAccount is a click on an account's line: an account that needs a
// login (and can have one from the daemon) logs in again, any other opens
// Settings at it.
func (t *Tray) clickAccount(name string) {
	a := t.o.Actions
	t.mu.Lock()
	var acct control.Account
	for _, x := range t.state.Accounts {
		if x.Name == name {
			acct = x
		}
	}
	t.mu.Unlock()
	switch {
	case a.LogIn != nil && acct.State == control.StateNeedsLogin && CanLogIn(acct):
		a.LogIn(name)
	case a.OpenSettings != nil:
		a.OpenSettings(name)
	}
}

// clickable runs do, on its own goroutine, for every click of item; a
// failure is told under failTitle. It returns item.
func (t *Tray) clickable(item Item, do func(ctx context.Context) error, failTitle string) Item {
	clicks := item.Clicked()
	t.actions.Go(func() {
		for {
			select {
			case <-t.ctx.Done():
				return
			case _, ok := <-clicks:
				if !ok {
					return // the item was removed
				}
				t.actions.Go(func() {
					ctx, cancel := context.WithTimeout(t.ctx, actionTimeout)
					defer cancel()
					if err := do(ctx); err != nil && t.ctx.Err() == nil {
						t.log.Warn("menu action failed", "action", failTitle, "err", err)
						t.tell(failTitle, err.Error())
					}
				})
			}
		}
	})
	return item
}

// tell shows a message to the person, or logs it when nobody listens.
func (t *Tray) tell(title, body string) {
	if t.o.Actions.Tell != nil {
		t.o.Actions.Tell(title, body)
		return
	}
	t.log.Info(title, "detail", body)
}

// run marks the menu busy with label (Starting…, Stopping…) while fn runs,
// and until the daemon shows it worked.
func (t *Tray) run(label string, fn func() error) error {
	t.mu.Lock()
	t.busy, t.busySince = label, t.o.Now()
	t.drawLocked()
	t.mu.Unlock()
	err := fn()
	if err != nil {
		t.mu.Lock()
		t.busy = ""
		t.drawLocked()
		t.mu.Unlock()
	}
	return err
}

// chooseStrategy switches the strategy: the check mark moves at once and
// back when the daemon refuses.
func (t *Tray) chooseStrategy(ctx context.Context, name string) error {
	t.mu.Lock()
	if t.state.Config.Strategy == name && t.strategy == "" {
		t.mu.Unlock()
		return nil
	}
	t.strategy = name
	t.drawLocked()
	t.mu.Unlock()
	if t.o.Actions.SetStrategy == nil {
		return nil
	}
	err := t.o.Actions.SetStrategy(ctx, name)
	if err != nil {
		t.mu.Lock()
		if t.strategy == name {
			t.strategy = ""
			t.drawLocked()
		}
		t.mu.Unlock()
	}
	return err
}

// UpdateStrategy is a SetStrategy action for Actions: it changes the
// strategy in the daemon's configuration, on top of changes made
// meanwhile.
func UpdateStrategy(update func(ctx context.Context, edit func(*control.Config) error) error) func(ctx context.Context, name string) error {
	return func(ctx context.Context, name string) error {
		return update(ctx, func(c *control.Config) error {
			c.Strategy = name
			return nil
		})
	}
}
