package settings

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// day is local midnight of the fixtures' March day d.
func day(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.Local) }

// fixtureUsage is a week of history ending testNow (Tue 10 Mar): work busy,
// personal once, side never, and "old", an account no longer configured.
func fixtureUsage() control.Usage {
	return control.Usage{Step: control.StepDay, Since: day(4), Buckets: []control.UsageBucket{
		{Start: day(4), Account: "work", Requests: 120, RateLimited: 2, InputTokens: 12_300, OutputTokens: 4_500, CacheReadTokens: 1_200_000, FiveHourPeak: ptr(0.42), SevenDayPeak: ptr(0.18)},
		{Start: day(5), Account: "old", Requests: 5, InputTokens: 100, OutputTokens: 50},
		{Start: day(9), Account: "work", Requests: 300, InputTokens: 2_000_000, OutputTokens: 100_000, FiveHourPeak: ptr(0.97), SevenDayPeak: ptr(0.35)},
		{Start: day(10), Account: "personal", Requests: 87, Errors: 1, ExtraUsageRequests: 3},
		{Start: day(10), Account: "work", Requests: 60, InputTokens: 7_700, OutputTokens: 500, FiveHourPeak: ptr(0.12)},
	}}
}

// showUsageTab selects the Usage tab and waits for the history.
func (h *harness) showUsageTab() {
	h.t.Helper()
	h.w.tabs.Select(h.w.usage.item)
	h.settle()
}

func usageCalls(b *controltest.Backend) []controltest.UsageCall {
	b.Lock()
	defer b.Unlock()
	return slices.Clone(b.Usages)
}

// askingDaemon is a daemon that records what the window passed to Usage
// (the control server moves a since older than 90 days before the real
// clock forward, and the fixtures live in March 2026).
type askingDaemon struct {
	*control.Client
	mu    sync.Mutex
	calls []controltest.UsageCall
}

func (d *askingDaemon) UsageBy(ctx context.Context, since time.Time, step, by string) (control.Usage, error) {
	d.mu.Lock()
	d.calls = append(d.calls, controltest.UsageCall{Since: since, Step: step, By: by})
	d.mu.Unlock()
	return d.Client.UsageBy(ctx, since, step, by)
}

func (d *askingDaemon) asked() []controltest.UsageCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// near reports whether two heights agree to a hundredth of a pixel.
func near(a, b float32) bool { return math.Abs(float64(a-b)) < 0.01 }

func TestUsageTab(t *testing.T) {
	b := newBackend()
	b.UsageValue = fixtureUsage()
	var d *askingDaemon
	h := newHarness(t, b, Options{}, func(c *control.Client) Daemon {
		d = &askingDaemon{Client: c}
		return d
	})
	w := h.w
	if got := d.asked(); len(got) != 0 {
		t.Fatalf("usage read before its tab was shown: %v", got)
	}

	h.showUsageTab()

	calls := d.asked()
	if len(calls) != 1 {
		t.Fatalf("Usage calls = %v, want one", calls)
	}
	if got, want := calls[0].Since, day(4); !got.Equal(want) {
		t.Errorf("Usage since = %v, want %v (local midnight six days before today)", got, want)
	}
	if got, want := calls[0].Step, control.StepDay; got != want {
		t.Errorf("Usage step = %q, want %q", got, want)
	}

	type row struct {
		name, totals, peaks string
		perDay              []int64
	}
	var got []row
	for _, r := range w.usage.rows {
		got = append(got, row{r.name.Text, r.totals.String(), r.peaks.String(), r.chart.values})
	}
	want := []row{
		{"work", "480 requests   ·   2.0M input, 105k output tokens   ·   2 rate limited (429)", "Peak use: 5-hour 97%, 7-day 35%", []int64{120, 0, 0, 0, 0, 300, 60}},
		{"personal", "87 requests   ·   1 error   ·   3 billed to extra usage", "Peak use: 5-hour –, 7-day –", []int64{0, 0, 0, 0, 0, 0, 87}},
		{"side", "No requests", "Peak use: 5-hour –, 7-day –", []int64{0, 0, 0, 0, 0, 0, 0}},
		{"team", "No requests", "Peak use: 5-hour –, 7-day –", []int64{0, 0, 0, 0, 0, 0, 0}},
		{"old", "5 requests   ·   100 input, 50 output tokens", "Peak use: 5-hour –, 7-day –", []int64{0, 5, 0, 0, 0, 0, 0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("usage rows =\n%+v\nwant\n%+v", got, want)
	}
	if w.usage.empty.Visible() {
		t.Error("empty-state text shown beside a history")
	}
	objs := objects(w)
	if !hasLabel(objs, "Requests per day since Wed 4 Mar   ·   updated 12:19") {
		t.Errorf("no since line; labels: %q", labelTexts(objs))
	}

	// The bars share one scale: work's 300 fills the height.
	chart := w.usage.rows[0].chart
	bars := chartBars(t, chart)
	if len(bars) != 7 {
		t.Fatalf("work's chart has %d bars, want 7", len(bars))
	}
	if got, want := bars[5].Size().Height, float32(barHeight); !near(got, want) {
		t.Errorf("bar of the busiest day is %v high, want %v", got, want)
	}
	if got, want := bars[0].Size().Height, float32(barHeight)*120/300; !near(got, want) {
		t.Errorf("bar of 120 requests is %v high, want %v", got, want)
	}
	if got := bars[1].Size().Height; got != 0 {
		t.Errorf("bar of a day without requests is %v high, want 0", got)
	}
	if got, want := chartTexts(t, chart), []string{"120", "Wed", "", "Thu", "", "Fri", "", "Sat", "", "Sun", "300", "Mon", "60", "Tue"}; !slices.Equal(got, want) {
		t.Errorf("chart texts = %q, want %q", got, want)
	}
	pb := chartBars(t, w.usage.rows[1].chart)
	if got, want := pb[6].Size().Height, float32(barHeight)*87/300; !near(got, want) {
		t.Errorf("personal's bar of 87 requests is %v high, want %v (work's scale)", got, want)
	}
}

func TestUsageRefresh(t *testing.T) {
	b := newBackend()
	h := newHarness(t, b, Options{})
	w := h.w
	h.showUsageTab()

	if !w.usage.empty.Visible() {
		t.Error("empty-state text not shown for an empty history")
	}
	if len(w.usage.rows) != 0 {
		t.Errorf("%d usage rows for an empty history, want none", len(w.usage.rows))
	}
	if s, ok := findLabelContaining(objects(w), "No usage recorded in the last 7 days."); !ok {
		t.Errorf("no empty-state text; labels: %q", labelTexts(objects(w)))
	} else if !w.usage.empty.Visible() {
		t.Errorf("empty-state text %q hidden", s)
	}

	b.SetUsage(fixtureUsage())
	test.Tap(w.usage.refresh)
	h.settle()
	if got := len(usageCalls(b)); got != 2 {
		t.Errorf("Usage calls after Refresh = %d, want 2", got)
	}
	if w.usage.empty.Visible() {
		t.Error("empty-state text still shown after the history arrived")
	}
	if got := len(w.usage.rows); got != 5 {
		t.Errorf("usage rows after Refresh = %d, want 5", got)
	}

	// Showing the tab again reads again.
	w.tabs.SelectIndex(0)
	h.showUsageTab()
	if got := len(usageCalls(b)); got != 3 {
		t.Errorf("Usage calls after showing the tab again = %d, want 3", got)
	}
}

func TestUsageDaemonAway(t *testing.T) {
	h := build(t, newBackend(), Options{})
	h.d.Kill()
	h.serve()
	h.w.Show()
	h.settle()
	w := h.w
	h.showUsageTab()
	h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })
	if w.usage.empty.Visible() || len(w.usage.rows) != 0 {
		t.Error("the Usage tab claims an empty history while the daemon is away")
	}
	if got, want := w.usage.err.Text, "MaxRouter is not running: its usage history shows here once it runs again."; got != want {
		t.Errorf("usage error = %q, want %q", got, want)
	}
	if w.usage.refresh.Disabled() {
		t.Error("Refresh stays disabled after the call failed")
	}
}

func TestUsageError(t *testing.T) {
	h := newHarness(t, newBackend(), Options{}, func(c *control.Client) Daemon {
		return &usageErrDaemon{Client: c, err: fmt.Errorf("GET usage: %w", control.ErrNotFound)}
	})
	w := h.w
	h.showUsageTab()
	if got, want := w.usage.err.Text, "The running daemon keeps no usage history: restart it with this version of MaxRouter."; got != want || !w.usage.err.Visible() {
		t.Errorf("error = %q (visible %v), want %q", got, w.usage.err.Visible(), want)
	}
}

// usageErrDaemon is a daemon whose UsageBy fails with err.
type usageErrDaemon struct {
	*control.Client
	err error
}

func (d *usageErrDaemon) UsageBy(context.Context, time.Time, string, string) (control.Usage, error) {
	return control.Usage{}, d.err
}

// chartBars returns the bars a chart draws.
func chartBars(t *testing.T, c *barChart) []*canvas.Rectangle {
	t.Helper()
	r, ok := test.WidgetRenderer(c).(*barChartRenderer)
	if !ok {
		t.Fatal("bar chart has another renderer")
	}
	return r.bars
}

// chartTexts returns each day's count and label, in order.
func chartTexts(t *testing.T, c *barChart) []string {
	t.Helper()
	r := test.WidgetRenderer(c).(*barChartRenderer)
	var out []string
	for i := range r.bars {
		out = append(out, r.counts[i].Text, r.days[i].Text)
	}
	return out
}

func TestSummarizeUsage(t *testing.T) {
	days := usageDays(testNow, 7)
	got := summarizeUsage(fixtureUsage(), []string{"side", "work"}, days)
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if want := []string{"side", "work", "old", "personal"}; !slices.Equal(names, want) {
		t.Errorf("rows = %q, want %q (configured first, then the others by name)", names, want)
	}
	w := got[1]
	if w.Requests != 480 || w.RateLimited != 2 || w.Input != 2_020_000 || w.Output != 105_000 || w.Cached != 1_200_000 {
		t.Errorf("work totals = %+v", w)
	}
	if w.FiveHourPeak == nil || *w.FiveHourPeak != 0.97 || w.SevenDayPeak == nil || *w.SevenDayPeak != 0.35 {
		t.Errorf("work peaks = %v, %v, want 0.97, 0.35", w.FiveHourPeak, w.SevenDayPeak)
	}
	if got[0].FiveHourPeak != nil || got[0].SevenDayPeak != nil {
		t.Error("side has peaks without any history")
	}
	if got := usageMax(got); got != 300 {
		t.Errorf("usageMax = %d, want 300", got)
	}
}

func TestUsageDays(t *testing.T) {
	got := usageDays(testNow, 3)
	want := []time.Time{day(8), day(9), day(10)}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("usageDays = %v, want %v", got, want)
	}
	if got, want := dayLabels(got), []string{"Sun", "Mon", "Tue"}; !slices.Equal(got, want) {
		t.Errorf("dayLabels = %q, want %q", got, want)
	}
}

func TestDayIndex(t *testing.T) {
	days := []time.Time{day(8), day(9), day(10)}
	for _, tt := range []struct {
		at   time.Time
		want int
	}{
		{day(7), -1},
		{day(8), 0},
		{day(9).Add(-time.Minute), 0},
		{day(9), 1},
		{day(10).Add(23 * time.Hour), 2},
		{day(11), -1},
		{day(10).UTC(), 2}, // as decoded from JSON: another zone, the same instant
	} {
		t.Run(tt.at.String(), func(t *testing.T) {
			if got := dayIndex(tt.at, days); got != tt.want {
				t.Errorf("dayIndex(%v) = %d, want %d", tt.at, got, tt.want)
			}
		})
	}
}

func TestUsageTexts(t *testing.T) {
	for _, tt := range []struct {
		name         string
		row          accountUsage
		totals, peak string
	}{
		{"none", accountUsage{}, "No requests", "Peak use: 5-hour –, 7-day –"},
		{"one", accountUsage{Requests: 1, FiveHourPeak: ptr(1.04)}, "1 request", "Peak use: 5-hour 104%, 7-day –"},
		{"only errors", accountUsage{Errors: 2, SevenDayPeak: ptr(0.005)}, "0 requests   ·   2 errors", "Peak use: 5-hour –, 7-day 1%"},
		{"tokens", accountUsage{Requests: 12, Input: 1500, RateLimited: 3}, "12 requests   ·   1.5k input, 0 output tokens   ·   3 rate limited (429)", "Peak use: 5-hour –, 7-day –"},
		{"extra usage", accountUsage{Requests: 12, Extra: 4}, "12 requests   ·   4 billed to extra usage", "Peak use: 5-hour –, 7-day –"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := usageTotalsText(tt.row); got != tt.totals {
				t.Errorf("usageTotalsText = %q, want %q", got, tt.totals)
			}
			if got := usagePeaksText(tt.row); got != tt.peak {
				t.Errorf("usagePeaksText = %q, want %q", got, tt.peak)
			}
		})
	}
}

// fixtureTokenUsage is the week by client token: ci busy and refused for
// its budget, laptop once, and a token no longer in the store.
func fixtureTokenUsage() control.Usage {
	return control.Usage{Step: control.StepDay, Since: day(4), Buckets: []control.UsageBucket{
		{Start: day(4), Token: "0badc0ffee123456", Requests: 40, InputTokens: 9_000, OutputTokens: 1_000},
		{Start: day(9), Token: "tok-2", Label: "ci", Requests: 500, RateLimited: 37, InputTokens: 1_500_000, OutputTokens: 300_000},
		{Start: day(10), Token: "tok-2", Label: "ci", Requests: 12, InputTokens: 20_000, OutputTokens: 4_000},
		{Start: day(10), Token: "tok-1", Label: "laptop", Requests: 3, InputTokens: 900, OutputTokens: 100},
	}}
}

func TestUsageByToken(t *testing.T) {
	b := newBackend()
	b.UsageValue = fixtureUsage()
	b.TokenUsageValue = fixtureTokenUsage()
	h := newHarness(t, b, Options{})
	w := h.w
	h.showUsageTab()

	w.usage.by.SetSelected(viewTokens)
	h.settle()
	calls := usageCalls(b)
	if last := calls[len(calls)-1]; last.By != control.UsageByToken || last.Step != control.StepDay {
		t.Errorf("last Usage call = %+v, want by token, per day", last)
	}
	type row struct {
		name, totals string
		peaks        bool
		perDay       []int64
	}
	var got []row
	for _, r := range w.usage.rows {
		got = append(got, row{r.name.Text, r.totals.String(), r.peaks.Visible(), r.chart.values})
	}
	want := []row{
		{"ci", "512 requests   ·   1.5M input, 304k output tokens   ·   37 refused (budget spent)", false, []int64{0, 0, 0, 0, 0, 500, 12}},
		{"removed token 0badc0ff…", "40 requests   ·   9.0k input, 1.0k output tokens", false, []int64{40, 0, 0, 0, 0, 0, 0}},
		{"laptop", "3 requests   ·   900 input, 100 output tokens", false, []int64{0, 0, 0, 0, 0, 0, 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token rows =\n%+v\nwant\n%+v", got, want)
	}
	if _, ok := findLabelContaining(objects(w), "refused (budget spent)” counts requests refused"); !ok {
		t.Error("the token view does not say what refused counts")
	}

	// No history by token: the view says so.
	b.SetUsage(control.Usage{})
	b.Lock()
	b.TokenUsageValue = control.Usage{Buckets: []control.UsageBucket{}}
	b.Unlock()
	test.Tap(w.usage.refresh)
	h.settle()
	if !w.usage.empty.Visible() || !strings.HasPrefix(w.usage.empty.String(), "No client token sent requests") {
		t.Errorf("empty token view says %q (visible %v)", w.usage.empty.String(), w.usage.empty.Visible())
	}

	// Back by account.
	b.SetUsage(fixtureUsage())
	w.usage.by.SetSelected(viewAccounts)
	h.settle()
	if len(w.usage.rows) != 5 || w.usage.rows[0].name.Text != "work" || !w.usage.rows[0].peaks.Visible() {
		t.Errorf("back by account: %d rows, want the 5 accounts with peaks", len(w.usage.rows))
	}
}
