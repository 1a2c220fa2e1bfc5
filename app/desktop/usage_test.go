//go:build !headless

package desktop

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/wait"
)

// UsageBy implements settings.Daemon for the test app.
func (s *switchDaemon) UsageBy(ctx context.Context, since time.Time, step, by string) (control.Usage, error) {
	c, err := s.get()
	if err != nil {
		return control.Usage{}, err
	}
	return c.UsageBy(ctx, since, step, by)
}

// realisticUsage is a week of history ending today: work busy every day
// but Saturday, personal through its limits, side until its login expired.
func realisticUsage(now time.Time) control.Usage {
	now = now.Local()
	day := func(back int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day()-back, 0, 0, 0, 0, time.Local)
	}
	peak := func(v float64) *float64 { return &v }
	var buckets []control.UsageBucket
	add := func(name string, requests []int64, tokensPer int64, limited []int64, five, seven []float64) {
		for i, n := range requests {
			if n == 0 {
				continue
			}
			b := control.UsageBucket{
				Start: day(len(requests) - 1 - i), Account: name, Requests: n,
				InputTokens: n * tokensPer, OutputTokens: n * tokensPer / 9, CacheReadTokens: n * tokensPer * 6,
				RateLimited: limited[i],
			}
			if five[i] > 0 {
				b.FiveHourPeak, b.SevenDayPeak = peak(five[i]), peak(seven[i])
			}
			buckets = append(buckets, b)
		}
	}
	add("work", []int64{212, 340, 95, 0, 18, 410, 156}, 2_300, make([]int64, 7),
		[]float64{0.38, 0.71, 0.22, 0, 0.05, 0.83, 0.42}, []float64{0.09, 0.14, 0.15, 0, 0.15, 0.21, 0.23})
	add("personal", []int64{60, 120, 301, 280, 0, 0, 41}, 3_100, []int64{0, 0, 4, 2, 0, 0, 1},
		[]float64{0.2, 0.55, 1.0, 1.0, 0, 0, 1.0}, []float64{0.31, 0.38, 0.52, 0.6, 0, 0, 0.61})
	add("side", []int64{35, 12, 0, 0, 0, 0, 0}, 1_800, make([]int64, 7),
		[]float64{0.12, 0.04, 0, 0, 0, 0, 0}, []float64{0.4, 0.41, 0, 0, 0, 0, 0})
	// Past its 5-hour limit, some of personal's answers were billed to
	// paid extra usage.
	for i, b := range buckets {
		if b.Account == "personal" && b.FiveHourPeak != nil && *b.FiveHourPeak >= 1 {
			buckets[i].ExtraUsageRequests = b.RateLimited * 3
		}
	}
	slices.SortStableFunc(buckets, func(a, b control.UsageBucket) int { return a.Start.Compare(b.Start) })
	return control.Usage{Step: control.StepDay, Since: day(6), Buckets: buckets}
}

// TestUsageTabWindow opens the real settings window on its Usage tab with a
// week of realistic history, waits until it shows the charts and checks
// the rendered pixels are not blank. With MAXROUTER_USAGE_SCREENSHOT=file.png
// it saves the window as a PNG (see TestSettingsWindow):
//
//	MAXROUTER_USAGE_SCREENSHOT=$PWD/docs/usage.png dbus-run-session -- \
//	  xvfb-run -a -s "-screen 0 1280x800x24" go test -run TestUsageTabWindow ./app/desktop
func TestUsageTabWindow(t *testing.T) {
	needGUI(t)
	now := time.Now()
	backend := &controltest.Backend{}
	cfg := config.Default()
	cfg.Accounts = []config.Account{
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "personal", Dir: "~/.claude-personal"},
		{Name: "side", Dir: "~/.claude-side"},
	}
	backend.ConfigValue = cfg
	backend.AccountList = realisticAccounts(now)
	backend.UsageValue = realisticUsage(now)
	backend.TokenList = realisticTokens(now)
	backend.TokenUsageValue = realisticTokenUsage(now)
	showSettings(t, backend)
	wait.For(t, "the settings window to load", func() bool {
		var texts []string
		fyne.DoAndWait(func() {
			if w := settingsWindow(); w != nil && w.Content() != nil {
				texts = collectTexts(w.Content(), nil)
			}
		})
		return slices.Contains(texts, "side")
	})
	fyne.DoAndWait(func() {
		tabs := findTabs(settingsWindow().Content())
		if tabs == nil {
			t.Error("the settings window has no tabs")
			return
		}
		for _, it := range tabs.Items {
			if it.Text == "Usage" {
				tabs.Select(it)
			}
		}
	})

	var texts []string
	wait.For(t, "the Usage tab to show the history", func() bool {
		fyne.DoAndWait(func() {
			texts = nil
			if w := settingsWindow(); w != nil {
				texts = collectTexts(w.Content(), texts)
			}
		})
		return slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "1231 requests") }) &&
			slices.Contains(texts, "Peak use: 5-hour 100%, 7-day 61%")
	})

	captureWindow(t, settingsTitle, 600, 400, os.Getenv("MAXROUTER_USAGE_SCREENSHOT"))

	// By client token (MAXROUTER_USAGE_TOKENS_SCREENSHOT saves it).
	fyne.DoAndWait(func() {
		by := findRadio(settingsWindow().Content(), "By client token")
		if by == nil {
			t.Error("the Usage tab has no view switch")
			return
		}
		by.SetSelected("By client token")
	})
	wait.For(t, "the Usage tab to show the history by client token", func() bool {
		fyne.DoAndWait(func() {
			texts = nil
			if w := settingsWindow(); w != nil {
				texts = collectTexts(w.Content(), texts)
			}
		})
		return slices.Contains(texts, "overnight agent") && slices.ContainsFunc(texts, func(s string) bool { return strings.HasSuffix(s, "refused (budget spent)") })
	})
	captureWindow(t, settingsTitle, 600, 400, os.Getenv("MAXROUTER_USAGE_TOKENS_SCREENSHOT"))
	fyne.DoAndWait(func() { findRadio(settingsWindow().Content(), "By account").SetSelected("By account") })
}

// realisticTokenUsage is a week of history by client token ending today:
// the tray's token every day, the CI runner on weekdays, the agent
// overnight and refused once its budget was spent.
func realisticTokenUsage(now time.Time) control.Usage {
	now = now.Local()
	day := func(back int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day()-back, 0, 0, 0, 0, time.Local)
	}
	labels := map[string]string{}
	for _, t := range realisticTokens(now) {
		labels[t.ID] = t.Label
	}
	var buckets []control.UsageBucket
	add := func(id string, requests, refused []int64, tokensPer int64) {
		for i, n := range requests {
			if n == 0 && refused[i] == 0 {
				continue
			}
			buckets = append(buckets, control.UsageBucket{
				Start: day(len(requests) - 1 - i), Token: id, Label: labels[id], Requests: n, RateLimited: refused[i],
				InputTokens: n * tokensPer, OutputTokens: n * tokensPer / 8, CacheReadTokens: n * tokensPer * 5,
			})
		}
	}
	add("3f9a1c2b", []int64{180, 240, 95, 20, 12, 310, 140}, make([]int64, 7), 2_100)
	add("81c0d4e5", []int64{120, 160, 0, 0, 140, 180, 312}, make([]int64, 7), 3_900)
	add("c77e02aa", []int64{0, 0, 610, 720, 0, 905, 1_840}, []int64{0, 0, 0, 45, 0, 12, 230}, 2_800)
	add("0d15ea5e", []int64{35, 0, 0, 0, 0, 0, 0}, make([]int64, 7), 1_500) // revoked and forgotten since
	slices.SortStableFunc(buckets, func(a, b control.UsageBucket) int { return a.Start.Compare(b.Start) })
	return control.Usage{Step: control.StepDay, Since: day(6), Buckets: buckets}
}

// findRadio returns the first RadioGroup under o, in every tab, that
// offers option; call it on the UI goroutine.
func findRadio(o fyne.CanvasObject, option string) *widget.RadioGroup {
	switch v := o.(type) {
	case *widget.RadioGroup:
		if slices.Contains(v.Options, option) {
			return v
		}
	case *container.AppTabs:
		for _, it := range v.Items {
			if r := findRadio(it.Content, option); r != nil {
				return r
			}
		}
	case *container.Scroll:
		return findRadio(v.Content, option)
	case *fyne.Container:
		for _, c := range v.Objects {
			if r := findRadio(c, option); r != nil {
				return r
			}
		}
	}
	return nil
}

// findTabs returns the first AppTabs under o; call it on the UI goroutine.
func findTabs(o fyne.CanvasObject) *container.AppTabs {
	switch v := o.(type) {
	case *container.AppTabs:
		return v
	case *fyne.Container:
		for _, c := range v.Objects {
			if t := findTabs(c); t != nil {
				return t
			}
		}
	}
	return nil
}
