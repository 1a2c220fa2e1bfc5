package settings

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/tint"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// The Accounts tab: one card per account, in priority order.

// accountRow is one account of the form and the widgets showing it.
type accountRow struct {
	acct  config.Account    // as it will be applied
	orig  string            // its name in the daemon's configuration; "" when added here
	check *control.DirCheck // what CheckDir said when it was added here

	box    fyne.CanvasObject
	icon   *widget.Icon
	name   *widget.Entry
	title  *widget.RichText // plan and directory
	state  *widget.RichText // state, then token expiry and requests
	five   *usageBar
	seven  *usageBar
	reset  *widget.Button
	enable *widget.Button
	up     *widget.Button
	down   *widget.Button
	remove *widget.Button
	err    *widget.Label

	stateText string // the state sentence shown (for tests)
}

// usageBar shows one rate-limit window: its name, how full, when it resets.
type usageBar struct {
	bar   *widget.ProgressBar
	text  string // on the bar
	reset *widget.RichText
	box   fyne.CanvasObject
}

func newUsageBar(name string) *usageBar {
	u := &usageBar{bar: widget.NewProgressBar(), reset: newHint("")}
	u.reset.Wrapping = fyne.TextWrapOff
	u.reset.Truncation = fyne.TextTruncateEllipsis
	u.bar.TextFormatter = func() string { return u.text }
	title := widget.NewLabel(name)
	u.box = container.NewBorder(nil, nil, fixedWidth(58, title), fixedWidth(150, u.reset), u.bar)
	return u
}

func (w *Window) buildAccounts() fyne.CanvasObject {
	w.accountList = container.NewVBox()
	w.noAccounts = newHint("No accounts yet. Add the Claude Code config folder of each subscription you have logged in with (claude /login), such as ~/.claude or ~/.claude-work.")
	add := widget.NewButtonWithIcon("Add account…", theme.ContentAddIcon(), w.onAddAccount)
	add.Importance = widget.HighImportance
	w.addBtn = add
	w.noAccounts.Hide()
	bar := container.NewPadded(container.NewBorder(nil, nil, container.NewVBox(add), nil,
		newHint("Claude Code keeps each login in its own folder. Folders whose name starts with a dot are hidden: choose “Show Hidden Files” in the picker’s menu.")))
	return container.NewBorder(nil, bar, nil, nil, page(
		newHint("MaxRouter sends each request to one of these Claude subscriptions. The order is the priority: with the Priority strategy the first available account is used."),
		w.accountList,
		w.noAccounts,
	))
}

// newAccountRow makes the widgets for account a, whose name in the
// daemon's configuration is orig ("" for a new one).
func (w *Window) newAccountRow(a config.Account, orig string) *accountRow {
	r := &accountRow{acct: a, orig: orig}
	r.icon = widget.NewIcon(theme.QuestionIcon())
	r.name = widget.NewEntry()
	r.name.SetText(a.Name)
	r.name.SetPlaceHolder("name")
	r.name.OnChanged = func(s string) {
		r.acct.Name = strings.TrimSpace(s)
		w.edited()
	}
	r.title = widget.NewRichText()
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.state = widget.NewRichText()
	r.state.Wrapping = fyne.TextWrapWord
	r.five = newUsageBar("5-hour")
	r.seven = newUsageBar("7-day")
	r.reset = widget.NewButtonWithIcon("Reset cooldown", theme.ViewRefreshIcon(), func() { w.onReset(r) })
	r.enable = widget.NewButton("Disable", func() { w.onToggleEnabled(r) })
	r.up = widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { w.onMove(r, -1) })
	r.down = widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { w.onMove(r, +1) })
	r.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { w.onRemove(r) })
	r.err = newErrorLabel()

	head := container.NewBorder(nil, nil,
		container.NewHBox(r.icon, fixedWidth(170, r.name)),
		container.NewHBox(r.enable, r.up, r.down, r.remove),
		r.title)
	body := container.New(layout.NewCustomPaddedVBoxLayout(2),
		head,
		container.NewBorder(nil, nil, spacer(32, 1), nil, container.New(layout.NewCustomPaddedVBoxLayout(0),
			container.NewBorder(nil, nil, nil, container.NewVBox(r.reset), r.state),
			container.NewGridWithColumns(2, r.five.box, r.seven.box),
			r.err,
		)),
	)
	r.box = container.NewStack(tint.NewPanel(theme.ColorNameInputBackground, 1), container.NewPadded(body))
	return r
}

// renderAccounts lays the rows out in their order.
func (w *Window) renderAccounts() {
	objs := make([]fyne.CanvasObject, len(w.rows))
	for i, r := range w.rows {
		objs[i] = r.box
	}
	w.accountList.Objects = objs
	if len(w.rows) == 0 && w.loaded {
		w.noAccounts.Show()
	} else {
		w.noAccounts.Hide()
	}
	w.updateRows()
	w.accountList.Refresh()
}

// setSnapshots takes a fresh snapshot of the accounts.
func (w *Window) setSnapshots(accounts []control.Account) {
	w.snaps = make(map[string]control.Account, len(accounts))
	for _, a := range accounts {
		w.snaps[a.Name] = a
	}
	w.updateRows()
}

// updateRows rewrites every row from its account and snapshot.
func (w *Window) updateRows() {
	if w.accountList == nil {
		return
	}
	now := w.now()
	for i, r := range w.rows {
		w.updateRow(r, i, now)
	}
}

func (w *Window) updateRow(r *accountRow, i int, now time.Time) {
	snap, known := w.snaps[r.orig]
	if r.orig == "" {
		known = false
	}
	base, inBase := w.base.Account(r.orig)

	plan := ""
	switch {
	case known:
		plan = words.Plan(snap.Subscription, snap.RateLimitTier)
	case r.check != nil:
		plan = words.Plan(r.check.Subscription, r.check.RateLimitTier)
	}
	where := tildePath(r.acct.Dir, w.home)
	if r.acct.Dir == "" && r.acct.Token != "" {
		where = "long-lived token (claude setup-token)"
	}
	if plan != "" {
		plan += "   "
	}
	setText(r.title, styled{plan, widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Bold: true}}}, hint(where))

	state, lvl := "", levelUnknown
	switch {
	case !r.acct.IsEnabled():
		state, lvl = "Disabled — not used for requests", levelOff
		if !inBase || base.IsEnabled() {
			state = "Will be disabled when you press Apply"
		}
	case known:
		state, lvl = stateText(snap, now, w.home), stateLevel(snap.State)
		if snap.State == control.StateDisabled {
			state, lvl = "Will be used again when you press Apply", levelUnknown
		}
	case r.orig == "":
		state = "New — used once you press Apply"
	case w.snaps == nil:
		state = "Waiting for the daemon…"
	default:
		state = "Not reported by the daemon"
	}
	var details []string
	if known {
		if t := tokenText(snap.TokenExpiresAt, now); t != "" {
			details = append(details, t)
		}
		if snap.Requests > 0 {
			details = append(details, countText(snap.Requests, "request"))
		}
	}
	detail := ""
	if len(details) > 0 {
		detail = "   ·   " + strings.Join(details, "   ·   ")
	}
	r.stateText = state
	setText(r.state, styled{state, widget.RichTextStyle{Inline: true, ColorName: levelColor(lvl)}}, hint(detail))
	r.icon.SetResource(levelIcon(lvl))

	if known {
		r.five.show(snap.FiveHour, now)
		r.seven.show(snap.SevenDay, now)
	} else {
		r.five.show(control.Window{}, now)
		r.seven.show(control.Window{}, now)
	}

	switch {
	case known && snap.State == control.StateCooling:
		r.reset.SetText("Reset cooldown")
		r.reset.Show()
	case known && (snap.State == control.StateNeedsLogin || snap.State == control.StateError):
		r.reset.SetText("Check again")
		r.reset.Show()
	default:
		r.reset.Hide()
	}
	if r.acct.IsEnabled() {
		r.enable.SetText("Disable")
		r.enable.SetIcon(theme.MediaPauseIcon())
	} else {
		r.enable.SetText("Enable")
		r.enable.SetIcon(theme.MediaPlayIcon())
	}
	enableIf(r.up, i > 0)
	enableIf(r.down, i < len(w.rows)-1)
}

func (u *usageBar) show(win control.Window, now time.Time) {
	u.text = usagePercent(win)
	u.bar.SetValue(usageFraction(win.Utilization))
	setText(u.reset, hint(resetText(win.ResetsAt, now)))
}

func enableIf(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func countText(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func levelColor(l level) fyne.ThemeColorName {
	switch l {
	case levelGood:
		return theme.ColorNameSuccess
	case levelWait:
		return theme.ColorNameWarning
	case levelBad:
		return theme.ColorNameError
	case levelOff:
		return theme.ColorNamePlaceHolder
	}
	return theme.ColorNameForeground
}

func levelIcon(l level) fyne.Resource {
	switch l {
	case levelGood:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case levelWait:
		return theme.NewWarningThemedResource(theme.HistoryIcon())
	case levelBad:
		return theme.NewErrorThemedResource(theme.WarningIcon())
	case levelOff:
		return theme.NewDisabledResource(theme.MediaPauseIcon())
	}
	return theme.NewDisabledResource(theme.InfoIcon())
}

func (w *Window) indexOf(r *accountRow) int {
	for i, x := range w.rows {
		if x == r {
			return i
		}
	}
	return -1
}

// onMove moves a row up (-1) or down (+1): the order is the priority.
func (w *Window) onMove(r *accountRow, delta int) {
	i := w.indexOf(r)
	j := i + delta
	if i < 0 || j < 0 || j >= len(w.rows) {
		return
	}
	w.rows[i], w.rows[j] = w.rows[j], w.rows[i]
	w.renderAccounts()
	w.edited()
}

// onToggleEnabled takes an account out of rotation or puts it back.
func (w *Window) onToggleEnabled(r *accountRow) {
	if r.acct.IsEnabled() {
		off := false
		r.acct.Enabled = &off
	} else {
		r.acct.Enabled = nil // the default: enabled
		if b, ok := w.base.Account(r.orig); ok && b.Enabled != nil && *b.Enabled {
			on := true
			r.acct.Enabled = &on
		}
	}
	w.updateRows()
	w.edited()
}

// onRemove asks before taking the account out of the form.
func (w *Window) onRemove(r *accountRow) {
	name := r.acct.Name
	if name == "" {
		name = "this account"
	}
	msg := "MaxRouter stops using " + name + " once you press Apply."
	if r.acct.Dir != "" {
		msg += "\nIts Claude Code login in " + tildePath(r.acct.Dir, w.home) + " is left as it is."
	}
	d := dialog.NewConfirm("Remove "+name+"?", msg, func(ok bool) {
		if ok {
			w.removeRow(r)
		}
	}, w.win)
	d.SetConfirmText("Remove")
	d.SetDismissText("Keep")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (w *Window) removeRow(r *accountRow) {
	i := w.indexOf(r)
	if i < 0 {
		return
	}
	w.rows = append(w.rows[:i:i], w.rows[i+1:]...)
	w.renderAccounts()
	w.edited()
}

// onReset clears the account's cooldown (or has the daemon read its
// credentials again) at once; it is not a configuration edit.
func (w *Window) onReset(r *accountRow) {
	name := r.orig
	if name == "" {
		return
	}
	r.reset.Disable()
	w.async(func(ctx context.Context) {
		err := w.d.ResetAccount(ctx, name)
		accts, accErr := w.d.Accounts(ctx)
		fyne.Do(func() {
			r.reset.Enable()
			switch {
			case errors.Is(err, control.ErrNotFound):
				setError(r.err, "The daemon does not know "+name+" yet: press Apply first.")
			case errors.Is(err, control.ErrUnreachable):
				w.showBanner(err)
			case err != nil:
				setError(r.err, "Could not reset: "+err.Error())
			default:
				setError(r.err, "")
			}
			if accErr == nil {
				w.setSnapshots(accts)
			}
		})
	})
}

// onAddAccount opens the folder picker.
func (w *Window) onAddAccount() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			dialog.ShowError(err, w.win)
			return
		}
		if dir == nil {
			return
		}
		w.onDirPicked(dir.Path())
	}, w.win)
	d.SetTitleText("Choose a Claude Code config folder")
	d.SetConfirmText("Choose")
	if w.home != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(w.home)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(720, 480))
	d.Show()
}

// addDialog is the open "Add account" dialog.
type addDialog struct {
	dlg    *dialog.CustomDialog
	dir    string // as it goes into the configuration ("~/.claude-work")
	check  *control.DirCheck
	icon   *widget.Icon
	result *widget.Label
	name   *widget.Entry
	add    *widget.Button
	cancel *widget.Button
}

// onDirPicked runs when the person chose a folder: it opens the Add
// account dialog at once and fills in what the daemon finds there.
func (w *Window) onDirPicked(picked string) {
	dir := tildePath(picked, w.home)
	for _, r := range w.rows {
		if sameDir(r.acct.Dir, dir, w.home) {
			dialog.ShowInformation("Already in the list",
				dir+" is already in the list as "+r.acct.Name+".", w.win)
			return
		}
	}
	var taken []string
	for _, r := range w.rows {
		taken = append(taken, r.acct.Name)
	}
	a := &addDialog{dir: dir}
	a.icon = widget.NewIcon(theme.NewDisabledResource(theme.SearchIcon()))
	a.result = widget.NewLabel("Looking for credentials…")
	a.result.Wrapping = fyne.TextWrapWord
	a.name = widget.NewEntry()
	a.name.SetText(defaultName(dir, taken))
	a.add = widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() { w.onAddConfirmed(a) })
	a.add.Importance = widget.HighImportance
	a.name.OnChanged = func(s string) { enableIf(a.add, strings.TrimSpace(s) != "") }
	a.name.OnSubmitted = func(string) {
		if !a.add.Disabled() {
			w.onAddConfirmed(a)
		}
	}
	a.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { a.dlg.Hide() })

	folder := widget.NewLabel(dir)
	folder.TextStyle = fyne.TextStyle{Monospace: true}
	folder.Truncation = fyne.TextTruncateEllipsis
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Folder"), folder,
		spacer(1, 1), container.NewBorder(nil, nil, a.icon, nil, a.result),
		widget.NewLabel("Name"), container.NewVBox(a.name, newHint("Shown in the tray and the logs: letters, digits, “-”, “_” and “.”.")),
	)
	a.dlg = dialog.NewCustomWithoutButtons("Add account", fixedWidth(480, form), w.win)
	a.dlg.SetButtons([]fyne.CanvasObject{a.cancel, a.add})
	a.dlg.SetOnClosed(func() {
		if w.adding == a {
			w.adding = nil
		}
	})
	w.adding = a
	a.dlg.Show()
	w.win.Canvas().Focus(a.name)

	w.async(func(ctx context.Context) {
		dc, err := w.d.CheckDir(ctx, picked)
		fyne.Do(func() { a.showCheck(dc, err) })
	})
}

// showCheck shows what CheckDir found in the dialog.
func (a *addDialog) showCheck(dc control.DirCheck, err error) {
	if err != nil {
		a.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		a.result.SetText("Could not ask the daemon: " + err.Error())
		a.result.Importance = widget.DangerImportance
		a.result.Refresh()
		return
	}
	a.check = &dc
	text, ok := checkText(dc)
	if ok {
		a.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		a.result.Importance = widget.SuccessImportance
		a.add.SetText("Add")
	} else {
		a.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		a.result.Importance = widget.WarningImportance
		text += fmt.Sprintf("\nYou can add it now and log in later with: %s", loginCommand(a.dir, ""))
		a.add.SetText("Add anyway")
	}
	a.result.SetText(text)
	a.result.Refresh()
}

// onAddConfirmed puts the account from the dialog into the form.
func (w *Window) onAddConfirmed(a *addDialog) {
	name := strings.TrimSpace(a.name.Text)
	if name == "" {
		return
	}
	a.dlg.Hide()
	r := w.newAccountRow(config.Account{Name: name, Dir: a.dir}, "")
	r.check = a.check
	w.rows = append(w.rows, r)
	w.renderAccounts()
	w.tabs.Select(w.tabItems["Accounts"])
	w.edited()
	w.setSummary("Added "+name+": press Apply to start using it.", widget.MediumImportance)
}
