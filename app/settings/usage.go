package settings

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/tint"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// The Usage tab: for the last seven days, one card per account with its
// totals, its peaks and a bar chart of its requests per day, or one card
// per client token (By client token). It is read when the tab is shown,
// when the view changes and when Refresh is pressed.

// usageTab is the Usage tab; it holds no settings (no Apply there).
type usageTab struct {
	w *Window

	item    *container.TabItem
	by      *widget.RadioGroup // usageViews
	since   *widget.RichText
	about   *widget.RichText
	refresh *widget.Button
	err     *widget.Label
	list    *fyne.Container
	empty   *widget.RichText
	rows    []*usageRow // the cards shown (for tests)
	seq     int         // the latest load; older answers are dropped
}

// The views of the Usage tab, as its switch names them.
const (
	viewAccounts = "By account"
	viewTokens   = "By client token"
)

// byToken reports whether the tab shows the client tokens.
func (u *usageTab) byToken() bool { return u.by.Selected == viewTokens }

// usageRow is one account's card.
type usageRow struct {
	usage  accountUsage
	name   *widget.Label
	totals *widget.RichText
	peaks  *widget.RichText
	chart  *barChart
	box    fyne.CanvasObject
}

func newUsageTab(w *Window) *usageTab {
	u := &usageTab{w: w}
	u.item = newTab("Usage", u.buildUI())
	return u
}

func (u *usageTab) tabItem() *container.TabItem { return u.item }

func (u *usageTab) buildUI() fyne.CanvasObject {
	u.since = newHint("")
	u.refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), u.load)
	u.by = widget.NewRadioGroup([]string{viewAccounts, viewTokens}, func(string) { u.load() })
	u.by.Horizontal = true
	u.by.Required = true
	u.by.Selected = viewAccounts
	u.err = newErrorLabel()
	u.list = container.NewVBox()
	u.about = newHint(usageAbout(false))
	u.empty = newHint(usageEmpty(false))
	u.empty.Hide()
	return page(
		container.NewBorder(nil, nil, newHeading("Last 7 days"), container.NewVBox(u.refresh), container.NewVBox(layout.NewSpacer(), u.since, layout.NewSpacer())),
		container.NewHBox(u.by),
		u.about,
		u.err,
		u.list,
		u.empty,
	)
}

// load asks the daemon for the last seven days and shows them.
func (u *usageTab) load() {
	u.seq++
	seq := u.seq
	now := u.w.opts.Now()
	days := usageDays(now, usageDayCount)
	byToken := u.byToken()
	by := control.UsageByAccount
	if byToken {
		by = control.UsageByToken
	}
	setText(u.about, hint(usageAbout(byToken)))
	u.refresh.Disable()
	u.w.async(func(ctx context.Context) func() {
		hist, err := u.w.d.UsageBy(ctx, days[0], control.StepDay, by)
		return func() {
			if seq != u.seq {
				return
			}
			u.refresh.Enable()
			switch {
			case errors.Is(err, control.ErrUnreachable):
				setError(u.err, "MaxRouter is not running: its usage history shows here once it runs again.")
				return
			case errors.Is(err, control.ErrNotFound):
				setError(u.err, "The running daemon keeps no usage history: restart it with this version of MaxRouter.")
				return
			case err != nil:
				setError(u.err, "Could not read the usage history: "+err.Error())
				return
			}
			setError(u.err, "")
			u.show(hist, days, now, byToken)
		}
	})
}

// show lays out one card per account (or per client token), or the empty
// state when the history holds nothing for these days.
func (u *usageTab) show(hist control.Usage, days []time.Time, now time.Time, byToken bool) {
	setText(u.since, hint(usageSinceText(days[0], now)))
	u.rows = nil
	u.list.Objects = nil
	if len(hist.Buckets) == 0 {
		setText(u.empty, hint(usageEmpty(byToken)))
		u.empty.Show()
		u.list.Refresh()
		return
	}
	u.empty.Hide()
	var sums []accountUsage
	if byToken {
		sums = summarizeTokenUsage(hist, u.w.proxy.tokens, days)
	} else {
		var order []string
		for _, a := range u.w.base.Accounts {
			order = append(order, a.Name)
		}
		sums = summarizeUsage(hist, order, days)
	}
	scale := usageMax(sums)
	labels := dayLabels(days)
	for _, s := range sums {
		r := newUsageRow(s, labels, scale)
		u.rows = append(u.rows, r)
		u.list.Add(r.box)
	}
	u.list.Refresh()
}

func newUsageRow(s accountUsage, labels []string, scale int64) *usageRow {
	r := &usageRow{usage: s}
	r.name = widget.NewLabel(s.Name)
	r.name.TextStyle = fyne.TextStyle{Bold: true}
	r.totals = widget.NewRichText(&widget.TextSegment{Text: usageTotalsText(s), Style: widget.RichTextStyle{Inline: true}})
	if s.Extra > 0 {
		// The part on extra usage in the warning colour: it costs money.
		text := usageTotalsText(s)
		i := strings.LastIndex(text, "   ·   ")
		r.totals.Segments = []widget.RichTextSegment{
			&widget.TextSegment{Text: text[:i], Style: widget.RichTextStyle{Inline: true}},
			&widget.TextSegment{Text: text[i:], Style: widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameWarning}},
		}
	}
	r.totals.Wrapping = fyne.TextWrapWord
	r.peaks = newHint(usagePeaksText(s))
	r.peaks.Wrapping = fyne.TextWrapOff
	if s.Token != "" {
		r.peaks.Hide() // Anthropic's windows are the accounts'
	}
	r.chart = newBarChart(s.PerDay, labels, scale)
	text := container.New(layout.NewCustomPaddedVBoxLayout(0), container.NewHBox(r.name, r.peaks), r.totals)
	body := container.NewBorder(nil, nil, nil, container.NewCenter(r.chart), text)
	r.box = container.NewStack(tint.NewPanel(theme.ColorNameInputBackground, 1), container.NewPadded(body))
	return r
}

// barChart draws counts as vertical bars (canvas.Rectangle), one per day,
// scaled so that scale fills the height, each with its count above it and
// its label below.
type barChart struct {
	widget.BaseWidget
	values []int64
	labels []string
	scale  int64
}

// Bar chart geometry.
const (
	barColumn = 34 // width of a day's column
	barWidth  = 18
	barHeight = 44 // height of a full bar
)

func newBarChart(values []int64, labels []string, scale int64) *barChart {
	c := &barChart{values: values, labels: labels, scale: scale}
	c.ExtendBaseWidget(c)
	return c
}

// fraction is how much of the height bar i fills.
func (c *barChart) fraction(i int) float32 {
	if c.scale <= 0 || c.values[i] <= 0 {
		return 0
	}
	return min(float32(c.values[i])/float32(c.scale), 1)
}

// CreateRenderer implements fyne.Widget.
func (c *barChart) CreateRenderer() fyne.WidgetRenderer {
	r := &barChartRenderer{c: c, base: canvas.NewRectangle(nil)}
	for i := range c.values {
		r.bars = append(r.bars, canvas.NewRectangle(nil))
		r.counts = append(r.counts, canvas.NewText("", nil))
		r.days = append(r.days, canvas.NewText(c.labels[i], nil))
	}
	r.objs = append(r.objs, r.base)
	for i := range r.bars {
		r.objs = append(r.objs, r.bars[i], r.counts[i], r.days[i])
	}
	r.Refresh()
	return r
}

type barChartRenderer struct {
	c      *barChart
	base   *canvas.Rectangle // the baseline
	bars   []*canvas.Rectangle
	counts []*canvas.Text // above each bar; "" for none
	days   []*canvas.Text
	objs   []fyne.CanvasObject
}

func (r *barChartRenderer) textHeight() float32 {
	th := r.c.Theme()
	return fyne.MeasureText("0", th.Size(theme.SizeNameCaptionText), fyne.TextStyle{}).Height
}

func (r *barChartRenderer) MinSize() fyne.Size {
	return fyne.NewSize(float32(len(r.bars)*barColumn), 2*r.textHeight()+barHeight+4)
}

func (r *barChartRenderer) Layout(size fyne.Size) {
	th := r.textHeight()
	top := th + 2
	bottom := top + barHeight
	r.base.Move(fyne.NewPos(0, bottom))
	r.base.Resize(fyne.NewSize(float32(len(r.bars)*barColumn), 1))
	for i, b := range r.bars {
		x := float32(i * barColumn)
		h := barHeight * r.c.fraction(i)
		if h > 0 && h < 2 {
			h = 2 // a request is never invisible
		}
		b.Move(fyne.NewPos(x+(barColumn-barWidth)/2, bottom-h))
		b.Resize(fyne.NewSize(barWidth, h))
		cs := r.counts[i].MinSize()
		r.counts[i].Move(fyne.NewPos(x+(barColumn-cs.Width)/2, bottom-h-cs.Height-1))
		ds := r.days[i].MinSize()
		r.days[i].Move(fyne.NewPos(x+(barColumn-ds.Width)/2, bottom+3))
	}
}

func (r *barChartRenderer) Refresh() {
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	caption := th.Size(theme.SizeNameCaptionText)
	r.base.FillColor = th.Color(theme.ColorNameSeparator, v)
	for i, b := range r.bars {
		b.FillColor = th.Color(theme.ColorNamePrimary, v)
		b.CornerRadius = 2
		count := ""
		if r.c.values[i] > 0 {
			count = words.Approx(r.c.values[i])
		}
		r.counts[i].Text = count
		r.counts[i].TextSize = caption
		r.counts[i].Color = th.Color(theme.ColorNamePlaceHolder, v)
		r.days[i].Text = r.c.labels[i]
		r.days[i].TextSize = caption
		r.days[i].Color = th.Color(theme.ColorNameForeground, v)
	}
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *barChartRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *barChartRenderer) Destroy()                     {}
