package settings

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/theme"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

// TestSnapshot renders every tab at the default size, and the dialogs,
// to PNG files in $MAXROUTER_SNAPSHOT_DIR, for a person to look at the
// layout. It is skipped when the variable is not set.
func TestSnapshot(t *testing.T) {
	dir := os.Getenv("MAXROUTER_SNAPSHOT_DIR")
	if dir == "" {
		t.Skip("MAXROUTER_SNAPSHOT_DIR not set")
	}
	b := newBackend()
	b.UsageValue = fixtureUsage()
	h := newHarness(t, b, Options{Version: "0.9.0", Autostart: &fakeAutostart{on: true}, Start: func() error { return nil }})
	w := h.w

	for _, variant := range []struct {
		name string
		th   fyne.Theme
	}{
		{"light", theme.LightTheme()},
		{"dark", theme.DarkTheme()},
	} {
		shot := func(name string) {
			t.Helper()
			writePNG(t, w, variant.th, filepath.Join(dir, "settings-"+variant.name+"-"+name+".png"))
		}
		for i, name := range []string{"accounts", "routing", "proxy", "notifications", "usage"} {
			w.tabs.SelectIndex(i)
			h.settle()
			shot(name)
		}
		w.tabs.SelectIndex(0)

		w.accounts.onDirPicked(testHome + "/.claude-new")
		h.settle()
		shot("add")
		w.accounts.adding.dlg.Hide()

		w.proxy.port.SetText("abc")
		w.onApply()
		h.settle()
		w.tabs.SelectIndex(2)
		shot("port-error")
		w.onRevert()

		h.b.Lock()
		h.b.PutConfigErr = &config.ValidationError{Fields: []config.FieldError{
			{Field: "accounts[1].name", Message: `name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
			{Field: "upstream", Message: "want an absolute http:// or https:// URL, got \"ftp://x\""},
		}}
		h.b.Unlock()
		h.row("personal").name.SetText("per sonal")
		w.onApply()
		h.settle()
		shot("account-error")
		h.b.Lock()
		h.b.PutConfigErr = nil
		h.b.Unlock()
		w.onRevert()

		w.proxy.showSecret(control.Issued{Token: control.Token{ID: "tok-9", Label: "build server"}, Secret: longSecret})
		shot("secret")
		w.win.Canvas().Overlays().Top().Hide()
		w.tabs.SelectIndex(0)

		h.d.Kill()
		h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })
		shot("down")
		h.d.Revive()
		h.waitFor("the banner goes", func() bool { return !w.banner.box.Visible() })
	}
}

func writePNG(t *testing.T, w *Window, th fyne.Theme, path string) {
	t.Helper()
	img := software.RenderCanvas(w.win.Canvas(), th)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
