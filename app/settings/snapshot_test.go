package settings

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// TestSnapshot renders every tab and the dialogs to PNG files in
// $MAXROUTER_SNAPSHOT_DIR, for a person to look at the layout. It is
// skipped when the variable is not set.
func TestSnapshot(t *testing.T) {
	dir := os.Getenv("MAXROUTER_SNAPSHOT_DIR")
	if dir == "" {
		t.Skip("MAXROUTER_SNAPSHOT_DIR not set")
	}
	b := newBackend()
	b.UsageValue = fixtureUsage()
	w := newTestWindow(t, b, Options{Version: "0.9.0", Autostart: &fakeAutostart{on: true}})
	w.win.Resize(fyne.NewSize(820, 560))

	for _, variant := range []struct {
		name string
		th   fyne.Theme
	}{
		{"light", theme.LightTheme()},
		{"dark", theme.DarkTheme()},
	} {
		shot := func(name string) {
			t.Helper()
			img := software.RenderCanvas(w.win.Canvas(), variant.th)
			path := filepath.Join(dir, "settings-"+variant.name+"-"+name+".png")
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
		for i, name := range []string{"accounts", "routing", "proxy", "notifications", "usage"} {
			w.tabs.SelectIndex(i)
			w.wait()
			shot(name)
		}
		w.tabs.SelectIndex(0)

		w.onDirPicked(testHome + "/.claude-new")
		w.wait()
		shot("add")
		w.adding.dlg.Hide()

		w.onDirPicked(testHome + "/.claude-nothing")
		w.wait()
		shot("add-missing")
		w.adding.dlg.Hide()

		w.port.SetText("abc")
		w.onApply()
		w.wait()
		w.tabs.SelectIndex(2)
		shot("port-error")
		w.onRevert()
		w.wait()

		b.Lock()
		b.PutConfigErr = &config.ValidationError{Fields: []config.FieldError{
			{Field: "accounts[1].name", Message: `name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
			{Field: "upstream", Message: "want an absolute http:// or https:// URL, got \"ftp://x\""},
		}}
		b.Unlock()
		w.rows[1].name.SetText("per sonal")
		test.Tap(w.rows[0].enable)
		w.onApply()
		w.wait()
		shot("account-error")
		b.Lock()
		b.PutConfigErr = nil
		b.Unlock()
		w.onRevert()
		w.wait()

		w.issueToken("build server", 0)
		w.wait()
		shot("secret")
		w.win.Canvas().Overlays().Top().Hide()
		w.tabs.SelectIndex(0)
	}
}

// TestSnapshotStates renders the window with no accounts and with the
// daemon down (see TestSnapshot).
func TestSnapshotStates(t *testing.T) {
	dir := os.Getenv("MAXROUTER_SNAPSHOT_DIR")
	if dir == "" {
		t.Skip("MAXROUTER_SNAPSHOT_DIR not set")
	}
	write := func(w *Window, name string) {
		t.Helper()
		w.win.Resize(fyne.NewSize(820, 560))
		img := software.RenderCanvas(w.win.Canvas(), theme.LightTheme())
		f, err := os.Create(filepath.Join(dir, "settings-light-"+name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("empty", func(t *testing.T) {
		b := newBackend()
		cfg := fixtureConfig()
		cfg.Accounts = nil
		b.ConfigValue, b.AccountList, b.TokenList = cfg, nil, nil
		w := newTestWindow(t, b, Options{})
		write(w, "empty")
		w.tabs.SelectIndex(2)
		write(w, "empty-proxy")
		w.tabs.Select(w.usage.item)
		w.wait()
		write(w, "empty-usage")
	})
	t.Run("down", func(t *testing.T) {
		test.NewTempApp(t)
		client, srv := controltest.NewServer(t, newBackend())
		srv.Close()
		w := New(fyne.CurrentApp(), client, Options{Home: testHome, Logger: quiet})
		w.Show()
		w.wait()
		t.Cleanup(w.hide)
		write(w, "down")
	})
}
