package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// The Notifications tab: the master switch, one switch per kind, and
// starting at login.

// kindLabels name the notification kinds in kindValues' order.
var kindLabels = [4]string{
	"An account hits its limit and starts cooling down",
	"An account is available again",
	"An account needs a new login",
	"All accounts are at their limit",
}

func (w *Window) buildNotifications() fyne.CanvasObject {
	w.notify = widget.NewCheck("Show desktop notifications", func(bool) {
		w.updateNotifyEnabled()
		w.edited()
	})
	kinds := container.NewVBox()
	for i, l := range kindLabels {
		w.kinds[i] = widget.NewCheck(l, func(bool) { w.edited() })
		kinds.Add(w.kinds[i])
	}
	w.notifyErr = newErrorLabel()

	objs := []fyne.CanvasObject{
		newHeading("Desktop notifications"),
		newHint("MaxRouter stays quiet until something needs you. Bursts are combined: three accounts cooling down in the same second make one notification."),
		w.notify,
		indent(kinds),
		w.notifyErr,
	}
	if w.opts.Autostart != nil {
		w.autostart = widget.NewCheck("Start MaxRouter at login", func(bool) { w.edited() })
		w.autostartErr = newErrorLabel()
		objs = append(objs,
			spacer(1, 4),
			widget.NewSeparator(),
			newHeading("Startup"),
			w.autostart,
			indent(newHint("Shows the MaxRouter icon in the tray when you log in.")),
			w.autostartErr,
		)
	}
	return page(objs...)
}

// updateNotifyEnabled greys the per-kind switches out while notifications
// are off as a whole.
func (w *Window) updateNotifyEnabled() {
	for _, k := range w.kinds {
		if w.notify.Checked {
			k.Enable()
		} else {
			k.Disable()
		}
	}
}
