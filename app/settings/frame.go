package settings

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/tint"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/words"
)

// The window around the tabs: the daemon banner on top, the Apply bar at
// the bottom, field errors, and the size the window is kept at.

func (w *Window) build() {
	if w.win != nil {
		return
	}
	w.win = w.app.NewWindow("MaxRouter Settings")
	w.win.SetCloseIntercept(w.hide)
	size := w.savedSize()
	keeper := &sizeKeeper{}
	w.win.SetContent(container.New(keeper, w.buildUI()))
	w.win.Resize(size)
	// From now on every new size is the person's; the window's (canvas)
	// size is kept, not the padded content's.
	keeper.onResize = func(fyne.Size) { w.saveSize(w.win.Canvas().Size()) }
	w.updateDirty()
}

func (w *Window) buildUI() fyne.CanvasObject {
	w.accounts = newAccountsTab(w)
	w.routing = newRoutingTab(w.edited)
	w.proxy = newProxyTab(w)
	w.notifications = newNotificationsTab(w.edited, w.opts.Autostart != nil)
	w.usage = newUsageTab(w)
	w.tabs = container.NewAppTabs(w.accounts.tabItem(), w.routing.tabItem(), w.proxy.tabItem(), w.notifications.tabItem(), w.usage.tabItem())
	w.tabs.OnSelected = w.onTabSelected
	w.banner = newDaemonBanner(w.onStart)
	w.bar = newApplyBar(w.opts.Version, w.onApply, w.onRevert)
	return container.NewBorder(w.banner.box, w.bar.box, nil, nil, w.tabs)
}

// onTabSelected shows Apply and Revert only on the tabs that hold
// settings, and reads the usage history, or the client tokens' use, when
// their tab is shown.
func (w *Window) onTabSelected(item *container.TabItem) {
	w.bar.showButtons(item != w.usage.item)
	switch item {
	case w.usage.item:
		w.usage.load()
	case w.proxy.item:
		w.proxy.loadTokens()
	}
}

// savedSize is the size the person last gave the window, or the default.
func (w *Window) savedSize() fyne.Size {
	p := w.opts.Preferences
	s := fyne.NewSize(float32(p.FloatWithFallback(prefWidth, float64(defaultSize.Width))),
		float32(p.FloatWithFallback(prefHeight, float64(defaultSize.Height))))
	if s.Width < 200 || s.Height < 200 {
		return defaultSize
	}
	return s
}

// saveSize keeps the window's size for the next run.
func (w *Window) saveSize(s fyne.Size) {
	if s.Width < 200 || s.Height < 200 {
		return // not laid out yet
	}
	p := w.opts.Preferences
	if float32(p.Float(prefWidth)) != s.Width || float32(p.Float(prefHeight)) != s.Height {
		p.SetFloat(prefWidth, float64(s.Width))
		p.SetFloat(prefHeight, float64(s.Height))
	}
}

// sizeKeeper lays out one object over the whole window and reports the
// window's size whenever it changes.
type sizeKeeper struct {
	onResize func(fyne.Size)
	last     fyne.Size
}

func (k *sizeKeeper) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size != k.last && k.onResize != nil {
		k.last = size
		k.onResize(size)
	}
}

func (k *sizeKeeper) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// applyBar is the line under the tabs: what happened (or the version),
// Revert and Apply.
type applyBar struct {
	version string
	box     fyne.CanvasObject
	summary *widget.Label
	buttons fyne.CanvasObject
	apply   *widget.Button
	revert  *widget.Button
}

func newApplyBar(version string, onApply, onRevert func()) *applyBar {
	b := &applyBar{version: version}
	b.summary = widget.NewLabel("")
	b.summary.Wrapping = fyne.TextWrapWord
	b.revert = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), onRevert)
	b.apply = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), onApply)
	b.apply.Importance = widget.HighImportance
	b.buttons = container.NewHBox(b.revert, b.apply)
	b.setSummary("", widget.LowImportance)
	b.box = container.NewPadded(container.NewVBox(
		widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, b.buttons, b.summary),
	))
	return b
}

// setSummary writes the line left of Apply; "" shows the version.
func (b *applyBar) setSummary(text string, imp widget.Importance) {
	if text == "" {
		text, imp = "MaxRouter", widget.LowImportance
		if b.version != "" {
			text += " " + b.version
		}
	}
	b.summary.Text = text
	b.summary.Importance = imp
	b.summary.Refresh()
}

func (b *applyBar) enable(on bool) {
	enableIf(b.apply, on)
	enableIf(b.revert, on)
}

func (b *applyBar) showButtons(on bool) {
	if on {
		b.buttons.Show()
	} else {
		b.buttons.Hide()
	}
}

// daemonBanner says over the tabs that the daemon is away, with a button
// to start it, or that routing is paused.
type daemonBanner struct {
	box      fyne.CanvasObject
	panel    *tint.Panel
	icon     *widget.Icon
	text     *widget.Label
	start    *widget.Button
	starting bool  // Start runs
	startErr error // why the last Start failed
}

func newDaemonBanner(onStart func()) *daemonBanner {
	b := &daemonBanner{text: widget.NewLabel("")}
	b.text.Wrapping = fyne.TextWrapWord
	b.start = widget.NewButtonWithIcon("Start MaxRouter", theme.MediaPlayIcon(), onStart)
	b.start.Importance = widget.HighImportance
	b.panel = tint.NewPanel(theme.ColorNameError, 0.18)
	b.icon = widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	b.box = container.NewStack(
		b.panel,
		container.NewPadded(container.NewBorder(nil, nil,
			container.NewCenter(b.icon),
			container.NewCenter(b.start),
			b.text)),
	)
	b.box.Hide()
	return b
}

func (b *daemonBanner) show(v bannerView) {
	if !v.Show {
		b.box.Hide()
		return
	}
	b.text.SetText(v.Text)
	if v.Notice {
		b.panel.Set(theme.ColorNameWarning, 0.18)
		b.icon.SetResource(theme.NewWarningThemedResource(theme.MediaPauseIcon()))
	} else {
		b.panel.Set(theme.ColorNameError, 0.18)
		b.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	}
	if v.Start {
		b.start.Show()
		enableIf(b.start, !v.Busy)
	} else {
		b.start.Hide()
	}
	b.box.Show()
}

// started forgets a failed start once the daemon answers.
func (b *daemonBanner) started() { b.starting, b.startErr = false, nil }

// clearFieldErrors hides every inline error and restores the tab icons.
func (w *Window) clearFieldErrors() {
	for _, l := range []*widget.Label{w.proxy.portErr, w.routing.strategyErr, w.routing.cooldownErr, w.notifications.notifyErr} {
		setError(l, "")
	}
	w.accounts.clearErrors()
	for _, item := range w.tabs.Items {
		w.setTabError(item, false)
	}
}

// showFieldErrors marks each invalid value next to its field (rows are
// the account rows the fields' indexes refer to, as they were when Apply
// was pressed) and sums them up.
func (w *Window) showFieldErrors(fields []config.FieldError, rows ...*accountRow) {
	w.clearFieldErrors()
	if rows == nil {
		rows = w.accounts.rowsNow()
	}
	msgs := map[*widget.Label][]string{}
	var order []*widget.Label
	add := func(l *widget.Label, msg string) {
		if _, ok := msgs[l]; !ok {
			order = append(order, l)
		}
		msgs[l] = append(msgs[l], msg)
	}
	var marked []*container.TabItem
	for _, f := range fields {
		target, i := fieldTarget(f.Field)
		var l *widget.Label
		var item *container.TabItem
		switch target {
		case targetListen:
			l, item = w.proxy.portErr, w.proxy.item
		case targetStrategy:
			l, item = w.routing.strategyErr, w.routing.item
		case targetCooldown:
			l, item = w.routing.cooldownErr, w.routing.item
		case targetNotify:
			l, item = w.notifications.notifyErr, w.notifications.item
		case targetAccount:
			if i >= len(rows) || !slices.Contains(w.accounts.rows, rows[i]) {
				w.log.Info("field error for a row no longer shown", "field", f.Field)
				continue
			}
			add(rows[i].err, fieldMessage(f.Field, f.Message))
			marked = append(marked, w.accounts.item)
			continue
		default:
			continue
		}
		add(l, words.Sentence(f.Message))
		marked = append(marked, item)
	}
	for _, l := range order {
		setError(l, strings.Join(msgs[l], "\n"))
	}
	for _, item := range marked {
		w.setTabError(item, true)
	}
	w.bar.setSummary(summaryText(fields), widget.DangerImportance)
	// Show the first tab holding a marked value, unless the one shown has one.
	if len(marked) > 0 && !slices.Contains(marked, w.tabs.Selected()) {
		for _, item := range w.tabs.Items {
			if slices.Contains(marked, item) {
				w.tabs.Select(item)
				break
			}
		}
	}
}

// tabIcon is a tab's own icon, by its title.
func tabIcon(title string) fyne.Resource {
	switch title {
	case "Accounts":
		return theme.AccountIcon()
	case "Routing":
		return theme.MediaFastForwardIcon()
	case "Proxy":
		return theme.ComputerIcon()
	case "Notifications":
		return theme.InfoIcon()
	}
	return theme.HistoryIcon()
}

// newTab is a tab with its own icon.
func newTab(title string, content fyne.CanvasObject) *container.TabItem {
	return container.NewTabItemWithIcon(title, tabIcon(title), content)
}

// setTabError swaps a tab's icon for a warning while it holds a marked
// value.
func (w *Window) setTabError(item *container.TabItem, bad bool) {
	icon := tabIcon(item.Text)
	if bad {
		icon = theme.NewErrorThemedResource(theme.WarningIcon())
	}
	if item.Icon == nil || item.Icon.Name() != icon.Name() {
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
func page(objs ...fyne.CanvasObject) *container.Scroll {
	return container.NewVScroll(container.NewPadded(container.NewVBox(objs...)))
}

// fixedWidth gives obj a fixed width and its own height, at the top.
func fixedWidth(width float32, obj fyne.CanvasObject) fyne.CanvasObject {
	return container.New(&widthLayout{width: width}, obj)
}

// atLeastWidth gives obj at least width, more when it needs more.
func atLeastWidth(width float32, obj fyne.CanvasObject) fyne.CanvasObject {
	return container.New(&widthLayout{width: width, grow: true}, obj)
}

type widthLayout struct {
	width float32
	grow  bool // wider when the object needs it
}

func (l *widthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		h := min(o.MinSize().Height, size.Height)
		w := l.width
		if l.grow {
			w = max(w, min(size.Width, o.MinSize().Width))
		}
		o.Move(fyne.NewPos(0, 0))
		o.Resize(fyne.NewSize(w, h))
	}
}

func (l *widthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w, h := l.width, float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
		if l.grow {
			w = max(w, o.MinSize().Width)
		}
	}
	return fyne.NewSize(w, h)
}

var _ fyne.Layout = (*widthLayout)(nil)

// spacer is an empty object of a fixed size.
func spacer(w, h float32) fyne.CanvasObject {
	return container.New(layout.NewGridWrapLayout(fyne.NewSize(w, h)))
}

// indent shifts obj right to line up with the text of a check box.
func indent(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, spacer(28, 1), nil, obj)
}

func enableIf(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}
