package settings

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/tint"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// accountsTab is the Accounts tab: one card per account, in priority
// order, with its state and usage as the daemon reports them.
type accountsTab struct {
	w *Window

	item    *container.TabItem
	scroll  *container.Scroll
	list    *fyne.Container
	empty   fyne.CanvasObject
	add     *widget.Button
	rows    []*accountRow
	removed []string   // the daemon's accounts the person removed
	adding  *addDialog // the open dialog naming a folder picked, if any
	marked  *accountRow
	// The open Add account dialog, login dialog and folder picker, if any.
	add2   *addAccount
	login  *loginView
	picker *folderPicker
	// revealing is an account to reveal once its row shows (one a login
	// just added).
	revealing string
}

// accountRow is one account of the form and the widgets showing it.
type accountRow struct {
	acct  draftAccount      // as it will be applied
	check *control.DirCheck // what CheckDir said when it was added here

	box     fyne.CanvasObject
	panel   *tint.Panel
	icon    *widget.Icon
	name    *widget.Entry
	title   *widget.RichText // plan and directory
	state   *widget.RichText // state, then token expiry and requests
	login   fyne.CanvasObject
	command *widget.Label // the login command, to select and copy
	copyCmd *widget.Button
	bars    fyne.CanvasObject // both usage bars; hidden while nothing is known
	five    *usageBar
	seven   *usageBar
	relogin *widget.Button // Log in again…
	action  *widget.Button // Reset cooldown, Check again
	enable  *widget.Button
	up      *widget.Button
	down    *widget.Button
	remove  *widget.Button
	err     *widget.Label

	status rowStatus // as shown
}

// usageBar shows one rate-limit window: its name, how full, when it
// resets.
type usageBar struct {
	bar   *widget.ProgressBar
	text  string // on the bar
	reset *widget.RichText
	box   fyne.CanvasObject
}

func newUsageBar(name string) *usageBar {
	u := &usageBar{bar: widget.NewProgressBar(), reset: newHint("")}
	u.reset.Wrapping = fyne.TextWrapOff // never cut: "resets in under a minute"
	u.bar.TextFormatter = func() string { return u.text }
	title := widget.NewLabel(name)
	// A reset as long as any ("resets in 23 h 59 min") keeps both bars
	// of a row, and the bars of all rows, the same width.
	u.box = container.NewBorder(nil, nil, fixedWidth(58, title), atLeastWidth(140, u.reset), u.bar)
	return u
}

func (u *usageBar) show(win control.Window, now time.Time) {
	u.text = words.Percent(win)
	u.bar.SetValue(words.Fraction(win.Utilization))
	setText(u.reset, hint(words.Resets(win.ResetsAt, now)))
}

func newAccountsTab(w *Window) *accountsTab {
	t := &accountsTab{w: w}
	t.item = newTab("Accounts", t.buildUI())
	return t
}

func (t *accountsTab) tabItem() *container.TabItem { return t.item }

func (t *accountsTab) buildUI() fyne.CanvasObject {
	t.list = container.NewVBox()
	t.empty = newHint("No accounts yet. Add account… logs in with Claude in your browser, or adds a folder Claude Code is logged in to, such as ~/.claude.")
	t.empty.Hide()
	t.add = widget.NewButtonWithIcon("Add account…", theme.ContentAddIcon(), t.onAdd)
	t.add.Importance = widget.HighImportance
	t.add.Disable()
	bar := container.NewPadded(container.NewBorder(nil, nil, container.NewVBox(t.add), nil,
		newHint("Log in with Claude, or use a Claude Code login on this computer: each subscription is one account.")))
	t.scroll = page(
		newHint("The order is the priority: with the Priority strategy, the first available account takes the requests."),
		t.list,
		t.empty,
	)
	return container.NewBorder(nil, bar, nil, nil, t.scroll)
}

// newRow makes the widgets for the account a.
func (t *accountsTab) newRow(a draftAccount) *accountRow {
	r := &accountRow{acct: a}
	r.icon = widget.NewIcon(theme.QuestionIcon())
	r.name = widget.NewEntry()
	r.name.SetText(a.Name)
	r.name.SetPlaceHolder("name")
	r.name.OnChanged = func(s string) {
		r.acct.Name = strings.TrimSpace(s)
		t.w.edited()
	}
	r.title = widget.NewRichText()
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.state = widget.NewRichText()
	r.state.Wrapping = fyne.TextWrapWord
	r.command = widget.NewLabel("")
	r.command.TextStyle = fyne.TextStyle{Monospace: true}
	r.command.Selectable = true
	r.command.Wrapping = fyne.TextWrapBreak
	r.copyCmd = newCopyButton(t.w.app, func() string { return r.command.Text })
	r.login = container.NewStack(tint.NewPanel(theme.ColorNameBackground, 1),
		container.NewBorder(nil, nil, nil, container.NewCenter(r.copyCmd), r.command))
	r.login.Hide()
	r.five = newUsageBar("5-hour")
	r.seven = newUsageBar("7-day")
	r.bars = container.NewGridWithColumns(2, r.five.box, r.seven.box)
	r.relogin = widget.NewButtonWithIcon("Log in again…", theme.LoginIcon(), func() {
		if r.acct.Orig != "" {
			t.logIn(r.acct.Orig)
		}
	})
	r.relogin.Hide()
	r.action = widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), func() { t.onAction(r) })
	r.enable = widget.NewButton("Disable", func() { t.onToggleEnabled(r) })
	r.up = widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { t.onMove(r, -1) })
	r.down = widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { t.onMove(r, +1) })
	r.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { t.onRemove(r) })
	r.err = newErrorLabel()

	head := container.NewBorder(nil, nil,
		container.NewHBox(r.icon, fixedWidth(170, r.name)),
		container.NewHBox(r.enable, r.up, r.down, r.remove),
		r.title)
	body := container.New(layout.NewCustomPaddedVBoxLayout(2),
		head,
		container.NewBorder(nil, nil, spacer(32, 1), nil, container.New(layout.NewCustomPaddedVBoxLayout(2),
			container.NewBorder(nil, nil, nil, container.NewVBox(container.NewHBox(r.relogin, r.action)), r.state),
			r.login,
			r.bars,
			r.err,
		)),
	)
	r.panel = tint.NewPanel(theme.ColorNameInputBackground, 1)
	r.box = container.NewStack(r.panel, container.NewPadded(body))
	return r
}

// read puts the rows into d.
func (t *accountsTab) read(d *draft) {
	d.Accounts = nil
	for _, r := range t.rows {
		d.Accounts = append(d.Accounts, r.acct)
	}
	d.Removed = slices.Clone(t.removed)
}

// show makes the rows those of d, keeping the widgets of rows that stay.
func (t *accountsTab) show(d draft) {
	t.removed = slices.Clone(d.Removed)
	old := t.rows
	var added []*accountRow // rows added in the window, in order
	for _, r := range old {
		if r.acct.Orig == "" {
			added = append(added, r)
		}
	}
	rows := make([]*accountRow, 0, len(d.Accounts))
	for _, a := range d.Accounts {
		var r *accountRow
		if a.Orig == "" && len(added) > 0 {
			r, added = added[0], added[1:]
		} else if a.Orig != "" {
			if i := slices.IndexFunc(old, func(r *accountRow) bool { return r.acct.Orig == a.Orig }); i >= 0 {
				r = old[i]
			}
		}
		if r == nil {
			r = t.newRow(a)
		}
		r.acct = a
		if strings.TrimSpace(r.name.Text) != a.Name {
			r.name.SetText(a.Name)
		}
		rows = append(rows, r)
	}
	t.setRows(rows)
}

// setRows lays rows out in their order.
func (t *accountsTab) setRows(rows []*accountRow) {
	same := slices.Equal(rows, t.rows)
	t.rows = rows
	if t.marked != nil && !slices.Contains(rows, t.marked) {
		t.marked = nil
	}
	if !same {
		objs := make([]fyne.CanvasObject, len(rows))
		for i, r := range rows {
			objs[i] = r.box
		}
		t.list.Objects = objs
		t.list.Refresh()
	}
	t.setLoaded(t.w.loaded())
	t.update()
}

// rowsNow returns the rows in their order.
func (t *accountsTab) rowsNow() []*accountRow { return slices.Clone(t.rows) }

// setLoaded enables adding accounts once the configuration is known.
func (t *accountsTab) setLoaded(loaded bool) {
	enableIf(t.add, loaded)
	if loaded && len(t.rows) == 0 {
		t.empty.Show()
	} else {
		t.empty.Hide()
	}
}

// update rewrites every row from its account and the daemon's State.
func (t *accountsTab) update() {
	s := t.w.state
	snaps := make(map[string]control.Account, len(s.Accounts))
	for _, a := range s.Accounts {
		snaps[a.Name] = a
	}
	now := t.w.opts.Now()
	for i, r := range t.rows {
		snap, known := snaps[r.acct.Orig]
		base, inBase := t.w.base.Account(r.acct.Orig)
		st := accountStatus(rowInput{
			Row: r.acct, BaseEnabled: base.IsEnabled(), InBase: inBase && r.acct.Orig != "",
			Snap: snap, Known: known && r.acct.Orig != "",
			Read: s.Connected || s.HasConfig(), Live: s.Connected,
		}, now, t.w.opts.Home)
		t.showRow(r, i, st, snap, known && r.acct.Orig != "", now)
	}
	t.revealPending()
}

func (t *accountsTab) showRow(r *accountRow, i int, st rowStatus, snap control.Account, known bool, now time.Time) {
	r.status = st
	plan := ""
	switch {
	case known:
		plan = words.Plan(snap.Subscription, snap.RateLimitTier)
	case r.check != nil:
		plan = words.Plan(r.check.Subscription, r.check.RateLimitTier)
	}
	where := words.Tilde(r.acct.Dir, t.w.opts.Home)
	if r.acct.Dir == "" && r.acct.Token != "" {
		where = "long-lived token (claude setup-token)"
	}
	if plan != "" {
		plan += "   "
	}
	setText(r.title, styled{plan, widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Bold: true}}}, hint(where))

	detail := ""
	if st.Detail != "" {
		detail = "   ·   " + st.Detail
	}
	parts := []styled{{st.Text, widget.RichTextStyle{Inline: true, ColorName: levelColor(st.Level)}}}
	if st.Notes != "" {
		parts = append(parts, styled{"   ·   " + st.Notes, widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameWarning, TextStyle: fyne.TextStyle{Bold: true}}})
	}
	setText(r.state, append(parts, hint(detail))...)
	r.icon.SetResource(levelIcon(st.Level))
	if st.Command != "" {
		if r.command.Text != st.Command {
			r.command.SetText(st.Command)
			r.copyCmd.SetText("Copy")
		}
		r.login.Show()
	} else {
		r.login.Hide()
	}

	if known && (words.Known(snap.FiveHour) || words.Known(snap.SevenDay)) {
		r.five.show(snap.FiveHour, now)
		r.seven.show(snap.SevenDay, now)
		r.bars.Show()
	} else {
		r.bars.Hide()
	}
	if st.LogIn {
		r.relogin.Importance = widget.MediumImportance
		if snap.State == control.StateNeedsLogin {
			r.relogin.Importance = widget.HighImportance
		}
		r.relogin.Show()
		r.relogin.Refresh()
	} else {
		r.relogin.Hide()
	}
	if st.Action != "" {
		r.action.SetText(st.Action)
		r.action.Show()
	} else {
		r.action.Hide()
	}
	if r.acct.Enabled {
		r.enable.SetText("Disable")
		r.enable.SetIcon(theme.MediaPauseIcon())
	} else {
		r.enable.SetText("Enable")
		r.enable.SetIcon(theme.MediaPlayIcon())
	}
	enableIf(r.up, i > 0)
	enableIf(r.down, i < len(t.rows)-1)
	if r == t.marked {
		r.panel.Set(theme.ColorNameSelection, 1)
	} else {
		r.panel.Set(theme.ColorNameInputBackground, 1)
	}
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
	return theme.ColorNamePlaceHolder
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

// reveal scrolls to the account named name and marks it.
func (t *accountsTab) reveal(name string) {
	i := slices.IndexFunc(t.rows, func(r *accountRow) bool { return r.acct.Orig == name })
	if i < 0 {
		i = slices.IndexFunc(t.rows, func(r *accountRow) bool { return r.acct.Name == name })
	}
	if i < 0 {
		return
	}
	t.marked = t.rows[i]
	t.update()
	t.scroll.Refresh()
	d := t.w.app.Driver()
	y := d.AbsolutePositionForObject(t.marked.box).Y - d.AbsolutePositionForObject(t.scroll.Content).Y
	t.scroll.ScrollToOffset(fyne.NewPos(0, y))
}

func (t *accountsTab) clearErrors() {
	for _, r := range t.rows {
		setError(r.err, "")
	}
}

func (t *accountsTab) closeDialogs() {
	if t.adding != nil {
		t.adding.dlg.Hide()
	}
	if t.add2 != nil {
		t.add2.dlg.Hide()
	}
	if t.login != nil {
		t.login.dismiss()
	}
	if t.picker != nil {
		t.picker.dlg.Hide()
	}
	t.marked = nil
}

// onMove moves a row up (-1) or down (+1): the order is the priority.
func (t *accountsTab) onMove(r *accountRow, delta int) {
	i := slices.Index(t.rows, r)
	j := i + delta
	if i < 0 || j < 0 || j >= len(t.rows) {
		return
	}
	rows := slices.Clone(t.rows)
	rows[i], rows[j] = rows[j], rows[i]
	t.setRows(rows)
	t.w.edited()
}

// onToggleEnabled takes an account out of rotation or puts it back.
func (t *accountsTab) onToggleEnabled(r *accountRow) {
	r.acct.Enabled = !r.acct.Enabled
	t.update()
	t.w.edited()
}

// onRemove asks before taking the account out of the form.
func (t *accountsTab) onRemove(r *accountRow) {
	name := r.acct.Name
	if name == "" {
		name = "this account"
	}
	msg := "MaxRouter stops using " + name + " once you press Apply."
	if r.acct.Dir != "" {
		msg += "\nIts Claude Code login in " + words.Tilde(r.acct.Dir, t.w.opts.Home) + " is left as it is."
	}
	d := dialog.NewConfirm("Remove "+name+"?", msg, func(ok bool) {
		if ok {
			t.removeRow(r)
		}
	}, t.w.win)
	d.SetConfirmText("Remove")
	d.SetDismissText("Keep")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (t *accountsTab) removeRow(r *accountRow) {
	i := slices.Index(t.rows, r)
	if i < 0 {
		return
	}
	if r.acct.Orig != "" {
		t.removed = append(t.removed, r.acct.Orig)
	}
	t.setRows(slices.Delete(slices.Clone(t.rows), i, i+1))
	t.w.edited()
}

// onAction asks the daemon to try the account again at once (end its
// cooldown, read its credentials again); it is not a configuration edit.
// The change comes back through the model.
func (t *accountsTab) onAction(r *accountRow) {
	name := r.acct.Orig
	if name == "" {
		return
	}
	r.action.Disable()
	t.w.async(func(ctx context.Context) func() {
		err := t.w.d.ResetAccount(ctx, name)
		return func() {
			r.action.Enable()
			switch {
			case errors.Is(err, control.ErrNotFound):
				setError(r.err, "MaxRouter does not know "+name+" yet: press Apply first.")
			case errors.Is(err, control.ErrUnreachable):
				setError(r.err, "MaxRouter is not running.")
			case err != nil:
				setError(r.err, "Could not ask MaxRouter: "+err.Error())
			default:
				setError(r.err, "")
			}
		}
	})
}

// addDialog is the open dialog that names a folder picked.
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
func (t *accountsTab) onDirPicked(picked string) {
	home := t.w.opts.Home
	dir := words.Tilde(picked, home)
	for _, r := range t.rows {
		if sameDir(r.acct.Dir, dir, home) {
			dialog.ShowInformation("Already in the list",
				dir+" is already in the list as "+r.acct.Name+".", t.w.win)
			return
		}
	}
	var taken []string
	for _, r := range t.rows {
		taken = append(taken, r.acct.Name)
	}
	a := &addDialog{dir: dir}
	a.icon = widget.NewIcon(theme.NewDisabledResource(theme.SearchIcon()))
	a.result = widget.NewLabel("Looking for credentials…")
	a.result.Wrapping = fyne.TextWrapWord
	a.name = widget.NewEntry()
	a.name.SetText(defaultName(dir, taken))
	a.add = widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() { t.onAddConfirmed(a) })
	a.add.Importance = widget.HighImportance
	a.name.OnChanged = func(s string) { enableIf(a.add, strings.TrimSpace(s) != "") }
	a.name.OnSubmitted = func(string) {
		if !a.add.Disabled() {
			t.onAddConfirmed(a)
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
	a.dlg = dialog.NewCustomWithoutButtons("Add account", fixedWidth(480, form), t.w.win)
	a.dlg.SetButtons([]fyne.CanvasObject{a.cancel, a.add})
	a.dlg.SetOnClosed(func() {
		if t.adding == a {
			t.adding = nil
		}
	})
	t.adding = a
	a.dlg.Show()
	t.w.win.Canvas().Focus(a.name)

	t.w.async(func(ctx context.Context) func() {
		dc, err := t.w.d.CheckDir(ctx, picked)
		return func() { a.showCheck(dc, err) }
	})
}

// showCheck shows what CheckDir found in the dialog.
func (a *addDialog) showCheck(dc control.DirCheck, err error) {
	if err != nil {
		a.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		a.result.SetText("Could not ask MaxRouter: " + err.Error())
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
		text += "\nYou can add it now and log in later with: " + words.LoginCommand(a.dir, "")
		a.add.SetText("Add anyway")
	}
	a.result.SetText(text)
	a.result.Refresh()
}

// onAddConfirmed puts the account from the dialog into the form.
func (t *accountsTab) onAddConfirmed(a *addDialog) {
	name := strings.TrimSpace(a.name.Text)
	if name == "" {
		return
	}
	a.dlg.Hide()
	t.addRow(name, a.dir, a.check)
}
