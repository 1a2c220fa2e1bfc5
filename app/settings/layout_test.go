package settings

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/control"
)

// longSecret is as long as a real client token.
const longSecret = "la_sk_3f9a8c1d0e2b4a6978f5c3d1e0b2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4"

// At the default size, with four accounts in mixed states, nothing is cut:
// every row shows whole without scrolling, no countdown is truncated, and
// a token's secret stays clear of its Copy button.
func TestLayoutAtDefaultSize(t *testing.T) {
	h := newHarness(t, newBackend(), Options{Start: func() error { return nil }})
	w := h.w
	drv := fyne.CurrentApp().Driver()
	right := func(o fyne.CanvasObject) float32 { return drv.AbsolutePositionForObject(o).X + o.Size().Width }

	// Lay everything out once more, as the desktop driver does before a
	// frame: wrapped texts know their width only after a first layout.
	w.win.Content().Refresh()
	if got := w.win.Canvas().Size(); got != defaultSize {
		t.Fatalf("window size = %v, want the default %v", got, defaultSize)
	}
	if min := w.win.Content().MinSize(); min.Width > defaultSize.Width || min.Height > defaultSize.Height {
		t.Errorf("content needs %v, more than the default size %v", min, defaultSize)
	}
	if content, view := w.accounts.scroll.Content.MinSize().Height, w.accounts.scroll.Size().Height; content > view {
		t.Errorf("the four accounts need %v of height, the tab shows %v: rows are cut", content, view)
	}

	// Countdowns are shown whole, inside their row.
	texts := 0
	for _, r := range w.accounts.rows {
		for _, u := range []*usageBar{r.five, r.seven} {
			if !r.bars.Visible() || u.reset.String() == "" {
				continue
			}
			texts++
			need := fyne.MeasureText(u.reset.String(), theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()
			if got := u.reset.Size().Width; got+0.5 < need {
				t.Errorf("%s: %q gets %v of width, needs %v: it is cut", r.acct.Name, u.reset.String(), got, need)
			}
			if right(u.reset) > right(r.box)+0.5 {
				t.Errorf("%s: %q runs out of its row", r.acct.Name, u.reset.String())
			}
		}
	}
	if texts < 4 {
		t.Errorf("checked %d countdowns, want those of work and personal", texts)
	}
	if !hasLabel(objects(w), "resets in under a minute") {
		t.Error("no countdown says resets in under a minute")
	}

	// A secret as long as a real token wraps beside its Copy button.
	w.proxy.showSecret(control.Issued{Token: control.Token{ID: "tok-9", Label: "build server"}, Secret: longSecret})
	w.win.Canvas().Overlays().Top().Refresh()
	dlg := overlayObjects(t, w)
	var secret *widget.Label
	for _, o := range dlg {
		if l, ok := o.(*widget.Label); ok && l.Text == longSecret {
			secret = l
		}
	}
	if secret == nil {
		t.Fatal("secret not shown")
	}
	copyBtn := button(t, dlg, "Copy")
	if right(secret) > drv.AbsolutePositionForObject(copyBtn).X+0.5 {
		t.Errorf("the secret (right edge %v) runs under the Copy button (at %v)", right(secret), drv.AbsolutePositionForObject(copyBtn).X)
	}
	need := fyne.MeasureText(longSecret, theme.TextSize(), fyne.TextStyle{Monospace: true}).Width + 2*theme.InnerPadding()
	if secret.Size().Width < need && secret.Wrapping == fyne.TextWrapOff {
		t.Errorf("the secret needs %v of width, gets %v, and does not wrap: it is cut", need, secret.Size().Width)
	}
	if !secret.Selectable {
		t.Error("the secret cannot be selected")
	}
	test.Tap(copyBtn)
	if got := w.app.Clipboard().Content(); got != longSecret {
		t.Errorf("clipboard = %q, want the secret", got)
	}
	w.win.Canvas().Overlays().Top().Hide()

	// The routing help lines are not cut either.
	w.tabs.Select(w.routing.item)
	w.win.Content().Refresh()
	for _, o := range test.LaidOutObjects(w.routing.item.Content) {
		if r, ok := o.(*widget.RichText); ok && strings.HasPrefix(r.String(), "Prefer the account with the most") {
			need := fyne.MeasureText(r.String(), theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()
			if got := r.Size().Width; got+0.5 < need {
				t.Errorf("%q gets %v of width, needs %v", r.String(), got, need)
			}
		}
	}
}
