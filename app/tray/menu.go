package tray

import (
	"sync"

	"fyne.io/systray"
)

// Menu is where the tray draws: the system tray (SystemTray) or a test
// double. Items are changed in place; the whole menu is only replaced by
// Reset and new items.
type Menu interface {
	// SetIcon shows an encoded image (see TrayIcon) as the tray icon.
	SetIcon(img []byte)
	// SetTooltip sets the hover text.
	SetTooltip(text string)
	// Reset removes every item; their Clicked channels are closed.
	Reset()
	// Add appends an item to the menu, or to parent's submenu when parent
	// is not nil. A checkable item shows a check mark when checked.
	Add(parent Item, label string, checkable bool) Item
	// AddSeparator appends a separator to the top-level menu.
	AddSeparator()
}

// Item is one menu entry, changed in place.
type Item interface {
	SetLabel(label string)
	SetChecked(checked bool)
	SetEnabled(enabled bool)
	// Clicked receives a value per click; it is closed when the item is
	// removed.
	Clicked() <-chan struct{}
}

// SystemTray is the Menu of the desktop's system tray, through
// fyne.io/systray (StatusNotifierItem and dbusmenu on Linux). Start it with
// Start before the first use; it is a process-wide singleton, as systray
// is. Setting an item's label, check mark or state to what it already
// shows sends nothing to the desktop.
type SystemTray struct {
	start, end func()
	once       sync.Once
}

var _ Menu = (*SystemTray)(nil)

// NewSystemTray registers the system tray; nothing shows until Start.
// onReady runs once the tray can take items.
func NewSystemTray(onReady func()) *SystemTray {
	t := &SystemTray{}
	t.start, t.end = systray.RunWithExternalLoop(onReady, nil)
	return t
}

// Start shows the tray. Call it once the toolkit's event loop runs (fyne's
// lifecycle OnStarted).
func (t *SystemTray) Start() { t.start() }

// Stop removes the tray; only call it after Start.
func (t *SystemTray) Stop() { t.once.Do(t.end) }

// SetIcon implements Menu.
func (t *SystemTray) SetIcon(img []byte) { systray.SetIcon(img) }

// SetTooltip implements Menu.
func (t *SystemTray) SetTooltip(text string) { systray.SetTooltip(text) }

// Reset implements Menu.
func (t *SystemTray) Reset() { systray.ResetMenu() }

// Add implements Menu.
func (t *SystemTray) Add(parent Item, label string, checkable bool) Item {
	var it *systray.MenuItem
	p, _ := parent.(*trayItem)
	switch {
	case p != nil && checkable:
		it = p.it.AddSubMenuItemCheckbox(label, "", false)
	case p != nil:
		it = p.it.AddSubMenuItem(label, "")
	case checkable:
		it = systray.AddMenuItemCheckbox(label, "", false)
	default:
		it = systray.AddMenuItem(label, "")
	}
	return &trayItem{it: it, label: label, enabled: true}
}

// AddSeparator implements Menu.
func (t *SystemTray) AddSeparator() { systray.AddSeparator() }

// trayItem is a systray item that remembers what it shows.
type trayItem struct {
	it      *systray.MenuItem
	mu      sync.Mutex
	label   string
	checked bool
	enabled bool
}

func (i *trayItem) SetLabel(label string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if label != i.label {
		i.label = label
		i.it.SetTitle(label)
	}
}

func (i *trayItem) SetChecked(checked bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if checked == i.checked {
		return
	}
	i.checked = checked
	if checked {
		i.it.Check()
	} else {
		i.it.Uncheck()
	}
}

func (i *trayItem) SetEnabled(enabled bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if enabled == i.enabled {
		return
	}
	i.enabled = enabled
	if enabled {
		i.it.Enable()
	} else {
		i.it.Disable()
	}
}

func (i *trayItem) Clicked() <-chan struct{} { return i.it.ClickedCh }
