//go:build !headless

package desktop

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"github.com/maxrouter/maxrouter/app/notify"
	"github.com/maxrouter/maxrouter/app/tray"
	"github.com/maxrouter/maxrouter/assets"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/wait"
)

// watcher is a fake org.kde.StatusNotifierWatcher: it records the items
// that register with it, as a desktop's panel would show them.
type watcher struct {
	registered chan registration
}

type registration struct{ sender, service string }

// RegisterStatusNotifierItem is the method systray calls.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.registered <- registration{string(sender), service}
	return nil
}

// startWatcher owns org.kde.StatusNotifierWatcher on a new connection to
// the private bus and returns that connection.
func startWatcher(t *testing.T) (*dbus.Conn, *watcher) {
	t.Helper()
	conn, err := dbus.Connect(busAddr)
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	w, err := exportWatcher(conn, true)
	if err != nil {
		t.Fatal(err)
	}
	return conn, w
}

// exportWatcher serves a fake watcher on conn, saying whether a host (a
// panel that shows the items) is registered; it does not own the name.
func exportWatcher(conn *dbus.Conn, host bool) (*watcher, error) {
	w := &watcher{registered: make(chan registration, 10)}
	const path = "/StatusNotifierWatcher"
	const iface = "org.kde.StatusNotifierWatcher"
	if err := conn.Export(w, path, iface); err != nil {
		return nil, err
	}
	if _, err := prop.Export(conn, path, prop.Map{iface: {
		"IsStatusNotifierHostRegistered": {Value: host},
		"ProtocolVersion":                {Value: int32(0)},
		"RegisteredStatusNotifierItems":  {Value: []string{}},
	}}); err != nil {
		return nil, err
	}
	return w, nil
}

// waitRegistered owns the watcher's name until an item registers, and
// returns the registration. An item that started before the watcher
// registers when the name appears; should the appearance slip past it
// (systray subscribes to it only after its first attempt failed), the name
// is dropped and taken again, as when a panel restarts.
func (w *watcher) waitRegistered(t *testing.T, conn *dbus.Conn) registration {
	t.Helper()
	const name = "org.kde.StatusNotifierWatcher"
	deadline := time.Now().Add(15 * time.Second)
	for attempt := 1; ; attempt++ {
		reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
		if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("owning %s: reply %v, err %v", name, reply, err)
		}
		select {
		case reg := <-w.registered:
			t.Logf("item registered after the watcher took its name %d time(s)", attempt)
			return reg
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatal("the tray never called RegisterStatusNotifierItem")
		}
		if _, err := conn.ReleaseName(name); err != nil {
			t.Fatal(err)
		}
	}
}

// menuItem is one com.canonical.dbusmenu entry.
type menuItem struct {
	id       int32
	props    map[string]dbus.Variant
	children []menuItem
}

func (m menuItem) label() string {
	if t, _ := m.props["type"].Value().(string); t == "separator" {
		return "---"
	}
	s, _ := m.props["label"].Value().(string)
	return s
}

func (m menuItem) checked() bool {
	v, _ := m.props["toggle-state"].Value().(int32)
	return v == 1
}

func (m menuItem) enabled() bool {
	v, ok := m.props["enabled"].Value().(bool)
	return !ok || v
}

func labels(items []menuItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.label())
	}
	return out
}

func findItem(items []menuItem, label string) (menuItem, bool) {
	for _, it := range items {
		if it.label() == label {
			return it, true
		}
	}
	return menuItem{}, false
}

// findPrefix returns the first item whose label starts with prefix.
func findPrefix(items []menuItem, prefix string) (menuItem, bool) {
	for _, it := range items {
		if strings.HasPrefix(it.label(), prefix) {
			return it, true
		}
	}
	return menuItem{}, false
}

// countdown matches the countdown of a reset in a menu line, which moves
// with the clock: "resets in 2 h 13 min".
var countdown = regexp.MustCompile(`resets in [^·]*[^· ]`)

// steady writes labels without their countdowns ("resets in …").
func steady(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = countdown.ReplaceAllString(l, "resets in …")
	}
	return out
}

// parseItem decodes an (ia{sv}av) layout as godbus hands it over: a struct
// at the top, []any inside variants.
func parseItem(v any) (menuItem, error) {
	fields, ok := v.([]any)
	if !ok || len(fields) != 3 {
		return menuItem{}, fmt.Errorf("menu layout %#v is not (ia{sv}av)", v)
	}
	id, _ := fields[0].(int32)
	props, _ := fields[1].(map[string]dbus.Variant)
	kids, _ := fields[2].([]dbus.Variant)
	m := menuItem{id: id, props: props}
	for _, k := range kids {
		c, err := parseItem(k.Value())
		if err != nil {
			return menuItem{}, err
		}
		m.children = append(m.children, c)
	}
	return m, nil
}

// menuClient reads and clicks the tray's com.canonical.dbusmenu menu, as
// a panel does. It sees the menu flattened in order, submenus after their
// item (fyne numbers items in that order).
//
// It reads the menu with GetLayout(0, -1, []), except in a race-detector
// build: systray v1.12.2 answers the first GetLayout after a menu rebuild
// and starts a goroutine that bumps the menu revision without the lock
// GetLayout reads it under, a data race inside systray that fails any
// -race run calling GetLayout. There the client reads every item with
// GetGroupProperties instead, which starts nothing.
type menuClient struct {
	obj dbus.BusObject
}

func newMenuClient(conn *dbus.Conn, sender string) *menuClient {
	return &menuClient{obj: conn.Object(sender, "/StatusNotifierItem/menu")}
}

// layout calls GetLayout(parent, -1, []) and returns the children of
// parent as a tree.
func (m *menuClient) layout(parent int32) ([]menuItem, error) {
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	call := m.obj.Call("com.canonical.dbusmenu.GetLayout", 0, parent, int32(-1), []string{})
	if err := call.Store(&rev, &root); err != nil {
		return nil, err
	}
	var out []menuItem
	for _, c := range root.Children {
		it, err := parseItem(c.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// flat returns every item of the menu in order, each submenu's items after
// the item that opens it.
func (m *menuClient) flat() ([]menuItem, error) {
	if raceEnabled {
		return m.groupProperties()
	}
	tree, err := m.layout(0)
	if err != nil {
		return nil, err
	}
	var out []menuItem
	var walk func([]menuItem)
	walk = func(items []menuItem) {
		for _, it := range items {
			out = append(out, menuItem{id: it.id, props: it.props})
			walk(it.children)
		}
	}
	walk(tree)
	return out, nil
}

// maxItemID bounds the item IDs groupProperties asks for; systray numbers
// items from 1 and never reuses a number.
const maxItemID = 1 << 14

// groupProperties reads every item with GetGroupProperties, in ID order.
func (m *menuClient) groupProperties() ([]menuItem, error) {
	ids := make([]int32, maxItemID)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	var got []struct {
		ID    int32
		Props map[string]dbus.Variant
	}
	if err := m.obj.Call("com.canonical.dbusmenu.GetGroupProperties", 0, ids, []string{}).Store(&got); err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b struct {
		ID    int32
		Props map[string]dbus.Variant
	}) int {
		return int(a.ID - b.ID)
	})
	var out []menuItem
	for _, g := range got {
		out = append(out, menuItem{id: g.ID, props: g.Props})
	}
	return out, nil
}

// click sends a dbusmenu "clicked" event for item id.
func (m *menuClient) click(t *testing.T, id int32) {
	t.Helper()
	if err := m.obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatalf("clicking menu item %d: %v", id, err)
	}
}

// wait reads the menu until cond holds for it, failing t after 20s. Only
// complete menus count: fyne rebuilds the whole menu on a change, item by
// item, and a read meanwhile sees part of it.
func (m *menuClient) wait(t *testing.T, what string, cond func([]menuItem) bool) []menuItem {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var items []menuItem
	var err error
	for {
		items, err = m.flat()
		if err == nil && len(items) > 0 && items[len(items)-1].label() == tray.LabelQuit && cond(items) {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s over DBus: menu %q, err %v", what, labels(items), err)
		}
		<-tick.C
	}
}

// realisticAccounts are three accounts as a person with three
// subscriptions sees them: one available with usage, one cooling, one
// needing a login.
func realisticAccounts(now time.Time) []control.Account {
	in := func(d time.Duration) *time.Time { t := now.Add(d).Truncate(time.Minute); return &t }
	return []control.Account{
		{Name: "work", Dir: "~/.claude-work", State: control.StateAvailable, Subscription: "max",
			RateLimitTier: "default_claude_max_20x", Requests: 412,
			FiveHour:       control.Window{Utilization: 0.42, ResetsAt: in(2*time.Hour + 13*time.Minute)},
			SevenDay:       control.Window{Utilization: 0.18, ResetsAt: in(4 * 24 * time.Hour)},
			TokenExpiresAt: in(6 * time.Hour)},
		{Name: "personal", Dir: "~/.claude-personal", State: control.StateCooling, Subscription: "max",
			RateLimitTier: "default_claude_max_5x", Requests: 958,
			CooldownUntil: in(47 * time.Minute), Reason: "5-hour limit",
			FiveHour:       control.Window{Utilization: 1.0, ResetsAt: in(47 * time.Minute)},
			SevenDay:       control.Window{Utilization: 0.61, ResetsAt: in(2 * 24 * time.Hour)},
			TokenExpiresAt: in(3 * time.Hour)},
		{Name: "side", Dir: "~/.claude-side", State: control.StateNeedsLogin, Subscription: "pro",
			Reason: "refresh token rejected: log in again"},
	}
}

func TestTrayOverDBus(t *testing.T) {
	needGUI(t)

	backend := &controltest.Backend{}
	cfg := config.Default()
	cfg.Accounts = []config.Account{{Name: "work", Dir: "~/.claude-work"}, {Name: "personal", Dir: "~/.claude-personal"}, {Name: "side", Dir: "~/.claude-side"}}
	backend.ConfigValue = cfg
	now := time.Now()
	accounts := realisticAccounts(now)
	accounts[1].State, accounts[1].CooldownUntil = control.StateAvailable, nil // 2 of 3 at first
	backend.AccountList = accounts
	client, _ := controltest.NewServer(t, backend)
	sender := testSender

	// The tray started with the app, before any daemon or watcher: it
	// says so, and registers once a watcher appears (as when a panel
	// starts after the app).
	if !testShell.hasTray {
		t.Fatalf("the app has no tray on the session bus at %s", busAddr)
	}
	conn, w := startWatcher(t)

	// 1. The item registers with the watcher, as with a desktop's panel.
	reg := w.waitRegistered(t, conn)
	t.Logf("registered: sender %s, service %s", reg.sender, reg.service)
	if reg.service != "/StatusNotifierItem" {
		t.Errorf("registered service %q, want the object path /StatusNotifierItem", reg.service)
	}
	menu := newMenuClient(conn, reg.sender)
	items := menu.wait(t, "the menu without a daemon", func(items []menuItem) bool {
		return len(items) > 2 && items[0].label() == "MaxRouter — daemon not running"
	})
	t.Logf("menu over DBus without a daemon: %q", labels(items))
	if got, want := items[2].label(), "The MaxRouter daemon is not running."; got != want {
		t.Errorf("explanation line = %q, want %q", got, want)
	}

	// The daemon comes up: the tray connects.
	testDaemon.plug(t, client)

	// 2. The menu shows the title and the account lines.
	want := []string{
		"MaxRouter — 2 of 3 accounts available",
		"---",
		"✓ work    Max 20x · 5h 42%, resets in … · 7d 18%, resets in …",
		"✓ personal    Max 5x · 5h 100%, resets in … · 7d 61%, resets in …",
		"⚠ side    needs login — click to log in again",
		"---",
		tray.LabelStrategy,
		"Round-robin", "Priority", "Least used", "Most headroom", // its submenu
		tray.LabelSetup,
		tray.LabelCopy,
		tray.LabelSettings,
		tray.LabelPause,
		tray.LabelStop,
		"---",
		tray.LabelQuit,
	}
	items = menu.wait(t, "the account lines", func(items []menuItem) bool {
		_, acct := findPrefix(items, "✓ work    Max 20x · 5h 42%, resets in ")
		_, sub := findItem(items, "Round-robin")
		return acct && sub
	})
	t.Logf("menu over DBus: %q", labels(items))
	if got := steady(labels(items)); !slices.Equal(got, want) {
		t.Errorf("menu over DBus =\n%q\nwant\n%q", got, want)
	}
	if items[0].enabled() {
		t.Errorf("title item is enabled over DBus, want disabled")
	}
	strat, _ := findItem(items, tray.LabelStrategy)
	if d, _ := strat.props["children-display"].Value().(string); d != "submenu" {
		t.Errorf("Strategy item has children-display %q, want submenu", d)
	}
	if rr, _ := findItem(items, "Round-robin"); !rr.checked() {
		t.Errorf("Round-robin is not checked over DBus")
	}
	if raceEnabled {
		t.Log("race build: the menu was read with GetGroupProperties (GetLayout starts a racy goroutine in systray)")
	} else {
		sub, err := menu.layout(strat.id)
		if got, want := labels(sub), []string{"Round-robin", "Priority", "Least used", "Most headroom"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("GetLayout(Strategy) = %q, %v; want %q", got, err, want)
		}
	}

	// The icon's properties: a tooltip with the title, and pixels.
	item := conn.Object(reg.sender, "/StatusNotifierItem")
	var tip struct {
		Icon   string
		Pixmap []struct {
			W, H int32
			Data []byte
		}
		Title, Body string
	}
	wait.For(t, "the tooltip", func() bool {
		v, err := item.GetProperty("org.kde.StatusNotifierItem.ToolTip")
		return err == nil && dbus.Store([]any{v.Value()}, &tip) == nil && strings.HasPrefix(tip.Title, want[0])
	})
	px, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil || !strings.HasPrefix(px.Signature().String(), "a(iiay)") {
		t.Errorf("IconPixmap = %v (%v), want a(iiay) pixels", px, err)
	}

	// 3. A click on the strategy "Least used" reaches the daemon.
	least, _ := findItem(items, "Least used")
	menu.click(t, least.id)
	wait.For(t, "PutConfig with strategy least-used", func() bool {
		backend.Lock()
		defer backend.Unlock()
		n := len(backend.PutConfigs)
		return n > 0 && backend.PutConfigs[n-1].Strategy == "least-used"
	})
	menu.wait(t, "Least used checked", func(items []menuItem) bool {
		l, _ := findItem(items, "Least used")
		r, _ := findItem(items, "Round-robin")
		return l.checked() && !r.checked()
	})

	// 4. "Copy shell export lines" issues a token once, and puts the lines
	// on the clipboard.
	items = menu.wait(t, "the copy item", func(items []menuItem) bool { _, ok := findItem(items, tray.LabelCopy); return ok })
	cp, _ := findItem(items, tray.LabelCopy)
	menu.click(t, cp.id)
	wait.For(t, "IssueToken", func() bool {
		backend.Lock()
		defer backend.Unlock()
		return len(backend.Issues) == 1
	})
	backend.Lock()
	label := backend.Issues[0].Label
	backend.Unlock()
	if !strings.HasSuffix(label, " (tray)") {
		t.Errorf("issued token label %q, want \"<hostname> (tray)\"", label)
	}
	wait.For(t, "the confirmation", func() bool {
		return slices.ContainsFunc(sender.all(), func(s string) bool { return strings.HasPrefix(s, "Claude Code setup copied") })
	})
	var clip string
	fyne.DoAndWait(func() { clip = guiApp.Clipboard().Content() })
	if want := "export ANTHROPIC_AUTH_TOKEN=la_sk_test-1\n"; !strings.HasSuffix(clip, want) || !strings.HasPrefix(clip, "export ANTHROPIC_BASE_URL="+client.BaseURL()) {
		t.Errorf("clipboard = %q, want the base URL and token export lines", clip)
	}
	menu.click(t, cp.id)
	wait.For(t, "the second confirmation", func() bool {
		n := 0
		for _, s := range sender.all() {
			if strings.HasPrefix(s, "Claude Code setup copied") {
				n++
			}
		}
		return n == 2
	})
	backend.Lock()
	issues := len(backend.Issues)
	backend.Unlock()
	if issues != 1 {
		t.Errorf("IssueToken called %d times after two copies, want 1 (the token is reused)", issues)
	}

	// 5. An event from the daemon updates the menu over DBus.
	backend.WaitSubscribers(t, 1)
	cooling := realisticAccounts(now)
	backend.SetAccounts(cooling)
	backend.Publish(control.Event{Type: event.CooldownStarted, Account: "personal", Until: cooling[1].CooldownUntil, Window: "five_hour", At: time.Now()})
	items = menu.wait(t, "the cooling account", func(items []menuItem) bool {
		return len(items) > 0 && items[0].label() == "MaxRouter — 1 of 3 accounts available"
	})
	t.Logf("menu after a cooldown event: %q", labels(items))
	wantLine := "⏸ personal    cooling until " + cooling[1].CooldownUntil.Local().Format("15:04") + " (5-hour limit) · 5h 100%, resets in … · 7d 61%, resets in …"
	if !slices.Contains(steady(labels(items)), wantLine) {
		t.Errorf("menu %q has no line %q", labels(items), wantLine)
	}

	// 6. "Set up Claude Code" writes Claude Code's settings; the Undo of
	// its confirmation takes them back and revokes the token.
	settingsFile := testShell.o.ClaudeSettings
	up, _ := findItem(items, tray.LabelSetup)
	menu.click(t, up.id)
	var done notify.Message
	wait.For(t, "the setup's confirmation", func() bool {
		var ok bool
		done, ok = sender.message("Claude Code goes through MaxRouter now")
		return ok
	})
	data, err := os.ReadFile(settingsFile)
	if err != nil || !strings.Contains(string(data), `"ANTHROPIC_BASE_URL": "`+client.BaseURL()+`"`) || !strings.Contains(string(data), `"ANTHROPIC_AUTH_TOKEN": "la_sk_test-2"`) {
		t.Errorf("Claude Code's settings after Set up Claude Code = %s (%v), want the base URL and the token", data, err)
	}
	if len(done.Actions) != 1 || done.Actions[0].Label != "Undo" {
		t.Fatalf("confirmation %q has actions %+v, want Undo", done.Title, done.Actions)
	}
	done.Actions[0].Do() // as the notification server does when Undo is clicked
	wait.For(t, "the undo's confirmation", func() bool {
		_, ok := sender.message("Claude Code no longer goes through MaxRouter")
		return ok
	})
	if _, err := os.Stat(settingsFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Claude Code's settings after Undo: %v, want them gone as before", err)
	}
	backend.Lock()
	revokes := slices.Clone(backend.Revokes)
	backend.Unlock()
	if !slices.Equal(revokes, []string{"tok-2"}) {
		t.Errorf("revoked %q, want the setup's token tok-2", revokes)
	}

	// 7. A click on the line of an account that needs a login logs it in
	// again: the browser opens the daemon's login page, and the settings
	// window waits for it.
	t.Cleanup(testShell.settings.Hide)
	side, _ := findPrefix(items, "⚠ side")
	menu.click(t, side.id)
	wait.For(t, "the login", func() bool {
		backend.Lock()
		defer backend.Unlock()
		return len(backend.LoginStarts) == 1
	})
	backend.Lock()
	start := backend.LoginStarts[0]
	backend.Unlock()
	if start != (control.LoginRequest{Account: "side"}) {
		t.Errorf("StartLogin(%+v), want side's", start)
	}
	wait.For(t, "the login page in the browser", func() bool {
		return slices.Contains(testBrowser.opened(), "https://claude.example/oauth/authorize?login=1")
	})
	wait.For(t, "the settings window waiting for the browser", func() bool {
		return slices.Contains(windowTexts(), "Waiting for the browser…")
	})
}

// TestTrayOverDBusStable reads the menu over DBus again and again while the
// accounts' usage, states and the strategy churn, as a panel does when the
// person opens the menu: every read must find the whole menu. It also
// checks the icon's pixels, as the panel gets them, equal the asset's.
func TestTrayOverDBusStable(t *testing.T) {
	needGUI(t)
	backend := &controltest.Backend{}
	cfg := config.Default()
	backend.ConfigValue = cfg
	now := time.Now()
	accounts := realisticAccounts(now)
	backend.AccountList = accounts
	client, _ := controltest.NewServer(t, backend)

	conn, w := startWatcher(t)
	reg := w.waitRegistered(t, conn)
	menu := newMenuClient(conn, reg.sender)
	testDaemon.plug(t, client)
	items := menu.wait(t, "the account lines", func(items []menuItem) bool {
		_, acct := findPrefix(items, "✓ work    Max 20x · 5h 42%, resets in ")
		_, sub := findItem(items, "Round-robin")
		return acct && sub
	})
	want := len(items)

	// The pixels the panel gets for the icon (one account needs a login).
	item := conn.Object(reg.sender, "/StatusNotifierItem")
	asset, err := assets.Bytes(assets.TrayLoginName)
	if err != nil {
		t.Fatal(err)
	}
	wantPixels := argbOf(t, asset)
	wait.For(t, "the needs-login icon's pixels, exactly", func() bool {
		v, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
		if err != nil {
			return false
		}
		var px []struct {
			W, H int32
			Data []byte
		}
		if dbus.Store([]any{v.Value()}, &px) != nil || len(px) != 1 {
			return false
		}
		return px[0].W == 64 && px[0].H == 64 && bytes.Equal(px[0].Data, wantPixels)
	})

	// Churn: usage, states and the strategy change, each with its event.
	backend.WaitSubscribers(t, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 150 {
			next := realisticAccounts(now)
			next[0].FiveHour.Utilization = float64(i%100) / 100
			if i%2 == 0 {
				next[1].State, next[1].CooldownUntil = control.StateAvailable, nil
			}
			backend.SetAccounts(next)
			backend.Publish(control.Event{Type: event.Refreshed, Account: "work", At: time.Now()})
			if i%10 == 0 {
				c := cfg
				c.Strategy = config.Strategies[(i/10)%len(config.Strategies)]
				backend.SetConfig(c)
			}
			time.Sleep(2 * time.Millisecond) // pace the daemon, as real events are paced
		}
	}()
	reads, broken := 0, 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		items, err := menu.flat()
		if err != nil {
			t.Fatalf("reading the menu: %v", err)
		}
		reads++
		if len(items) != want || !strings.HasPrefix(items[0].label(), "MaxRouter — ") || items[len(items)-1].label() != tray.LabelQuit {
			broken++
			t.Logf("read %d found %d items, want %d: %q", reads, len(items), want, labels(items))
		}
	}
	t.Logf("%d reads of the menu while the state changed 150 times", reads)
	if broken > 0 {
		t.Errorf("%d of %d reads of the menu found it half built", broken, reads)
	}
}

// argbOf is a PNG as straight ARGB bytes, what a StatusNotifierItem's
// IconPixmap carries.
func argbOf(t *testing.T, data []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	out := make([]byte, 0, len(n.Pix))
	for i := 0; i < len(n.Pix); i += 4 {
		out = append(out, n.Pix[i+3], n.Pix[i], n.Pix[i+1], n.Pix[i+2])
	}
	return out
}
