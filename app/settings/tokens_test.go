package settings

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
)

// The fixtures' budgets: ci may send 500 requests and 2M tokens per 5h,
// and its window, which ends at 13:05, used part of them.
var (
	ciLimits = control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.Period(5 * time.Hour)}
	ciEnds   = testNow.Add(46 * time.Minute) // 13:05
)

// limitedBackend is newBackend with ci limited and part used.
func limitedBackend() *controltest.Backend {
	b := newBackend()
	b.TokenList[1].Limits = ciLimits
	b.TokenList[1].Window = &control.TokenWindow{Start: ciEnds.Add(-5 * time.Hour), ResetsAt: ciEnds, Requests: 312, Tokens: 1_234_000}
	return b
}

// setWindow changes what the window of the token id used, on the daemon.
func setWindow(b *controltest.Backend, id string, requests, tokens int64) {
	b.Lock()
	defer b.Unlock()
	for i, t := range b.TokenList {
		if t.ID == id {
			w := *t.Window
			w.Requests, w.Tokens = requests, tokens
			b.TokenList[i].Window = &w
		}
	}
}

// tokenTexts are the texts of the Proxy tab's token table.
func tokenTexts(w *Window) []string { return labelTexts(test.LaidOutObjects(w.proxy.tokenList)) }

// tokenButton returns the button with the given text on the row of the
// token labelled label (rows are laid out one after the other: the
// label's row's buttons come before the next row's label).
func tokenButton(t *testing.T, w *Window, label, text string) *widget.Button {
	t.Helper()
	inRow := false
	for _, o := range test.LaidOutObjects(w.proxy.tokenList) {
		switch x := o.(type) {
		case *widget.Label:
			if x.Text == label {
				inRow = true
			}
		case *widget.Button:
			if inRow && x.Text == text {
				return x
			}
		}
	}
	t.Fatalf("no %q button on the row of %q", text, label)
	return nil
}

// fieldErrors are the error texts the open dialog's form shows under its
// fields.
func fieldErrors(t *testing.T, w *Window) []string {
	t.Helper()
	var out []string
	for _, o := range overlayObjects(t, w) {
		if x, ok := o.(*canvas.Text); ok && x.Visible() && strings.Contains(x.Text, "invalid") {
			out = append(out, x.Text)
		}
	}
	return out
}

func TestTokenRowsShowLimitsAndUse(t *testing.T) {
	b := limitedBackend()
	// laptop has spent its budget of 100 requests a day, until 13:05.
	b.TokenList[0].Limits = control.Limits{MaxRequests: 100, Per: control.Period(24 * time.Hour)}
	b.TokenList[0].Window = &control.TokenWindow{ResetsAt: ciEnds, Requests: 100}
	h := newHarness(t, b, Options{})

	texts := tokenTexts(h.w)
	for _, want := range []string{
		"312/500 requests, 1.2M/2M tokens per 5h · resets 13:05", // ci
		"Spent until 13:05", "100/100 requests per 1d · resets 13:05", // laptop
	} {
		if !slices.Contains(texts, want) {
			t.Errorf("token table lacks %q; it shows %q", want, texts)
		}
	}
	if slices.Contains(texts, "No limits") {
		t.Errorf("a revoked token's row shows its limits: %q", texts)
	}
	for _, l := range test.LaidOutObjects(h.w.proxy.tokenList) {
		if x, ok := l.(*widget.Label); ok && x.Text == "Spent until 13:05" && x.Importance != widget.WarningImportance {
			t.Errorf("a spent token's status has importance %v, want a warning", x.Importance)
		}
	}
	// A Limits… button on each active token's row, none on revoked ones.
	tokenButton(t, h.w, "ci", "Limits…")
	tokenButton(t, h.w, "laptop", "Limits…")
	n := 0
	for _, o := range test.LaidOutObjects(h.w.proxy.tokenList) {
		if x, ok := o.(*widget.Button); ok && x.Text == "Limits…" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("Limits… buttons = %d, want 2 (one per active token)", n)
	}
}

func TestIssueTokenWithLimits(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	w.proxy.onIssue()
	f := w.proxy.issuing
	if got, want := f.limits.per.Text, "5h"; got != want {
		t.Errorf("window field = %q, want %q", got, want)
	}
	test.Type(f.label, "ci")
	test.Type(f.limits.requests, "500")
	test.Type(f.limits.tokens, "2M")
	f.limits.per.SetText("1d12h")
	test.Tap(button(t, overlayObjects(t, w), "Issue"))
	h.settle()

	h.b.Lock()
	issues := slices.Clone(h.b.Issues)
	h.b.Unlock()
	want := []controltest.IssueCall{{Label: "ci", Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.Period(36 * time.Hour)}}}
	if !slices.Equal(issues, want) {
		t.Errorf("IssueToken calls = %+v, want %+v", issues, want)
	}
	if !slices.Contains(tokenTexts(w), "0/500 requests, 0/2M tokens per 36h") {
		t.Errorf("new token's row lacks its limits; it shows %q", tokenTexts(w))
	}
}

// A bad count or window is marked under its field and nothing is sent.
func TestIssueTokenBadLimits(t *testing.T) {
	for _, tt := range []struct {
		name  string
		field func(*limitsForm) *widget.Entry
		value string
		want  string
	}{
		{"count", func(f *limitsForm) *widget.Entry { return f.tokens }, "lots", `invalid count "lots"`},
		{"fraction", func(f *limitsForm) *widget.Entry { return f.requests }, "1.5", `invalid count "1.5"`},
		{"window", func(f *limitsForm) *widget.Entry { return &f.per.Entry }, "5 hours", `invalid window "5 hours"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, newBackend(), Options{})
			w := h.w
			w.proxy.onIssue()
			f := w.proxy.issuing
			test.Type(f.label, "ci")
			test.Type(f.limits.requests, "500")
			e := tt.field(f.limits)
			e.SetText("")
			w.win.Canvas().Focus(e)
			test.Type(e, tt.value)
			w.win.Canvas().Focus(f.label) // on to another field
			issue := button(t, overlayObjects(t, w), "Issue")
			if !issue.Disabled() {
				t.Error("Issue is enabled with a bad value")
			}
			errs := fieldErrors(t, w)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], tt.want) {
				t.Errorf("field errors = %q, want one starting %q", errs, tt.want)
			}
			test.Tap(issue)
			h.settle()
			h.b.Lock()
			issues := len(h.b.Issues)
			h.b.Unlock()
			if issues != 0 {
				t.Errorf("IssueToken called %d times with a bad value, want 0", issues)
			}
		})
	}
}

func TestChangeTokenLimits(t *testing.T) {
	b := limitedBackend()
	h := newHarness(t, b, Options{})
	w := h.w

	test.Tap(tokenButton(t, w, "ci", "Limits…"))
	dlg := overlayObjects(t, w)
	if _, ok := findLabelContaining(dlg, "Limits of “ci”"); !ok {
		t.Errorf("dialog does not name the token; labels: %q", labelTexts(dlg))
	}
	f := w.proxy.limiting
	if got, want := f.input(), (limitsInput{"500", "2M", "", "5h"}); got != want {
		t.Errorf("dialog fields = %+v, want the token's limits %+v", got, want)
	}
	f.tokens.SetText("none")
	f.requests.SetText("1k")
	f.per.SetText("1d")
	var expiry *widget.Select
	for _, o := range dlg {
		if s, ok := o.(*widget.Select); ok {
			expiry = s
		}
	}
	if expiry == nil || expiry.Selected != "Keep: expires 7 Apr 2026" {
		t.Fatalf("expiry choice = %+v, want Keep with the token's expiry first", expiry)
	}
	expiry.SetSelected("Never expires")
	test.Tap(button(t, dlg, "Save"))
	h.settle()

	b.Lock()
	updates := slices.Clone(b.Updates)
	b.Unlock()
	want := []controltest.UpdateCall{{ID: "tok-2", Update: control.TokenUpdate{
		MaxRequests: ptr(int64(1000)), MaxTokens: ptr(int64(0)), Per: ptr(control.Period(24 * time.Hour)), NeverExpires: true,
	}}}
	if !reflect.DeepEqual(updates, want) {
		t.Errorf("UpdateToken calls = %+v, want %+v", updates, want)
	}
	texts := tokenTexts(w)
	if !slices.Contains(texts, "312/1k requests per 1d · resets 13:05") || slices.Contains(texts, "Expires in 28 days") {
		t.Errorf("row does not show the new limits and expiry; it shows %q", texts)
	}

	// Emptied, every limit goes: the token has none.
	test.Tap(tokenButton(t, w, "ci", "Limits…"))
	w.proxy.limiting.requests.SetText("")
	test.Tap(button(t, overlayObjects(t, w), "Save"))
	h.settle()
	b.Lock()
	last := b.Updates[len(b.Updates)-1]
	b.Unlock()
	if want := (control.TokenUpdate{MaxRequests: ptr(int64(0))}); !reflect.DeepEqual(last.Update, want) {
		t.Errorf("UpdateToken = %+v, want %+v", last.Update, want)
	}
	if !slices.Contains(tokenTexts(w), "No limits") {
		t.Errorf("row still shows limits: %q", tokenTexts(w))
	}
}

// A token that spends its budget shows as spent at once: the window reads
// the tokens again on token_budget_reached.
func TestTokensFollowBudgetEvents(t *testing.T) {
	b := limitedBackend()
	h := newHarness(t, b, Options{})

	setWindow(b, "tok-2", 500, 1_300_000)
	b.Publish(control.Event{Type: event.TokenBudgetReached, Token: "tok-2", Label: "ci", Until: &ciEnds, Reason: "500 requests, 2M tokens per 5h", At: testNow})
	h.waitFor("ci shows as spent", func() bool { return slices.Contains(tokenTexts(h.w), "Spent until 13:05") })
	if texts := tokenTexts(h.w); !slices.Contains(texts, "500/500 requests, 1.3M/2M tokens per 5h · resets 13:05") {
		t.Errorf("ci's use is not the daemon's; the table shows %q", texts)
	}
}

// While the Proxy tab shows, each tick reads the tokens' use again.
func TestTokensReadAgainWhileShown(t *testing.T) {
	b := limitedBackend()
	h := newHarness(t, b, Options{})
	h.w.tabs.Select(h.w.proxy.item)
	h.settle()

	setWindow(b, "tok-2", 400, 1_500_000)
	h.w.tick()
	h.settle()
	if texts := tokenTexts(h.w); !slices.Contains(texts, "400/500 requests, 1.5M/2M tokens per 5h · resets 13:05") {
		t.Errorf("the table shows %q, want ci's new use", texts)
	}
}

func TestLimitsInput(t *testing.T) {
	h5 := control.Period(5 * time.Hour)
	for _, tt := range []struct {
		name    string
		in      limitsInput
		want    control.Limits
		wantErr string
	}{
		{"none", limitsInput{Per: "5h"}, control.Limits{}, ""},
		{"counts as typed", limitsInput{"500", "2M", "1.5B", "7d"}, control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, MaxCacheReads: 1_500_000_000, Per: control.Period(7 * 24 * time.Hour)}, ""},
		{"none typed", limitsInput{"none", " 500k ", "", "5h"}, control.Limits{MaxTokens: 500_000, Per: h5}, ""},
		{"window without limits is left out", limitsInput{Per: "nonsense"}, control.Limits{}, ""},
		{"bad count", limitsInput{"500", "2x", "", "5h"}, control.Limits{}, `Max tokens: invalid count "2x"`},
		{"bad cache reads", limitsInput{"", "", "-5", "5h"}, control.Limits{}, `Max cache reads: invalid count "-5"`},
		{"bad window", limitsInput{"500", "", "", "30s"}, control.Limits{}, `Window: invalid window "30s": shorter than a minute`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.limits()
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("limits() error = %v, want one starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("limits() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
	if got, want := inputOf(ciLimits), (limitsInput{"500", "2M", "", "5h"}); got != want {
		t.Errorf("inputOf = %+v, want %+v", got, want)
	}
	if got, want := inputOf(control.Limits{}), (limitsInput{Per: "5h"}); got != want {
		t.Errorf("inputOf(no limits) = %+v, want %+v", got, want)
	}
}

func TestLimitsUpdate(t *testing.T) {
	d1 := control.Period(24 * time.Hour)
	for _, tt := range []struct {
		name      string
		old, next control.Limits
		want      control.TokenUpdate
	}{
		{"same", ciLimits, ciLimits, control.TokenUpdate{}},
		{"one raised", ciLimits, control.Limits{MaxRequests: 600, MaxTokens: 2_000_000, Per: ciLimits.Per}, control.TokenUpdate{MaxRequests: ptr(int64(600))}},
		{"all removed", ciLimits, control.Limits{}, control.TokenUpdate{MaxRequests: ptr(int64(0)), MaxTokens: ptr(int64(0))}},
		{"first limits", control.Limits{}, control.Limits{MaxCacheReads: 50, Per: d1}, control.TokenUpdate{MaxCacheReads: ptr(int64(50)), Per: &d1}},
		{"window only", ciLimits, control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: d1}, control.TokenUpdate{Per: &d1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := limitsUpdate(tt.old, tt.next); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("limitsUpdate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExpiryChoices(t *testing.T) {
	tok := control.Token{ExpiresAt: at(28 * 24 * time.Hour)}
	if got := expiryChoices(tok, testNow)[0]; got != "Keep: expires 7 Apr 2026" {
		t.Errorf("first choice = %q", got)
	}
	if got := expiryChoices(control.Token{}, testNow)[0]; got != "Keep: never expires" {
		t.Errorf("first choice without expiry = %q", got)
	}
	for _, tt := range []struct {
		name   string
		tok    control.Token
		choice string
		want   control.TokenUpdate
	}{
		{"keep", tok, "Keep: expires 7 Apr 2026", control.TokenUpdate{}},
		{"never", tok, "Never expires", control.TokenUpdate{NeverExpires: true}},
		{"never already", control.Token{}, "Never expires", control.TokenUpdate{}},
		{"7 days from now", tok, "7 days", control.TokenUpdate{ExpiresAt: at(7 * 24 * time.Hour)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var u control.TokenUpdate
			expiryUpdate(&u, tt.tok, tt.choice, testNow)
			if !reflect.DeepEqual(u, tt.want) {
				t.Errorf("expiryUpdate = %+v, want %+v", u, tt.want)
			}
		})
	}
}
