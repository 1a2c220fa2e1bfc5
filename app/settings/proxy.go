package settings

import (
	"context"
	"errors"
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
)

// The Proxy tab: the port, the base URL to copy, and the client tokens.

func (w *Window) buildProxy() fyne.CanvasObject {
	w.port = widget.NewEntry()
	w.port.SetPlaceHolder("8787")
	w.port.OnChanged = func(s string) {
		_, msg := parsePort(s)
		setError(w.portErr, msg)
		w.edited()
	}
	w.portErr = newErrorLabel()

	w.baseURLBox = widget.NewLabel(w.baseURL)
	w.baseURLBox.TextStyle = fyne.TextStyle{Monospace: true}
	w.baseURLBox.Selectable = true
	var copyURL *widget.Button
	copyURL = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.app.Clipboard().SetContent(w.baseURL)
		copyURL.SetText("Copied")
	})

	w.tokenList = container.NewVBox()
	issue := widget.NewButtonWithIcon("Issue token…", theme.ContentAddIcon(), w.onIssue)
	issue.Importance = widget.HighImportance

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Port"), container.NewVBox(
			container.NewBorder(nil, nil, fixedWidth(120, w.port), nil,
				newHint("Clients and this window reach MaxRouter here. A new port takes effect when you press Apply; clients then need the new address.")),
			w.portErr),
		widget.NewLabel("Base URL"), container.NewVBox(
			container.NewHBox(w.baseURLBox, copyURL),
			newHint("Point Claude Code at it: ANTHROPIC_BASE_URL, with a client token as ANTHROPIC_AUTH_TOKEN.")),
	)
	return page(
		newHeading("Proxy"),
		form,
		spacer(1, 4),
		widget.NewSeparator(),
		newHeading("Client tokens"),
		newHint("Every program that sends requests through MaxRouter presents a client token (la_sk_…). Issue one per machine or tool, so you can revoke it alone."),
		w.tokenList,
		container.NewHBox(issue),
	)
}

// setBaseURL shows the address clients use.
func (w *Window) setBaseURL(u string) {
	w.baseURL = u
	w.baseURLBox.SetText(u)
}

// setTokens takes a fresh token list.
func (w *Window) setTokens(toks []control.Token) {
	w.tokens = toks
	w.renderTokens()
}

// renderTokens lays out the token table: newest first, revoked and
// expired ones after the active ones.
func (w *Window) renderTokens() {
	if w.tokenList == nil {
		return
	}
	now := w.now()
	w.tokenList.Objects = nil
	if len(w.tokens) == 0 {
		w.tokenList.Add(newHint("No client tokens yet."))
		w.tokenList.Refresh()
		return
	}
	head := func(s string) fyne.CanvasObject {
		l := widget.NewLabel(s)
		l.TextStyle = fyne.TextStyle{Bold: true}
		return l
	}
	w.tokenList.Add(tokenRow(head("Label"), head("Token"), head("Created"), head("Status"), layout.NewSpacer()))
	var active, inactive []control.Token
	for _, t := range w.tokens {
		if tokenActive(t, now) {
			active = append(active, t)
		} else {
			inactive = append(inactive, t)
		}
	}
	for _, t := range append(newestFirst(active), newestFirst(inactive)...) {
		label := widget.NewLabel(t.Label)
		label.Truncation = fyne.TextTruncateEllipsis
		prefix := widget.NewLabel(strings.TrimSuffix(t.Prefix, "…") + "…")
		prefix.TextStyle = fyne.TextStyle{Monospace: true}
		prefix.Truncation = fyne.TextTruncateEllipsis
		status := widget.NewLabel(tokenStatus(t, now))
		status.Truncation = fyne.TextTruncateEllipsis
		var action fyne.CanvasObject = layout.NewSpacer()
		if tokenActive(t, now) {
			t := t
			b := widget.NewButtonWithIcon("Revoke", theme.DeleteIcon(), func() { w.onRevoke(t) })
			action = container.NewHBox(layout.NewSpacer(), b)
		} else {
			label.Importance = widget.LowImportance
			prefix.Importance = widget.LowImportance
			status.Importance = widget.LowImportance
		}
		created := widget.NewLabel(dateText(t.CreatedAt, now))
		if !tokenActive(t, now) {
			created.Importance = widget.LowImportance
		}
		w.tokenList.Add(tokenRow(label, prefix, created, status, action))
	}
	w.tokenList.Refresh()
}

// tokenRow lays out one line of the token table.
func tokenRow(label, prefix, created, status, action fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, nil, fixedWidth(110, action),
		container.NewGridWithColumns(4, label, prefix, created, status))
}

func newestFirst(toks []control.Token) []control.Token {
	out := append([]control.Token(nil), toks...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CreatedAt.After(out[j-1].CreatedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// onIssue asks for a label and a lifetime, then issues a token.
func (w *Window) onIssue() {
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
	items := []*widget.FormItem{
		{Text: "Label", Widget: label, HintText: "Says where the token is used"},
		{Text: "Expires", Widget: ttl},
	}
	d := dialog.NewForm("Issue client token", "Issue", "Cancel", items, func(ok bool) {
		if ok {
			w.issueToken(strings.TrimSpace(label.Text), ttlFor(ttl.Selected))
		}
	}, w.win)
	d.Resize(fyne.NewSize(440, d.MinSize().Height))
	d.Show()
	w.win.Canvas().Focus(label)
}

// issueToken has the daemon issue a token and shows its secret, once.
func (w *Window) issueToken(label string, ttl time.Duration) {
	w.async(func(ctx context.Context) {
		is, err := w.d.IssueToken(ctx, label, ttl)
		var toks []control.Token
		tokErr := err
		if err == nil {
			toks, tokErr = w.d.Tokens(ctx)
		}
		fyne.Do(func() {
			if err != nil {
				dialog.ShowError(errors.New("Could not issue the token: "+err.Error()), w.win)
				return
			}
			if tokErr == nil {
				w.setTokens(toks)
			}
			w.showSecret(is)
		})
	})
}

// showSecret shows a new token's secret with a Copy button. The secret is
// kept nowhere else: once the dialog is closed it cannot be shown again.
func (w *Window) showSecret(is control.Issued) {
	secret := widget.NewLabel(is.Secret)
	secret.TextStyle = fyne.TextStyle{Monospace: true}
	secret.Selectable = true
	var copyBtn *widget.Button
	copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.app.Clipboard().SetContent(is.Secret)
		copyBtn.SetText("Copied")
	})
	copyBtn.Importance = widget.HighImportance
	content := container.NewVBox(
		widget.NewLabel("Copy the token now: it is shown only this once."),
		container.NewStack(tint.NewPanel(theme.ColorNameInputBackground, 1),
			container.NewBorder(nil, nil, nil, container.NewPadded(copyBtn), secret)),
		newHint("Use it as ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL="+w.baseURL+". Revoke it here when it is no longer needed."),
	)
	d := dialog.NewCustom("Token “"+is.Label+"” issued", "Done", fixedWidth(460, content), w.win)
	d.Show()
}

// onRevoke asks before revoking a token.
func (w *Window) onRevoke(t control.Token) {
	d := dialog.NewConfirm("Revoke “"+t.Label+"”?",
		"Programs using this token are refused from now on. This cannot be undone.",
		func(ok bool) {
			if ok {
				w.revokeToken(t.ID)
			}
		}, w.win)
	d.SetConfirmText("Revoke")
	d.SetDismissText("Keep")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (w *Window) revokeToken(id string) {
	w.async(func(ctx context.Context) {
		err := w.d.RevokeToken(ctx, id)
		toks, tokErr := w.d.Tokens(ctx)
		fyne.Do(func() {
			if err != nil && !errors.Is(err, control.ErrNotFound) {
				dialog.ShowError(errors.New("Could not revoke the token: "+err.Error()), w.win)
			}
			if tokErr == nil {
				w.setTokens(toks)
			}
		})
	})
}
