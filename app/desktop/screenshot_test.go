//go:build !headless

package desktop

import (
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/wait"
)

// TestSettingsWindow opens the real settings window (GLFW, under Xvfb in
// CI) on a daemon with four realistic accounts, waits until it shows
// them, and checks the rendered pixels are not blank. With
// MAXROUTER_SCREENSHOT=file.png it also saves the window as a PNG:
//
//	MAXROUTER_SCREENSHOT=$PWD/docs/settings.png dbus-run-session -- \
//	  xvfb-run -a -s "-screen 0 1280x800x24" go test -run TestSettingsWindow ./app/desktop
func TestSettingsWindow(t *testing.T) {
	needGUI(t)
	now := time.Now()
	backend := &controltest.Backend{}
	cfg := config.Default()
	cfg.Accounts = []config.Account{
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "team", Dir: "~/.claude-team"},
		{Name: "personal", Dir: "~/.claude-personal"},
		{Name: "side", Dir: "~/.claude-side"},
	}
	backend.ConfigValue = cfg
	// Quota read by the daemon for every account: team has served no
	// request yet, and its login ends within the week.
	in := func(d time.Duration) *time.Time { t := now.Add(d).Truncate(time.Minute); return &t }
	accounts := realisticAccounts(now)
	for i := range accounts[:2] {
		accounts[i].Quota = &control.Quota{CheckedAt: in(-time.Minute), NextAt: in(4 * time.Minute)}
		accounts[i].FiveHour.AsOf, accounts[i].SevenDay.AsOf = in(-time.Minute), in(-time.Minute)
	}
	backend.AccountList = append(accounts, control.Account{
		Name: "team", Dir: "~/.claude-team", State: control.StateAvailable, Subscription: "team",
		FiveHour:       control.Window{Utilization: 0.07, ResetsAt: in(3*time.Hour + 40*time.Minute), AsOf: in(-3 * time.Minute)},
		SevenDay:       control.Window{Utilization: 0.31, ResetsAt: in(5*24*time.Hour + 6*time.Hour), AsOf: in(-3 * time.Minute)},
		Quota:          &control.Quota{CheckedAt: in(-3 * time.Minute), NextAt: in(2 * time.Minute)},
		LoginExpiresAt: in(4*24*time.Hour + 5*time.Hour), TokenExpiresAt: in(7 * time.Hour),
	})
	created := now.Add(-36 * time.Hour)
	backend.TokenList = []control.Token{
		{ID: "tok-1", Label: "laptop (tray)", Prefix: "la_sk_3f9a", CreatedAt: created},
		{ID: "tok-2", Label: "ci runner", Prefix: "la_sk_81c0", CreatedAt: created.Add(2 * time.Hour)},
	}
	showSettings(t, backend)

	var texts []string
	wait.For(t, "the settings window to show the accounts", func() bool {
		fyne.DoAndWait(func() {
			texts = nil
			if w := settingsWindow(); w != nil && w.Content() != nil {
				texts = collectTexts(w.Content(), texts)
			}
		})
		return slices.Contains(texts, "team") &&
			slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "Cooling until") }) &&
			slices.ContainsFunc(texts, func(s string) bool {
				return strings.HasPrefix(s, "Available   ·   login expires in 4 days") && strings.HasSuffix(s, "usage checked 3 min ago")
			}) &&
			slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, "resets in") })
	})
	t.Logf("settings window shows %d texts, for example %q", len(texts), texts[:min(12, len(texts))])

	captureWindow(t, settingsTitle, 600, 400, os.Getenv("MAXROUTER_SCREENSHOT"))
}

// captureWindow grabs the window titled title from the X server once two
// captures in a row agree, checks it is painted and at least minW x minH,
// and copies the PNG to save unless save is "". The GL front buffer reads
// back blank with Mesa under Xvfb, so the X server is asked for the
// window's pixels, as a person's screenshot tool would; the frame showing

// showSettings serves backend as the daemon and opens the settings window;
// when t ends the window goes back to its first tab and hides. It returns
// the client, to plug the daemon in again.
func showSettings(t *testing.T, backend *controltest.Backend) *control.Client {
	t.Helper()
	client, _ := controltest.NewServer(t, backend)
	testDaemon.plug(t, client)
	testShell.settings.Show()
	t.Cleanup(func() {
		fyne.DoAndWait(func() {
			if w := settingsWindow(); w != nil {
				if tabs := findTabs(w.Content()); tabs != nil {
					tabs.SelectIndex(0)
				}
				w.Hide()
			}
		})
	})
	return client
}

// fresh widgets is drawn at the next repaint, hence the steady check.
func captureWindow(t *testing.T, title string, minW, minH int, save string) {
	t.Helper()
	imp, err := exec.LookPath("import")
	if err != nil {
		t.Skip("ImageMagick's import is not installed: cannot capture the window")
	}
	shot := filepath.Join(t.TempDir(), "window.png")
	var img, prev image.Image
	wait.For(t, "a steady rendered frame of "+title, func() bool {
		out, err := exec.Command(imp, "-window", title, shot).CombinedOutput()
		if err != nil {
			t.Logf("import: %v: %s", err, out)
			return false
		}
		prev, img = img, nil
		img, err = readPNG(shot)
		return err == nil && colours(img) > 8 && samePixels(prev, img)
	})
	b := img.Bounds()
	if b.Dx() < minW || b.Dy() < minH {
		t.Errorf("captured %s is %dx%d, want at least %dx%d", title, b.Dx(), b.Dy(), minW, minH)
	}
	if save == "" {
		return
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(save), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(save, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s (%dx%d) to %s", title, b.Dx(), b.Dy(), save)
}

// readPNG decodes the PNG file at path.
func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// settingsWindow finds the settings window among the app's windows; call
// it on the UI goroutine.
func settingsWindow() fyne.Window {
	for _, w := range guiApp.Driver().AllWindows() {
		if w.Title() == settingsTitle {
			return w
		}
	}
	return nil
}

// collectTexts appends the texts of the visible stock widgets under o;
// call it on the UI goroutine.
func collectTexts(o fyne.CanvasObject, out []string) []string {
	if !o.Visible() {
		return out
	}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = collectTexts(c, out)
		}
	case *container.AppTabs:
		for _, it := range v.Items {
			out = collectTexts(it.Content, out)
		}
	case *container.Scroll:
		out = collectTexts(v.Content, out)
	case *widget.Label:
		out = append(out, v.Text)
	case *widget.Entry:
		out = append(out, v.Text)
	case *widget.RichText:
		out = append(out, v.String())
	case *widget.Button:
		out = append(out, v.Text)
	}
	return out
}

// samePixels reports whether a and b are the same image.
func samePixels(a, b image.Image) bool {
	if a == nil || b == nil || a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// colours counts the distinct colours in a sample of img's pixels: a blank
// or unpainted window has one or two.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

// windowTexts returns the visible texts of the settings window, its
// dialogs included.
func windowTexts() []string {
	var texts []string
	fyne.DoAndWait(func() {
		if w := settingsWindow(); w != nil && w.Content() != nil {
			texts = collectTexts(w.Content(), nil)
			for _, o := range w.Canvas().Overlays().List() {
				for _, x := range test.LaidOutObjects(o) {
					if x.Visible() {
						texts = collectTexts(x, texts)
					}
				}
			}
		}
	})
	return texts
}

// TestDaemonDeathBannerWindow kills the daemon under an open settings
// window (a real window under Xvfb): within 2 s the window says so and
// offers Start MaxRouter, and the banner clears itself when the daemon is
// back. With MAXROUTER_DOWN_SCREENSHOT=file.png it saves the window.
func TestDaemonDeathBannerWindow(t *testing.T) {
	needGUI(t)
	backend := &controltest.Backend{}
	cfg := config.Default()
	cfg.Accounts = []config.Account{{Name: "work", Dir: "~/.claude-work"}, {Name: "personal", Dir: "~/.claude-personal"}, {Name: "side", Dir: "~/.claude-side"}}
	backend.ConfigValue = cfg
	backend.AccountList = realisticAccounts(time.Now())
	client := showSettings(t, backend)
	hasPrefix := func(texts []string, p string) bool {
		return slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, p) })
	}
	// The window may still show what an earlier test left (the banner of
	// a daemon it unplugged) until the model has read this daemon: wait for
	// its accounts with no banner, which fails if the banner stays.
	wait.For(t, "the accounts, and no banner while the daemon runs", func() bool {
		texts := windowTexts()
		return hasPrefix(texts, "Cooling until") && !hasPrefix(texts, "MaxRouter is not running")
	})

	// The daemon dies: its event stream breaks and nothing answers.
	died := time.Now()
	testDaemon.unplug()
	backend.CloseStreams()
	wait.For(t, "the banner", func() bool {
		texts := windowTexts()
		return hasPrefix(texts, "MaxRouter is not running") && slices.Contains(texts, "Start MaxRouter")
	})
	if took := time.Since(died); took > 2*time.Second {
		t.Errorf("the banner showed %v after the daemon died, want within 2s", took)
	}
	captureWindow(t, settingsTitle, 600, 400, os.Getenv("MAXROUTER_DOWN_SCREENSHOT"))

	// It comes back: the banner goes by itself.
	testDaemon.plug(t, client)
	wait.For(t, "the banner to clear", func() bool { return !hasPrefix(windowTexts(), "MaxRouter is not running") })
}

// TestAddAccountWindow opens Add account in the real settings window: it
// offers to log in with Claude, lists the Claude Code logins found on this
// computer with their plan and token, and a folder picker. With
// MAXROUTER_ADD_SCREENSHOT=file.png it saves the window.
func TestAddAccountWindow(t *testing.T) {
	needGUI(t)
	now := time.Now()
	backend := &controltest.Backend{}
	cfg := config.Default()
	cfg.Accounts = []config.Account{{Name: "work", Dir: "~/.claude-work"}, {Name: "personal", Dir: "~/.claude-personal"}, {Name: "side", Dir: "~/.claude-side"}}
	backend.ConfigValue = cfg
	backend.AccountList = realisticAccounts(now)
	renews := now.Add(6*time.Hour + 20*time.Minute)
	loginEnds := now.Add(2*24*time.Hour + 5*time.Hour)
	backend.DirChecks = map[string]control.DirCheck{
		"~/.claude-research":   {Found: true, Subscription: "max", RateLimitTier: "default_claude_max_5x", ExpiresAt: &renews, CanRefresh: true},
		"~/.config/claude-lab": {Found: true, Subscription: "pro", ExpiresAt: &renews, CanRefresh: true, LoginExpiresAt: &loginEnds},
	}
	testFolders.set(t, "~/.claude-work", "~/.claude-research", "~/.config/claude-lab", "~/.claude-empty")
	client, _ := controltest.NewServer(t, backend)
	testDaemon.plug(t, client)
	testShell.settings.Show()
	t.Cleanup(testShell.settings.Hide)
	wait.For(t, "the accounts", func() bool { return slices.Contains(windowTexts(), "side") })

	var tapped bool
	fyne.DoAndWait(func() {
		for _, o := range test.LaidOutObjects(settingsWindow().Content()) {
			if b, ok := o.(*widget.Button); ok && b.Text == "Add account…" && !b.Disabled() {
				b.OnTapped()
				tapped = true
			}
		}
	})
	if !tapped {
		t.Fatal("no Add account… button")
	}
	wait.For(t, "the logins found", func() bool {
		texts := windowTexts()
		return slices.Contains(texts, "Log in with Claude…") && slices.Contains(texts, "~/.claude-research") &&
			slices.Contains(texts, "~/.config/claude-lab")
	})
	texts := windowTexts()
	if !slices.ContainsFunc(texts, func(s string) bool {
		return strings.HasPrefix(s, "Pro · token renews in 6 h") && strings.HasSuffix(s, " · login expires in 2 days")
	}) {
		t.Errorf("the lab login does not say when it ends; texts: %q", texts)
	}
	for _, unwanted := range []string{"~/.claude-work", "~/.claude-empty"} {
		if slices.Contains(texts, unwanted) {
			t.Errorf("Add account lists %s (in the list already, or no login)", unwanted)
		}
	}
	captureWindow(t, settingsTitle, 600, 400, os.Getenv("MAXROUTER_ADD_SCREENSHOT"))
}
