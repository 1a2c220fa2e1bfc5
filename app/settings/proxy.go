package settings

import (
	"context"
	"errors"
	"slices"
	"strings"

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

// proxyTab is the Proxy tab: the port, the base URL to copy, and the
// client tokens.
type proxyTab struct {
	w *Window

	item      *container.TabItem
	port      *widget.Entry
	portErr   *widget.Label
	baseURL   *widget.Label
	tokenList *fyne.Container
	tokenErr  *widget.Label
	tokens    []control.Token

	// The fields of the open issue and Limits dialogs (for tests).
	issuing  *issueForm
	limiting *limitsForm

	// Claude Code's own settings (nil widgets when Options.Claude is nil).
	claudeState  *widget.RichText
	claudeResult *widget.Label
	claudeSetup  *widget.Button
	claudeUndo   *widget.Button
}

func newProxyTab(w *Window) *proxyTab {
	t := &proxyTab{w: w}
	t.item = newTab("Proxy", t.buildUI())
	return t
}

func (t *proxyTab) tabItem() *container.TabItem { return t.item }

func (t *proxyTab) buildUI() fyne.CanvasObject {
	t.port = widget.NewEntry()
	t.port.SetPlaceHolder("8787")
	t.port.OnChanged = func(s string) {
		_, msg := parsePort(s)
		setError(t.portErr, msg)
		t.w.edited()
	}
	t.portErr = newErrorLabel()

	t.baseURL = widget.NewLabel(t.w.d.BaseURL())
	t.baseURL.TextStyle = fyne.TextStyle{Monospace: true}
	t.baseURL.Selectable = true
	copyURL := newCopyButton(t.w.app, func() string { return t.baseURL.Text })

	t.tokenList = container.NewVBox()
	t.tokenErr = newErrorLabel()
	issue := widget.NewButtonWithIcon("Issue token…", theme.ContentAddIcon(), t.onIssue)
	issue.Importance = widget.HighImportance

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Port"), container.NewVBox(
			container.NewBorder(nil, nil, fixedWidth(120, t.port), nil,
				newHint("Clients and this window reach MaxRouter here. A new port takes effect when you press Apply; clients then need the new address.")),
			t.portErr),
		widget.NewLabel("Base URL"), container.NewVBox(
			container.NewHBox(t.baseURL, copyURL),
			newHint("Point Claude Code at it: ANTHROPIC_BASE_URL, with a client token as ANTHROPIC_AUTH_TOKEN.")),
	)
	return page(
		newHeading("Proxy"),
		form,
		spacer(1, 4),
		t.buildClaude(),
		widget.NewSeparator(),
		newHeading("Client tokens"),
		newHint("Every program that sends requests through MaxRouter presents a client token (la_sk_…). Issue one per machine or tool, so you can revoke it alone. A token can have limits: so many requests or tokens per window (5h, 1d, 7d); once spent, its requests are refused until its window ends, and the other tokens go on."),
		t.tokenErr,
		t.tokenList,
		container.NewHBox(issue),
	)
}

// buildClaude is the Claude Code section: set Claude Code up to go
// through MaxRouter in its own settings, or undo that.
func (t *proxyTab) buildClaude() fyne.CanvasObject {
	if t.w.opts.Claude == nil {
		return spacer(1, 0)
	}
	t.claudeState = widget.NewRichText()
	t.claudeState.Wrapping = fyne.TextWrapWord
	t.claudeResult = widget.NewLabel("")
	t.claudeResult.Wrapping = fyne.TextWrapWord
	t.claudeResult.Hide()
	t.claudeSetup = widget.NewButtonWithIcon("Set up Claude Code", theme.ConfirmIcon(), t.onClaudeSetup)
	t.claudeSetup.Importance = widget.HighImportance
	t.claudeUndo = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), t.onClaudeUndo)
	return container.NewVBox(
		widget.NewSeparator(),
		newHeading("Claude Code"),
		t.claudeState,
		container.NewHBox(t.claudeSetup, t.claudeUndo),
		t.claudeResult,
		newHint("Set up writes ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN (a client token for this computer) into Claude Code’s settings.json, after a backup next to it, so every claude you start goes through MaxRouter. Undo puts the file back and revokes the token. For another shell or machine, use the tray’s “"+"Copy shell export lines"+"” instead."),
	)
}

// showClaude says whether Claude Code is set up to go through MaxRouter.
func (t *proxyTab) showClaude() {
	c := t.w.opts.Claude
	if c == nil {
		return
	}
	file, ok, err := c.Current()
	switch {
	case err != nil:
		setText(t.claudeState, styled{"Cannot tell whether Claude Code is set up: " + err.Error(), widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameError}})
	case ok:
		setText(t.claudeState, styled{"Claude Code goes through MaxRouter", widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameSuccess, TextStyle: fyne.TextStyle{Bold: true}}},
			hint(": "+words.Tilde(file, t.w.opts.Home)+" holds its address and client token."))
	default:
		setText(t.claudeState, hint("Claude Code does not go through MaxRouter yet (nothing written to its settings)."))
	}
	enableIf(t.claudeUndo, ok)
	if ok {
		t.claudeSetup.Importance = widget.MediumImportance
	} else {
		t.claudeSetup.Importance = widget.HighImportance
	}
	t.claudeSetup.Refresh()
}

// onClaudeSetup points Claude Code at MaxRouter.
func (t *proxyTab) onClaudeSetup() {
	t.claudeSetup.Disable()
	t.w.async(func(ctx context.Context) func() {
		res, err := t.w.opts.Claude.Apply(ctx)
		return func() {
			t.claudeSetup.Enable()
			if err != nil {
				t.claudeSaid("Not set up: "+err.Error(), widget.DangerImportance)
			} else {
				title, body := ClaudeApplied(res, t.w.opts.Home)
				t.claudeSaid(title+". "+body, widget.SuccessImportance)
			}
			t.showClaude()
			t.loadTokens()
		}
	})
}

// onClaudeUndo takes MaxRouter out of Claude Code's settings.
func (t *proxyTab) onClaudeUndo() {
	t.claudeUndo.Disable()
	t.w.async(func(ctx context.Context) func() {
		res, err := t.w.opts.Claude.Undo(ctx)
		return func() {
			if err != nil {
				t.claudeSaid("Not undone: "+err.Error(), widget.DangerImportance)
			} else {
				title, body := ClaudeUndone(res, t.w.opts.Home)
				t.claudeSaid(title+". "+body, widget.SuccessImportance)
			}
			t.showClaude()
			t.loadTokens()
		}
	})
}

func (t *proxyTab) claudeSaid(text string, imp widget.Importance) {
	t.claudeResult.SetText(text)
	t.claudeResult.Importance = imp
	t.claudeResult.Show()
	t.claudeResult.Refresh()
}

// newCopyButton is a Copy button that puts text() on the clipboard and
// says so.
func newCopyButton(app fyne.App, text func() string) *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		app.Clipboard().SetContent(text())
		b.SetText("Copied")
	})
	return b
}

// read puts the tab's fields into d.
func (t *proxyTab) read(d *draft) { d.Port = t.port.Text }

// show puts d's values into the fields.
func (t *proxyTab) show(d draft) {
	if d.Port != t.port.Text {
		t.port.SetText(d.Port)
	}
}

// setBaseURL shows the address clients use.
func (t *proxyTab) setBaseURL(u string) {
	if t.baseURL.Text != u {
		t.baseURL.SetText(u)
	}
}

// loadTokens reads the client tokens.
func (t *proxyTab) loadTokens() {
	t.w.async(func(ctx context.Context) func() {
		toks, err := t.w.d.Tokens(ctx)
		return func() {
			switch {
			case errors.Is(err, control.ErrUnreachable):
				return // the banner says it; the list is as last read
			case err != nil:
				setError(t.tokenErr, "Could not read the client tokens: "+err.Error())
				return
			}
			setError(t.tokenErr, "")
			t.tokens = toks
			t.renderTokens()
		}
	})
}

// renderTokens lays out the token table: newest first, revoked and
// expired ones after the active ones. Under each token, its limits and
// what its current window used of them.
func (t *proxyTab) renderTokens() {
	now := t.w.opts.Now()
	t.tokenList.Objects = nil
	if len(t.tokens) == 0 {
		t.tokenList.Add(newHint("No client tokens yet."))
		t.tokenList.Refresh()
		return
	}
	head := func(s string) fyne.CanvasObject {
		l := widget.NewLabel(s)
		l.TextStyle = fyne.TextStyle{Bold: true}
		return l
	}
	t.tokenList.Add(tokenRow(head("Label"), head("Token"), head("Created"), head("Status"), nil, layout.NewSpacer()))
	var active, inactive []control.Token
	for _, tok := range t.tokens {
		if tokenActive(tok, now) {
			active = append(active, tok)
		} else {
			inactive = append(inactive, tok)
		}
	}
	for _, tok := range append(newestFirst(active), newestFirst(inactive)...) {
		label := widget.NewLabel(tok.Label)
		label.Truncation = fyne.TextTruncateEllipsis
		prefix := widget.NewLabel(strings.TrimSuffix(tok.Prefix, "…") + "…")
		prefix.TextStyle = fyne.TextStyle{Monospace: true}
		prefix.Truncation = fyne.TextTruncateEllipsis
		status := widget.NewLabel(tokenStatus(tok, now))
		status.Truncation = fyne.TextTruncateEllipsis
		created := widget.NewLabel(dateText(tok.CreatedAt, now))
		var budget fyne.CanvasObject // its limits and use, for a token in use
		var action fyne.CanvasObject = layout.NewSpacer()
		if tokenActive(tok, now) {
			style := hintStyle
			if spent, _ := words.Spent(tok, now); spent {
				status.Importance = widget.WarningImportance
				style.ColorName = theme.ColorNameWarning
			}
			use := widget.NewRichText(&widget.TextSegment{Text: words.Sentence(words.TokenBudget(tok, now)), Style: style})
			use.Wrapping = fyne.TextWrapWord
			budget = use
			limits := widget.NewButton("Limits…", func() { t.onLimits(tok) })
			revoke := widget.NewButtonWithIcon("Revoke", theme.DeleteIcon(), func() { t.onRevoke(tok) })
			action = container.NewHBox(layout.NewSpacer(), limits, revoke)
		} else {
			for _, l := range []*widget.Label{label, prefix, status, created} {
				l.Importance = widget.LowImportance
			}
		}
		t.tokenList.Add(tokenRow(label, prefix, created, status, budget, action))
	}
	t.tokenList.Refresh()
}

// tokenActionWidth is the width of the buttons at the end of a token's
// row.
const tokenActionWidth = 200

// tokenRow lays out one token of the table: a line of four columns, and
// under it the token's budget (nil for none, such as the header's).
func tokenRow(label, prefix, created, status, budget, action fyne.CanvasObject) fyne.CanvasObject {
	var body fyne.CanvasObject = container.NewGridWithColumns(4, label, prefix, created, status)
	if budget != nil {
		body = container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), body, budget)
	}
	return container.NewBorder(nil, nil, nil, fixedWidth(tokenActionWidth, action), body)
}

func newestFirst(toks []control.Token) []control.Token {
	out := slices.Clone(toks)
	slices.SortStableFunc(out, func(a, b control.Token) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// limitsForm holds the fields of a client token's limits, in the issue
// and Limits dialogs. A count field holds what control.ParseCount reads
// ("500", "500k", "2M"; empty or "none" for no limit), the window a
// duration control.ParsePeriod reads; each marks a bad value under itself,
// and the dialog sends nothing while one is marked.
type limitsForm struct {
	requests, tokens, cacheReads *widget.Entry
	per                          *widget.SelectEntry
}

func newLimitsForm(in limitsInput) *limitsForm {
	count := func(v, example string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder("none, or e.g. " + example)
		e.SetText(v)
		e.Validator = checkCount
		return e
	}
	f := &limitsForm{requests: count(in.Requests, "500"), tokens: count(in.Tokens, "2M"), cacheReads: count(in.CacheReads, "50M")}
	f.per = widget.NewSelectEntry(windowChoices)
	f.per.SetText(in.Per)
	f.per.Validator = checkWindow
	return f
}

// items are the form's rows.
func (f *limitsForm) items() []*widget.FormItem {
	return []*widget.FormItem{
		{Text: fieldMaxRequests, Widget: f.requests, HintText: "Requests per window; empty: no limit"},
		{Text: fieldMaxTokens, Widget: f.tokens, HintText: "Input, cache writes and output"},
		{Text: fieldMaxCacheReads, Widget: f.cacheReads, HintText: "Cache reads, counted apart (optional)"},
		{Text: fieldWindow, Widget: f.per, HintText: "5h, 1d, 7d or any duration; it starts with the first request"},
	}
}

// input is what the fields hold.
func (f *limitsForm) input() limitsInput {
	return limitsInput{f.requests.Text, f.tokens.Text, f.cacheReads.Text, f.per.Text}
}

// issueForm is the open issue dialog's fields (for tests).
type issueForm struct {
	label  *widget.Entry
	ttl    *widget.Select
	limits *limitsForm
}

// onIssue asks for a label, a lifetime and limits, then issues a token.
func (t *proxyTab) onIssue() {
	label := widget.NewEntry()
	label.SetPlaceHolder("e.g. laptop, ci, claude-code")
	label.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("give the token a label")
		}
		return nil
	}
	opts := make([]string, len(ttlChoices))
	for i, c := range ttlChoices {
		opts[i] = c.Label
	}
	ttl := widget.NewSelect(opts, nil)
	ttl.SetSelected(opts[0])
	lf := newLimitsForm(inputOf(control.Limits{}))
	t.issuing = &issueForm{label, ttl, lf}
	items := append([]*widget.FormItem{
		{Text: "Label", Widget: label, HintText: "Says where the token is used"},
		{Text: "Expires", Widget: ttl},
	}, lf.items()...)
	d := dialog.NewForm("Issue client token", "Issue", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		limits, err := lf.input().limits()
		if err != nil { // the fields' validators let nothing bad through
			dialog.ShowError(err, t.w.win)
			return
		}
		req := control.IssueRequest{Label: strings.TrimSpace(label.Text), Limits: limits}
		if life := ttlFor(ttl.Selected); life > 0 {
			req.TTL = life.String()
		}
		t.issueToken(req)
	}, t.w.win)
	d.Resize(fyne.NewSize(limitsDialogWidth, d.MinSize().Height))
	d.Show()
	t.w.win.Canvas().Focus(label)
}

// limitsDialogWidth is the width of the issue and Limits dialogs.
const limitsDialogWidth = 520

// issueToken has the daemon issue a token and shows its secret, once.
func (t *proxyTab) issueToken(req control.IssueRequest) {
	t.w.async(func(ctx context.Context) func() {
		is, err := t.w.d.IssueTokenWith(ctx, req)
		var toks []control.Token
		tokErr := err
		if err == nil {
			toks, tokErr = t.w.d.Tokens(ctx)
		}
		return func() {
			if err != nil {
				dialog.ShowError(errors.New("Could not issue the token: "+err.Error()), t.w.win)
				return
			}
			if tokErr == nil {
				t.tokens = toks
				t.renderTokens()
			}
			t.showSecret(is)
		}
	})
}

// onLimits shows a token's limits and expiry to change: the fields hold
// its limits now; emptied (or "none"), a limit is removed.
func (t *proxyTab) onLimits(tok control.Token) {
	now := t.w.opts.Now()
	lf := newLimitsForm(inputOf(tok.Limits))
	exp := widget.NewSelect(expiryChoices(tok, now), nil)
	exp.SetSelectedIndex(0)
	t.limiting = lf
	items := append(lf.items(), &widget.FormItem{Text: "Expires", Widget: exp, HintText: "A new lifetime counts from now"})
	d := dialog.NewForm("Limits of “"+tok.Label+"”", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		limits, err := lf.input().limits()
		if err != nil {
			dialog.ShowError(err, t.w.win)
			return
		}
		u := limitsUpdate(tok.Limits, limits)
		expiryUpdate(&u, tok, exp.Selected, t.w.opts.Now())
		if u.Empty() {
			return
		}
		t.updateToken(tok.ID, u)
	}, t.w.win)
	d.Resize(fyne.NewSize(limitsDialogWidth, d.MinSize().Height))
	d.Show()
	t.w.win.Canvas().Focus(lf.requests)
}

// updateToken sends a token's new limits or expiry and shows the tokens
// as they are then.
func (t *proxyTab) updateToken(id string, u control.TokenUpdate) {
	t.w.async(func(ctx context.Context) func() {
		_, err := t.w.d.UpdateToken(ctx, id, u)
		toks, tokErr := t.w.d.Tokens(ctx)
		return func() {
			if err != nil {
				dialog.ShowError(errors.New("Could not change the token: "+err.Error()), t.w.win)
			}
			if tokErr == nil {
				t.tokens = toks
				t.renderTokens()
			}
		}
	})
}

// secretWidth is the width of the dialog that shows a new token.
const secretWidth = 480

// showSecret shows a new token's secret with a Copy button. The secret is
// kept nowhere else: once the dialog is closed it cannot be shown again.
// A long secret wraps inside its box, left of the button.
func (t *proxyTab) showSecret(is control.Issued) {
	secret := widget.NewLabel(is.Secret)
	secret.TextStyle = fyne.TextStyle{Monospace: true}
	secret.Selectable = true
	secret.Wrapping = fyne.TextWrapBreak
	copyBtn := newCopyButton(t.w.app, func() string { return is.Secret })
	copyBtn.Importance = widget.HighImportance
	content := container.NewVBox(
		widget.NewLabel("Copy the token now: it is shown only this once."),
		container.NewStack(tint.NewPanel(theme.ColorNameInputBackground, 1),
			container.NewBorder(nil, nil, nil, container.NewCenter(container.NewPadded(copyBtn)), secret)),
		newHint("Use it as ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL="+t.w.baseURL()+". Revoke it here when it is no longer needed."),
	)
	d := dialog.NewCustom("Token “"+is.Label+"” issued", "Done", fixedWidth(secretWidth, content), t.w.win)
	d.Show()
}

// onRevoke asks before revoking a token.
func (t *proxyTab) onRevoke(tok control.Token) {
	d := dialog.NewConfirm("Revoke “"+tok.Label+"”?",
		"Programs using this token are refused from now on. This cannot be undone.",
		func(ok bool) {
			if ok {
				t.revokeToken(tok.ID)
			}
		}, t.w.win)
	d.SetConfirmText("Revoke")
	d.SetDismissText("Keep")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (t *proxyTab) revokeToken(id string) {
	t.w.async(func(ctx context.Context) func() {
		err := t.w.d.RevokeToken(ctx, id)
		toks, tokErr := t.w.d.Tokens(ctx)
		return func() {
			if err != nil && !errors.Is(err, control.ErrNotFound) {
				dialog.ShowError(errors.New("Could not revoke the token: "+err.Error()), t.w.win)
			}
			if tokErr == nil {
				t.tokens = toks
				t.renderTokens()
			}
		}
	})
}
