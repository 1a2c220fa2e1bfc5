// Package welcome is the window the desktop app shows once, on its first
// run: the Claude Code logins it found, one sentence on the background
// service Claude Code talks to, a button that starts that service, and
// once it runs one that sets Claude Code up to go through it.
// With a tray the window only offers to start it ("Not now" leaves that to
// the tray menu's "Start MaxRouter"); without one nothing else would, so
// the window starts it as it opens. Either way it shows how MaxRouter was
// started, or why it was not, and the next step.
//
// The package does not import fyne.io/fyne/v2/app (which needs cgo), so
// its tests run on fyne's headless test driver.
package welcome

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/tint"
	"github.com/maxrouter/maxrouter/assets"
)

// Title is the window's title.
const Title = "Welcome to MaxRouter"

// Login is a Claude Code login the first run found and configured.
type Login struct {
	Name string // the account's name in the configuration ("work")
	Dir  string // its config directory as the configuration says ("~/.claude-work")
	Plan string // its subscription ("Max 20x"); "" when unknown
}

// Options configures a Window.
type Options struct {
	// Logins are the accounts the new configuration holds.
	Logins []Login
	// Start starts the daemon and says how in a sentence ("It runs as a
	// user service and starts at login."). The window calls it on a
	// goroutine of its own, once per click. Required.
	Start func() (how string, err error)
	// SetupClaude points Claude Code at MaxRouter in its own settings and
	// says how that went, as a heading and a sentence. Once MaxRouter runs
	// the window offers it ("Set up Claude Code"), calling it on a
	// goroutine of its own. Nil: not offered.
	SetupClaude func() (head, text string, err error)
	// Tray says the app shows a tray icon, whose menu offers "Start
	// MaxRouter" and "Set up Claude Code". Without one the window
	// starts MaxRouter as soon as it shows and points at the settings
	// window for the next step.
	Tray bool
	// Tell shows a desktop notification. The window uses it only when a
	// start finishes after the window was closed, so the result is not
	// lost. nil: no notification.
	Tell func(title, body string)
	// Logger receives what the window does. Default slog.Default().
	Logger *slog.Logger
}

// Window is the welcome window. Create it with New; it is built on the
// first Show.
type Window struct {
	app fyne.App
	o   Options
	log *slog.Logger

	busy sync.WaitGroup // running starts

	// Everything below belongs to the UI goroutine.
	win      fyne.Window
	starting bool        // a start is running
	tried    bool        // a start was begun
	closed   atomic.Bool // the window was closed (or never shown); read by the start goroutine

	startBtn   *widget.Button
	laterBtn   *widget.Button
	setupBtn   *widget.Button  // Set up Claude Code, once MaxRouter runs
	result     *fyne.Container // the result card; hidden until the first start
	resultBg   *tint.Panel
	resultIcon *widget.Icon
	activity   *widget.Activity
	resultHead *widget.Label
	resultText *widget.Label
}

// New returns the welcome window for app. Nothing is built or shown until
// Show.
func New(app fyne.App, o Options) *Window {
	w := &Window{app: app, o: o, log: o.Logger}
	w.closed.Store(true)
	if w.log == nil {
		w.log = slog.Default()
	}
	w.log = w.log.With("component", "welcome")
	return w
}

// Show shows the window, building it on the first call; without a tray it
// also starts MaxRouter the first time. It may be called from any
// goroutine, also before the fyne app runs.
func (w *Window) Show() { fyne.Do(w.show) }

// Wait waits until no start the window began is running. The result may
// reach the window a moment later (through fyne.Do).
func (w *Window) Wait() { w.busy.Wait() }

func (w *Window) show() {
	if w.win == nil {
		w.win = w.app.NewWindow(Title)
		w.win.SetContent(w.build())
		w.win.SetCloseIntercept(w.close)
		w.win.Resize(fyne.NewSize(560, 10)) // as tall as the content needs
		w.win.CenterOnScreen()
	}
	w.closed.Store(false)
	w.win.Show()
	w.win.RequestFocus()
	w.fit()
	if !w.o.Tray && !w.tried {
		w.start()
	}
}

// close hides the window: "Not now", its close button, or "Done".
func (w *Window) close() {
	w.closed.Store(true)
	w.win.Hide()
}

func (w *Window) build() fyne.CanvasObject {
	icon := canvas.NewImageFromResource(assets.Resource(assets.IconName))
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(64, 64))
	title := widget.NewLabel(Title)
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.SizeName = theme.SizeNameHeadingText
	header := container.NewBorder(nil, nil, container.NewCenter(icon), nil,
		container.New(layout.NewCustomPaddedVBoxLayout(0),
			title,
			newHint("Use all your Claude subscriptions from one Claude Code: when one reaches its limit, the next takes over."),
		))

	service := widget.NewLabel(serviceText)
	service.Wrapping = fyne.TextWrapWord

	w.resultIcon = widget.NewIcon(nil)
	w.activity = widget.NewActivity()
	w.resultHead = widget.NewLabel("")
	w.resultHead.TextStyle = fyne.TextStyle{Bold: true}
	w.resultText = widget.NewLabel("")
	w.resultText.Wrapping = fyne.TextWrapWord
	w.resultBg = tint.NewPanel(theme.ColorNameInputBackground, 1)
	w.result = container.NewStack(w.resultBg, container.NewPadded(container.New(layout.NewCustomPaddedVBoxLayout(0),
		container.NewHBox(container.NewStack(w.resultIcon, w.activity), w.resultHead),
		w.resultText)))
	w.result.Hide()

	w.laterBtn = widget.NewButton("Not now", w.close)
	w.startBtn = widget.NewButtonWithIcon("Start MaxRouter", theme.MediaPlayIcon(), w.start)
	w.startBtn.Importance = widget.HighImportance
	if !w.o.Tray {
		w.laterBtn.SetText("Close")
		w.laterBtn.Hide() // until a start failed: MaxRouter starts as the window opens
	}
	w.setupBtn = widget.NewButtonWithIcon("Set up Claude Code", theme.ConfirmIcon(), w.setup)
	w.setupBtn.Importance = widget.HighImportance
	w.setupBtn.Hide()
	buttons := container.NewHBox(layout.NewSpacer(), w.laterBtn, w.startBtn, w.setupBtn)

	body := container.NewVBox(
		header,
		newHeading("Claude Code logins"),
		w.buildLogins(),
		service,
		w.result,
	)
	return container.NewBorder(nil,
		container.NewPadded(container.NewVBox(widget.NewSeparator(), buttons)),
		nil, nil,
		container.NewPadded(body))
}

// serviceText says what MaxRouter runs, in one sentence.
const serviceText = "MaxRouter runs a small background service on this computer: Claude Code sends its requests there, and MaxRouter passes each one to an account with room left."

// buildLogins lists the logins found, or says how to add one.
func (w *Window) buildLogins() fyne.CanvasObject {
	if len(w.o.Logins) == 0 {
		head := widget.NewLabel("No Claude Code login found yet")
		head.TextStyle = fyne.TextStyle{Bold: true}
		return tint.Card(container.NewBorder(nil, nil,
			container.NewVBox(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))), nil,
			container.New(layout.NewCustomPaddedVBoxLayout(0), head, newHint(noLoginsText(w.o.Tray)))))
	}
	rows := container.New(layout.NewCustomPaddedVBoxLayout(0))
	for _, l := range w.o.Logins {
		name := widget.NewLabel(l.Name)
		name.TextStyle = fyne.TextStyle{Bold: true}
		left := container.NewHBox(widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon())), name)
		if l.Plan != "" {
			left.Add(widget.NewLabel(l.Plan))
		}
		dir := newHint(l.Dir)
		dir.Wrapping = fyne.TextWrapOff
		dir.Truncation = fyne.TextTruncateEllipsis
		rows.Add(container.NewBorder(nil, nil, left, nil, dir))
	}
	return container.NewVBox(tint.Card(rows), newHint("Rename, reorder or add accounts later in Settings."))
}

// noLoginsText says how to add the first account.
func noLoginsText(tray bool) string {
	where := "Choose Settings… in the tray menu, then Add account…"
	if !tray {
		where = "Use Add account… in the Settings window"
	}
	return where + " to log in with Claude in your browser, once per subscription."
}

// start starts MaxRouter (the Start button; without a tray, Show).
func (w *Window) start() {
	if w.starting {
		return
	}
	w.starting, w.tried = true, true
	w.startBtn.Disable()
	w.startBtn.SetText("Starting…")
	w.laterBtn.Hide()
	w.setResult(theme.ColorNameInputBackground, nil, "Starting MaxRouter…", "")
	w.activity.Show()
	w.activity.Start()
	w.busy.Go(func() {
		how, err := w.o.Start()
		fyne.Do(func() { w.finish(how, err) })
		if w.closed.Load() && w.o.Tell != nil {
			// Nobody sees the window any more. Sent from here, not the
			// UI goroutine: a slow notification server must not freeze it.
			w.o.Tell(Result(w.o.Tray, how, err))
		}
	})
}

// finish shows the result of a start.
func (w *Window) finish(how string, err error) {
	w.starting = false
	w.activity.Stop()
	w.activity.Hide()
	head, text := Result(w.o.Tray, how, err)
	if err != nil {
		w.log.Error("starting the daemon", "err", err)
		w.setResult(theme.ColorNameError, theme.NewErrorThemedResource(theme.ErrorIcon()), head, text)
		w.startBtn.SetText("Try again")
		w.startBtn.SetIcon(theme.ViewRefreshIcon())
		w.startBtn.OnTapped = w.start
		w.laterBtn.Show()
	} else {
		w.log.Info("started the daemon", "how", how)
		w.setResult(theme.ColorNameSuccess, theme.NewSuccessThemedResource(theme.ConfirmIcon()), head, text)
		w.startBtn.SetText("Done")
		w.startBtn.SetIcon(theme.ConfirmIcon())
		w.startBtn.OnTapped = w.close
		w.laterBtn.Hide()
		if w.o.SetupClaude != nil {
			w.startBtn.Importance = widget.MediumImportance
			w.setupBtn.Show()
		}
	}
	w.startBtn.Enable()
}

// setup sets Claude Code up (the Set up Claude Code button) and shows how
// that went.
func (w *Window) setup() {
	w.setupBtn.Disable()
	w.setupBtn.SetText("Setting up…")
	w.busy.Go(func() {
		head, text, err := w.o.SetupClaude()
		fyne.Do(func() {
			if err != nil {
				w.log.Warn("setting up Claude Code", "err", err)
				w.setResult(theme.ColorNameError, theme.NewErrorThemedResource(theme.ErrorIcon()), "Claude Code is not set up", "The error was: "+err.Error())
				w.setupBtn.SetText("Try again")
				w.setupBtn.Enable()
				return
			}
			w.setResult(theme.ColorNameSuccess, theme.NewSuccessThemedResource(theme.ConfirmIcon()), head, text)
			w.setupBtn.Hide()
			w.startBtn.Importance = widget.HighImportance
			w.startBtn.Refresh()
		})
	})
}

// setResult fills the result card; a nil icon leaves room for the
// activity indicator.
func (w *Window) setResult(tint fyne.ThemeColorName, icon fyne.Resource, head, text string) {
	alpha := float32(0.18) // a tint of the success or error colour
	if tint == theme.ColorNameInputBackground {
		alpha = 1
	}
	w.resultBg.Set(tint, alpha)
	w.resultIcon.SetResource(icon)
	w.resultHead.SetText(head)
	w.resultText.SetText(text)
	if text == "" {
		w.resultText.Hide()
	} else {
		w.resultText.Show()
	}
	w.result.Show()
	w.fit()
}

// fit makes the window as tall as its content needs at its width: wrapped
// text is measured at the real width only once the window has one, and
// the result card adds lines.
func (w *Window) fit() {
	if width := w.win.Canvas().Size().Width; width > 0 {
		w.win.Resize(fyne.NewSize(width, 10))
	}
}

// Result is what the window (or, once it is closed, a notification) says
// after a start: a heading and the rest, which names the next step.
func Result(tray bool, how string, err error) (head, text string) {
	if err != nil {
		again := "Try again here, or later with “Start MaxRouter” in the tray menu."
		if !tray {
			again = "Try again here, or run maxrouter serve in a terminal."
		}
		return "MaxRouter could not start", "The error was: " + err.Error() + ". " + again
	}
	next := "Next: choose “Set up Claude Code” in the tray menu, so that every claude you start goes through MaxRouter."
	if !tray {
		next = "Next: choose “Set up Claude Code” on the Proxy tab of Settings, so that every claude you start goes through MaxRouter."
	}
	if how != "" {
		next = how + " " + next
	}
	return "MaxRouter is running", next
}

// newHeading is a section title, as in the settings window.
func newHeading(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.TextStyle = fyne.TextStyle{Bold: true}
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// newHint is explanatory text in the theme's muted colour.
func newHint(text string) *widget.RichText {
	r := widget.NewRichText(&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		Inline: true, ColorName: theme.ColorNamePlaceHolder,
	}})
	r.Wrapping = fyne.TextWrapWord
	return r
}

// card draws obj on a rounded panel, as the settings window's account rows.
