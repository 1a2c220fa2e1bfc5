package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/config"
)

// numKinds is how many kinds of notification have a switch.
const numKinds = 6

// notifyKinds are the notification switches the tab shows, in order:
// the label and the configuration's field.
var notifyKinds = [numKinds]struct {
	label string
	field func(*config.Notifications) *bool
}{
	{"An account hits its limit and cools down, or fails", func(n *config.Notifications) *bool { return &n.CooldownStarted }},
	{"An account is available again", func(n *config.Notifications) *bool { return &n.CooldownEnded }},
	{"An account needs a new login", func(n *config.Notifications) *bool { return &n.NeedsLogin }},
	{"All accounts are at their limit", func(n *config.Notifications) *bool { return &n.AllExhausted }},
	{"An account's answers are billed to paid extra usage", func(n *config.Notifications) *bool { return &n.BillingExtra }},
	{"A client token has spent its budget", func(n *config.Notifications) *bool { return &n.TokenBudgetReached }},
}

// kindValues lists the per-kind notification switches in the order the
// tab shows them.
func kindValues(n config.Notifications) [numKinds]bool {
	var out [numKinds]bool
	for i, k := range notifyKinds {
		out[i] = *k.field(&n)
	}
	return out
}

// withKinds returns n with the per-kind switches set as on says, in the
// order the tab shows them.
func withKinds(n config.Notifications, on [numKinds]bool) config.Notifications {
	for i, k := range notifyKinds {
		*k.field(&n) = on[i]
	}
	return n
}

// notificationsTab is the Notifications tab: the master switch, one
// switch per kind, and starting at login.
type notificationsTab struct {
	onEdit func()

	item      *container.TabItem
	notify    *widget.Check
	kinds     [numKinds]*widget.Check
	notifyErr *widget.Label
	// autostart is nil when the window cannot change it.
	autostart    *widget.Check
	autostartErr *widget.Label
}

func newNotificationsTab(onEdit func(), autostart bool) *notificationsTab {
	t := &notificationsTab{onEdit: onEdit}
	t.item = newTab("Notifications", t.buildUI(autostart))
	return t
}

func (t *notificationsTab) tabItem() *container.TabItem { return t.item }

func (t *notificationsTab) buildUI(autostart bool) fyne.CanvasObject {
	t.notify = widget.NewCheck("Show desktop notifications", func(bool) {
		t.updateEnabled()
		t.onEdit()
	})
	kinds := container.NewVBox()
	for i, k := range notifyKinds {
		t.kinds[i] = widget.NewCheck(k.label, func(bool) { t.onEdit() })
		kinds.Add(t.kinds[i])
	}
	t.notifyErr = newErrorLabel()

	objs := []fyne.CanvasObject{
		newHeading("Desktop notifications"),
		newHint("MaxRouter stays quiet until something needs you. Bursts are combined: three accounts cooling down in the same second make one notification."),
		t.notify,
		indent(kinds),
		t.notifyErr,
	}
	if autostart {
		t.autostart = widget.NewCheck("Start MaxRouter at login", func(bool) { t.onEdit() })
		t.autostartErr = newErrorLabel()
		objs = append(objs,
			spacer(1, 4),
			widget.NewSeparator(),
			newHeading("Startup"),
			t.autostart,
			indent(newHint("Shows the MaxRouter icon in the tray when you log in.")),
			t.autostartErr,
		)
	}
	return page(objs...)
}

// read puts the tab's fields into d.
func (t *notificationsTab) read(d *draft) {
	d.Notify = t.notify.Checked
	for i, k := range t.kinds {
		d.Kinds[i] = k.Checked
	}
}

// show puts d's values into the fields.
func (t *notificationsTab) show(d draft) {
	t.notify.SetChecked(d.Notify)
	for i, k := range t.kinds {
		k.SetChecked(d.Kinds[i])
	}
	t.updateEnabled()
}

// setAutostart takes whether MaxRouter starts at login, as read from the
// system, into *base; the checkbox follows unless it holds an edit.
func (t *notificationsTab) setAutostart(on bool, err error, base *bool) {
	if t.autostart == nil {
		return
	}
	edited := t.autostart.Checked != *base
	*base = on
	if !edited {
		t.autostart.SetChecked(on)
	}
	if err != nil {
		setError(t.autostartErr, "Could not read whether MaxRouter starts at login: "+err.Error())
	} else {
		setError(t.autostartErr, "")
	}
}

// updateEnabled greys the per-kind switches out while notifications are
// off as a whole.
func (t *notificationsTab) updateEnabled() {
	for _, k := range t.kinds {
		if t.notify.Checked {
			k.Enable()
		} else {
			k.Disable()
		}
	}
}
