//go:build !headless

package desktop

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/desktop/welcome"
	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/wait"
)

// welcomeShell is a shell with the given service control that shows the
// welcome window; withTray makes the window offer the start, as with a
// tray (the process has one tray, testShell's, so the shell has none).
func welcomeShell(t *testing.T, svc serviceControl, withTray bool, logins []welcome.Login) (*shell, *recorder) {
	t.Helper()
	sender := &recorder{}
	sh := newShell(guiApp, shellOptions{Daemon: testDaemon, Sender: sender, Service: svc, NoTray: true,
		Logger: slog.New(slog.DiscardHandler)})
	sh.hasTray = withTray
	sh.trayHost = func(context.Context, time.Duration) bool { return withTray }
	sh.showWelcome(logins)
	t.Cleanup(func() {
		sh.wait()
		fyne.DoAndWait(func() {
			if w := welcomeWindow(); w != nil {
				w.Close()
			}
		})
	})
	return sh, sender
}

// welcomeWindow finds the welcome window; call it on the UI goroutine.
func welcomeWindow() fyne.Window {
	for _, w := range guiApp.Driver().AllWindows() {
		if w.Title() == welcome.Title {
			return w
		}
	}
	return nil
}

// welcomeTexts returns the texts of the welcome window (buttons in
// brackets) once one of them contains want, failing t after a while.
func welcomeTexts(t *testing.T, want string) []string {
	t.Helper()
	var texts []string
	wait.For(t, "the welcome window to show "+want, func() bool {
		fyne.DoAndWait(func() {
			texts = nil
			if w := welcomeWindow(); w != nil && w.Content() != nil {
				texts = visibleTexts(w.Content(), nil)
			}
		})
		return slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, want) })
	})
	return texts
}

// visibleTexts appends the texts of the visible stock widgets under o,
// buttons in brackets; call it on the UI goroutine.
func visibleTexts(o fyne.CanvasObject, out []string) []string {
	if !o.Visible() {
		return out
	}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = visibleTexts(c, out)
		}
	case *widget.Label:
		out = append(out, v.Text)
	case *widget.RichText:
		out = append(out, v.String())
	case *widget.Button:
		out = append(out, "["+v.Text+"]")
	}
	return out
}

// press clicks the welcome window's button labelled text.
func press(t *testing.T, text string) {
	t.Helper()
	var found bool
	fyne.DoAndWait(func() {
		w := welcomeWindow()
		if w == nil {
			return
		}
		var b *widget.Button
		var walk func(o fyne.CanvasObject)
		walk = func(o fyne.CanvasObject) {
			switch v := o.(type) {
			case *fyne.Container:
				for _, c := range v.Objects {
					walk(c)
				}
			case *widget.Button:
				if v.Text == text && v.Visible() && !v.Disabled() {
					b = v
				}
			}
		}
		walk(w.Content())
		if b != nil {
			found = true
			b.OnTapped()
		}
	})
	if !found {
		t.Fatalf("no enabled button %q in the welcome window", text)
	}
}

func TestWelcomeStartsTheServiceOnClick(t *testing.T) {
	needGUI(t)
	svc := &fakeService{usable: true, state: service.NotInstalled}
	sh, sender := welcomeShell(t, svc, true, []welcome.Login{{Name: "work", Dir: "~/.claude-work", Plan: "Max 20x"}})

	texts := welcomeTexts(t, "[Start MaxRouter]")
	for _, want := range []string{"work", "~/.claude-work", "Max 20x", "[Not now]"} {
		if !slices.Contains(texts, want) {
			t.Errorf("welcome window lacks %q: %q", want, texts)
		}
	}
	sh.welcome.Wait()
	if len(svc.calls) != 0 {
		t.Fatalf("service calls before the click = %q, want none", svc.calls)
	}

	press(t, "Start MaxRouter")
	sh.welcome.Wait()
	if want := []string{"Status", "Install", "Start"}; !slices.Equal(svc.calls, want) {
		t.Errorf("service calls = %q, want %q", svc.calls, want)
	}
	texts = welcomeTexts(t, "MaxRouter is running")
	if !slices.ContainsFunc(texts, func(s string) bool {
		return strings.HasPrefix(s, startedService+" Next: choose “Set up Claude Code” in the tray menu")
	}) {
		t.Errorf("welcome window does not say how it started and what is next: %q", texts)
	}
	if got := sender.all(); len(got) != 0 {
		t.Errorf("notifications = %q, want none: the window shows the result", got)
	}
}

func TestWelcomeNotNow(t *testing.T) {
	needGUI(t)
	svc := &fakeService{usable: true, state: service.NotInstalled}
	sh, sender := welcomeShell(t, svc, true, nil)
	texts := welcomeTexts(t, "No Claude Code login found yet")
	if !slices.ContainsFunc(texts, func(s string) bool {
		return strings.HasPrefix(s, "Choose Settings… in the tray menu, then Add account…")
	}) {
		t.Errorf("welcome window does not say how to log in: %q", texts)
	}
	press(t, "Not now")
	sh.welcome.Wait()
	if len(svc.calls) != 0 {
		t.Errorf("service calls = %q, want none", svc.calls)
	}
	if got := sender.all(); len(got) != 0 {
		t.Errorf("notifications = %q, want none", got)
	}
}

func TestWelcomeWithoutTrayStartsAtOnce(t *testing.T) {
	needGUI(t)
	svc := &fakeService{usable: false}
	sh, sender := welcomeShell(t, svc, false, []welcome.Login{{Name: "default", Dir: "~/.claude"}})
	texts := welcomeTexts(t, "MaxRouter is running")
	sh.welcome.Wait()
	if want := []string{"StartDetached"}; !slices.Equal(svc.calls, want) {
		t.Errorf("service calls = %q, want %q", svc.calls, want)
	}
	if !slices.ContainsFunc(texts, func(s string) bool {
		return strings.HasPrefix(s, startedDetached+" Next: choose “Set up Claude Code” on the Proxy tab of Settings")
	}) {
		t.Errorf("welcome window does not say how it started and what is next: %q", texts)
	}
	if got := sender.all(); len(got) != 0 {
		t.Errorf("notifications = %q, want none", got)
	}
}

// TestWelcomeWindowScreenshot opens the welcome window as the first run
// shows it with a tray and two logins, and checks the captured pixels are
// not blank. With MAXROUTER_WELCOME_SCREENSHOT=file.png it saves the
// window before and (as file-started.png) after "Start MaxRouter":
//
//	MAXROUTER_WELCOME_SCREENSHOT=$PWD/docs/welcome.png dbus-run-session -- \
//	  xvfb-run -a -s "-screen 0 1280x800x24" go test -run TestWelcomeWindowScreenshot ./app/desktop
func TestWelcomeWindowScreenshot(t *testing.T) {
	needGUI(t)
	if _, err := exec.LookPath("import"); err != nil {
		t.Skip("ImageMagick's import is not installed: cannot capture the window")
	}
	svc := &fakeService{usable: true, state: service.NotInstalled}
	sh, _ := welcomeShell(t, svc, true, []welcome.Login{
		{Name: "default", Dir: "~/.claude", Plan: "Pro"},
		{Name: "work", Dir: "~/.claude-work", Plan: "Max 20x"},
	})
	welcomeTexts(t, "[Start MaxRouter]")
	save := os.Getenv("MAXROUTER_WELCOME_SCREENSHOT")
	captureWindow(t, welcome.Title, 500, 300, save)

	press(t, "Start MaxRouter")
	sh.welcome.Wait()
	welcomeTexts(t, "MaxRouter is running")
	if save != "" {
		save = strings.TrimSuffix(save, filepath.Ext(save)) + "-started.png"
	}
	captureWindow(t, welcome.Title, 500, 300, save)
}

func TestWelcomeLogins(t *testing.T) {
	home := t.TempDir()
	work := filepath.Join(home, ".claude-work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	cred := `{"claudeAiOauth": {"accessToken": "sk-ant-oat01-test-work", "refreshToken": "sk-ant-ort01-test-work",
		"expiresAt": 1767225600000, "subscriptionType": "max", "rateLimitTier": "default_claude_max_20x"}}`
	if err := os.WriteFile(filepath.Join(work, ".credentials.json"), []byte(cred), 0o600); err != nil {
		t.Fatal(err)
	}
	got := welcomeLogins([]config.Account{
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "gone", Dir: "~/.claude-gone"}, // no credentials (any more): no plan
	}, home)
	want := []welcome.Login{
		{Name: "work", Dir: "~/.claude-work", Plan: "Max 20x"},
		{Name: "gone", Dir: "~/.claude-gone"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("welcomeLogins() = %+v, want %+v", got, want)
	}
}
