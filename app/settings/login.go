package settings

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// The Add account dialog, and the logins the window has the daemon run:
// a new account logged in with Claude in the browser, or an account logged
// in again. The daemon keeps the PKCE verifier and the tokens; the window
// opens the page, waits (asking the daemon every LoginPoll), and offers to
// paste the code the page shows instead (a manual login) when the browser
// cannot come back to the daemon.

// dialogWidth is the width of the Add account and login dialogs.
const dialogWidth = 540

// addAccount is the open Add account dialog: log in with Claude, a Claude
// Code login found on this computer, or another folder.
type addAccount struct {
	t       *accountsTab
	dlg     *dialog.CustomDialog
	name    *widget.Entry
	nameErr *widget.Label
	login   *widget.Button
	found   *fyne.Container    // one line per folder found
	note    *widget.RichText   // what the search found, or that it runs
	checks  []control.DirCheck // what the daemon said of each folder found
	adds    map[string]*widget.Button
	choose  *widget.Button
}

// onAdd opens the Add account dialog.
func (t *accountsTab) onAdd() {
	a := &addAccount{t: t, adds: map[string]*widget.Button{}}
	a.name = widget.NewEntry()
	a.name.SetText(newLoginName(t.names()))
	a.nameErr = newErrorLabel()
	a.login = widget.NewButtonWithIcon("Log in with Claude…", theme.LoginIcon(), a.onLogin)
	a.login.Importance = widget.HighImportance
	a.name.OnChanged = func(string) { setError(a.nameErr, "") }
	a.name.OnSubmitted = func(string) { a.onLogin() }

	a.found = container.NewVBox()
	a.note = newHint("Looking for Claude Code logins…")
	a.choose = widget.NewButtonWithIcon("Choose folder…", theme.FolderOpenIcon(), func() {
		a.dlg.Hide()
		t.pickFolder()
	})

	content := container.NewVBox(
		newHeading("Log in with Claude"),
		container.NewBorder(nil, nil, widget.NewLabel("Name"), a.login, a.name),
		a.nameErr,
		newHint("Opens claude.ai in your browser: log in there with the subscription to add. MaxRouter keeps the login in its own folder, which Claude Code can use too."),
		widget.NewSeparator(),
		newHeading("Use a Claude Code login on this computer"),
		a.found,
		a.note,
		widget.NewSeparator(),
		newHeading("Another folder"),
		container.NewBorder(nil, nil, nil, container.NewVBox(a.choose),
			newHint("A Claude Code config folder anywhere else. Hidden folders (.claude-…) are shown.")),
	)
	a.dlg = dialog.NewCustomWithoutButtons("Add account", fixedWidth(dialogWidth, content), t.w.win)
	a.dlg.SetButtons([]fyne.CanvasObject{widget.NewButtonWithIcon("Close", theme.CancelIcon(), func() { a.dlg.Hide() })})
	a.dlg.SetOnClosed(func() {
		if t.add2 == a {
			t.add2 = nil
		}
	})
	t.add2 = a
	a.dlg.Show()
	t.w.win.Canvas().Focus(a.name)
	a.discover()
}

// names are the account names in use: the rows' (as edited and as the
// daemon has them) and the daemon's.
func (t *accountsTab) names() []string {
	var out []string
	for _, r := range t.rows {
		out = append(out, r.acct.Name)
		if r.acct.Orig != "" {
			out = append(out, r.acct.Orig)
		}
	}
	for _, a := range t.w.state.Accounts {
		out = append(out, a.Name)
	}
	return out
}

// onLogin starts a login for a new account named as the entry says.
func (a *addAccount) onLogin() {
	name := strings.TrimSpace(a.name.Text)
	if msg := loginNameProblem(name, a.t.names()); msg != "" {
		setError(a.nameErr, msg)
		return
	}
	a.dlg.Hide()
	a.t.startLogin(name, true)
}

// discover asks the daemon what each Claude Code folder on this computer
// holds, and lists those with a login that are not in the list yet.
func (a *addAccount) discover() {
	w := a.t.w
	w.async(func(ctx context.Context) func() {
		var checks []control.DirCheck
		var err error
		for _, dir := range w.opts.Discover() {
			var dc control.DirCheck
			if dc, err = w.d.CheckDir(ctx, dir); err != nil {
				break
			}
			dc.Dir = dir // as the configuration will say it
			checks = append(checks, dc)
		}
		return func() {
			if err != nil {
				setText(a.note, hint("Could not ask MaxRouter which folders hold a login: "+err.Error()))
				return
			}
			a.checks = checks
			a.showFound()
		}
	})
}

// showFound lists the folders found that hold a login and are not in the
// list.
func (a *addAccount) showFound() {
	t, now := a.t, a.t.w.opts.Now()
	a.found.Objects = nil
	a.adds = map[string]*widget.Button{}
	for _, dc := range a.checks {
		if !dc.Found || slices.ContainsFunc(t.rows, func(r *accountRow) bool { return sameDir(r.acct.Dir, dc.Dir, t.w.opts.Home) }) {
			continue
		}
		dir := words.Tilde(dc.Dir, t.w.opts.Home)
		text, ok := foundText(dc, now)
		folder := widget.NewLabel(dir)
		folder.TextStyle = fyne.TextStyle{Monospace: true}
		folder.Truncation = fyne.TextTruncateEllipsis
		info := newHint(text)
		if !ok {
			setText(info, styled{text, widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameWarning}})
		}
		check := dc
		add := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() { a.addFound(check) })
		a.adds[dir] = add
		a.found.Add(container.NewBorder(nil, nil, nil, container.NewCenter(add),
			container.New(layout.NewCustomPaddedVBoxLayout(0), folder, info)))
	}
	a.found.Refresh()
	if len(a.adds) == 0 {
		setText(a.note, hint("No other Claude Code login found in ~/.claude, ~/.claude-* or ~/.config/claude*."))
	} else {
		setText(a.note, hint("Each one is added to the list; press Apply to start using it."))
	}
}

// addFound puts a folder found on this computer into the list, named
// after it.
func (a *addAccount) addFound(dc control.DirCheck) {
	dir := words.Tilde(dc.Dir, a.t.w.opts.Home)
	a.t.addRow(defaultName(dir, a.t.names()), dir, &dc)
	a.showFound()
}

// addRow puts a new account into the form, to be applied.
func (t *accountsTab) addRow(name, dir string, check *control.DirCheck) {
	r := t.newRow(draftAccount{Name: name, Dir: dir, Enabled: true})
	r.check = check
	t.setRows(append(slices.Clone(t.rows), r))
	t.w.tabs.Select(t.item)
	t.w.edited()
	t.w.bar.setSummary("Added "+name+": press Apply to start using it.", widget.MediumImportance)
}

// logIn logs the account named name in again (Log in again on its row, in
// the tray or in a notification). A name the daemon does not know (any
// more) is not logged in: that would add it as a new account.
func (t *accountsTab) logIn(name string) {
	if !slices.ContainsFunc(t.w.state.Accounts, func(a control.Account) bool { return a.Name == name }) {
		dialog.ShowInformation("No account "+name, "MaxRouter has no account named "+name+" (any more): add it with Add account…", t.w.win)
		return
	}
	t.startLogin(name, false)
}

// loginView is the dialog of one login through the daemon.
type loginView struct {
	t       *accountsTab
	account string
	isNew   bool
	ctx     context.Context
	cancel  context.CancelFunc

	dlg      *dialog.CustomDialog
	heading  *widget.Label
	text     *widget.Label
	activity *widget.Activity
	again    *widget.Button // open the page again
	copyLink *widget.Button
	paste    *widget.Button // paste the code instead
	pasteBox fyne.CanvasObject
	code     *widget.Entry
	submit   *widget.Button
	err      *widget.Label
	retry    *widget.Button
	close    *widget.Button

	page   *url.URL        // the page the browser shows
	ids    []string        // logins started, the automatic one first
	over   map[string]bool // those known to have ended
	manual string          // the manual login's id, once started
	done   bool            // the dialog no longer waits for a login
}

// startLogin opens the login dialog and starts a login to the account
// named name (isNew: one that is added when it succeeds).
func (t *accountsTab) startLogin(name string, isNew bool) {
	if t.login != nil {
		t.login.dismiss()
	}
	v := &loginView{t: t, account: name, isNew: isNew, over: map[string]bool{}}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.build()
	t.login = v
	v.dlg.Show()
	v.start(false)
}

func (v *loginView) build() {
	v.heading = widget.NewLabel("")
	v.heading.TextStyle = fyne.TextStyle{Bold: true}
	v.text = widget.NewLabel("")
	v.text.Wrapping = fyne.TextWrapWord
	v.activity = widget.NewActivity()
	v.again = widget.NewButtonWithIcon("Open the login page again", theme.ComputerIcon(), func() { v.openPage() })
	v.copyLink = newCopyButton(v.t.w.app, func() string {
		if v.page == nil {
			return ""
		}
		return v.page.String()
	})
	v.copyLink.SetText("Copy link")
	v.paste = widget.NewButton("Paste the code instead", v.onPaste)
	v.paste.Importance = widget.LowImportance
	v.code = widget.NewEntry()
	v.code.SetPlaceHolder("the code the page shows, such as abc123…#…")
	v.code.OnSubmitted = func(string) { v.onSubmit() }
	v.submit = widget.NewButtonWithIcon("Log in", theme.ConfirmIcon(), v.onSubmit)
	v.submit.Importance = widget.HighImportance
	v.pasteBox = container.NewBorder(nil, nil, nil, v.submit, v.code)
	v.pasteBox.Hide()
	v.err = newErrorLabel()
	v.retry = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), func() {
		v.dismiss()
		v.t.startLogin(v.account, v.isNew)
	})
	v.retry.Importance = widget.HighImportance
	v.retry.Hide()
	v.close = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), v.dismiss)

	title := "Log in to " + v.account + " again"
	if v.isNew {
		title = "Add " + v.account + ": log in with Claude"
	}
	content := container.NewVBox(
		container.NewBorder(nil, nil, v.activity, nil, v.heading),
		v.text,
		container.NewHBox(v.again, v.copyLink),
		v.pasteBox,
		v.err,
		container.NewHBox(v.paste),
	)
	v.dlg = dialog.NewCustomWithoutButtons(title, fixedWidth(dialogWidth, content), v.t.w.win)
	v.dlg.SetButtons([]fyne.CanvasObject{v.close, v.retry})
	v.dlg.SetOnClosed(func() {
		v.stop()
		if v.t.login == v {
			v.t.login = nil
		}
	})
	v.show("Starting the login…", "")
	v.again.Hide()
	v.copyLink.Hide()
	v.paste.Hide()
}

// show sets the heading and the text, with the activity turning.
func (v *loginView) show(heading, text string) {
	v.heading.SetText(heading)
	v.text.SetText(text)
	if text == "" {
		v.text.Hide()
	} else {
		v.text.Show()
	}
	v.activity.Show()
	v.activity.Start()
}

// start has the daemon start a login, automatic (its page comes back to
// the daemon) or manual (its page shows a code to paste), and opens its
// page in the browser.
func (v *loginView) start(manual bool) {
	w := v.t.w
	req := control.LoginRequest{Account: v.account, Manual: manual}
	w.async(func(ctx context.Context) func() {
		l, err := w.d.StartLogin(ctx, req)
		return func() {
			if v.done {
				if err == nil {
					v.cancelLogin(l.ID) // the dialog closed while it started
				}
				return
			}
			if err != nil {
				v.fail("MaxRouter could not start the login: " + startError(err))
				return
			}
			v.ids = append(v.ids, l.ID)
			if manual {
				v.manual = l.ID
			}
			v.page, _ = url.Parse(l.AuthorizeURL)
			v.wait(l)
			opened := v.openPage()
			switch {
			case manual:
				v.show("Paste the code", "Approve the login in the browser: the page then shows a code. Copy all of it and paste it here.")
				v.pasteBox.Show()
				v.paste.Hide()
				w.win.Canvas().Focus(v.code)
			case opened:
				v.show("Waiting for the browser…", "Log in on claude.ai in the browser that just opened, with the subscription you want here, and approve. This goes on by itself once you have.")
				v.paste.Show()
			default:
				v.show("Waiting for the browser…", "Open the login page in a browser (Copy link), log in with the subscription you want here and approve. This goes on by itself once you have.")
				v.paste.Show()
			}
			v.again.Show()
			v.copyLink.Show()
		}
	})
}

// startError says why a login could not start, without the control API's
// wording.
func startError(err error) string {
	switch {
	case errors.Is(err, control.ErrUnreachable):
		return "it is not running."
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, control.ErrInvalid.Error()+": "); ok {
		msg = rest
	}
	return words.Sentence(strings.TrimSuffix(msg, ".")) + "."
}

// openPage opens the login page in the browser and reports whether that
// worked.
func (v *loginView) openPage() bool {
	if v.page == nil {
		return false
	}
	if err := v.t.w.opts.OpenURL(v.page); err != nil {
		v.t.w.log.Warn("opening the login page", "err", err)
		setError(v.err, "Could not open the browser: "+err.Error())
		return false
	}
	return true
}

// wait asks the daemon about login l every LoginPoll until it is done,
// the daemon forgot it, it expired, or the dialog closed.
func (v *loginView) wait(l control.Login) {
	w, ctx, id := v.t.w, v.ctx, l.ID
	deadline := l.ExpiresAt.Add(time.Minute)
	w.logins.Go(func() {
		tick := time.NewTicker(w.opts.LoginPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			got, err := w.d.Login(cctx, id)
			cancel()
			switch {
			case ctx.Err() != nil:
				return
			case errors.Is(err, control.ErrNotFound):
				w.do(func() {
					v.ended(control.Login{ID: id, Status: control.LoginFailed, Reason: "MaxRouter no longer knows this login (was it restarted?)"})
				})
				return
			case err != nil && !l.ExpiresAt.IsZero() && time.Now().After(deadline):
				w.do(func() {
					v.ended(control.Login{ID: id, Status: control.LoginFailed, Reason: "the login was not finished in time"})
				})
				return
			case err != nil:
				continue // the daemon is away for a moment: the banner says so
			case got.Done():
				w.do(func() { v.ended(got) })
				return
			}
		}
	})
}

// ended takes the end of one of the logins started: the first that
// completes is the outcome. A failed code is the outcome at once; the
// automatic login failing is only when no login with a code is still
// pending.
func (v *loginView) ended(l control.Login) {
	if v.done {
		return
	}
	if l.Status == control.LoginCompleted {
		v.succeed(l)
		return
	}
	v.over[l.ID] = true
	if l.ID != v.manual {
		for _, id := range v.ids {
			if !v.over[id] {
				return
			}
		}
	}
	reason := strings.TrimSuffix(strings.TrimSpace(l.Reason), ".")
	if reason == "" {
		reason = "the daemon gave no reason"
	}
	v.fail("The login failed: " + reason + ".")
}

// succeed closes the dialog and says so beside Apply; the account's row
// shows once the model has it.
func (v *loginView) succeed(l control.Login) {
	w := v.t.w
	v.over[l.ID] = true
	v.stop()
	v.dlg.Hide()
	if l.Account == "" {
		l.Account = v.account
	}
	w.bar.setSummary(loginDoneText(l, v.isNew), widget.SuccessImportance)
	v.t.revealSoon(v.account)
	w.async(func(ctx context.Context) func() {
		w.model.Refresh(ctx) // show the new login before the next event
		return nil
	})
}

// fail shows why the login failed, and offers to try again.
func (v *loginView) fail(msg string) {
	v.stop()
	v.activity.Stop()
	v.activity.Hide()
	v.heading.SetText("Not logged in")
	v.text.Hide()
	setError(v.err, msg)
	v.again.Hide()
	v.copyLink.Hide()
	v.paste.Hide()
	v.pasteBox.Hide()
	v.close.SetText("Close")
	v.retry.Show()
}

// onPaste switches to a manual login: a new one, whose page shows a code
// to paste here. The automatic login goes on meanwhile.
func (v *loginView) onPaste() {
	v.paste.Hide()
	v.show("Starting a login with a code…", "")
	v.start(true)
}

// onSubmit hands the pasted code to the daemon.
func (v *loginView) onSubmit() {
	code := strings.TrimSpace(v.code.Text)
	if code == "" || v.manual == "" || v.done {
		return
	}
	w, id := v.t.w, v.manual
	v.submit.Disable()
	setError(v.err, "")
	v.show("Logging in…", "")
	w.async(func(ctx context.Context) func() {
		l, err := w.d.LoginCode(ctx, id, code)
		return func() {
			v.submit.Enable()
			if v.done {
				return
			}
			switch {
			case errors.Is(err, control.ErrInvalid):
				v.show("Paste the code", "")
				setError(v.err, "That is not this login's code: copy all of what the page shows, with the # in the middle.")
			case err != nil:
				v.show("Paste the code", "")
				setError(v.err, "Could not hand the code to MaxRouter: "+err.Error())
			default:
				v.ended(l)
			}
		}
	})
}

// stop ends the waiting, and has the daemon cancel the logins started
// that may still be pending: their loopback ports close at once, and a
// browser coming back later finds nothing instead of adding the account
// behind the person's back.
func (v *loginView) stop() {
	v.done = true
	v.cancel()
	for _, id := range v.ids {
		if !v.over[id] {
			v.over[id] = true
			v.cancelLogin(id)
		}
	}
}

// cancelLogin asks the daemon to cancel login id, in the background.
func (v *loginView) cancelLogin(id string) {
	w := v.t.w
	w.async(func(ctx context.Context) func() {
		if _, err := w.d.CancelLogin(ctx, id); err != nil && !errors.Is(err, control.ErrNotFound) {
			w.log.Info("cancelling a login", "login", id, "err", err)
		}
		return nil
	})
}

// dismiss closes the dialog (Cancel, Close).
func (v *loginView) dismiss() {
	v.stop()
	v.dlg.Hide()
}

// revealSoon marks the account named name once its row shows (a new
// account shows once the daemon's configuration has it).
func (t *accountsTab) revealSoon(name string) {
	t.revealing = name
	t.revealPending()
}

// revealPending reveals the account awaited by revealSoon, once it has a
// row.
func (t *accountsTab) revealPending() {
	if t.revealing == "" {
		return
	}
	if slices.ContainsFunc(t.rows, func(r *accountRow) bool { return r.acct.Orig == t.revealing }) {
		name := t.revealing
		t.revealing = ""
		t.reveal(name)
	}
}
