package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// The Routing tab: strategy, fallback cooldown, session affinity.

func (w *Window) buildRouting() fyne.CanvasObject {
	names := make([]string, len(strategies))
	helps := make([]fyne.CanvasObject, len(strategies))
	for i, s := range strategies {
		names[i] = s.Label
		h := newHint(s.Help)
		h.Wrapping = fyne.TextWrapOff
		h.Truncation = fyne.TextTruncateEllipsis
		helps[i] = h
	}
	w.strategy = widget.NewRadioGroup(names, func(string) { w.edited() })
	w.strategy.Required = true
	w.strategyErr = newErrorLabel()

	w.cooldown = widget.NewEntry()
	w.cooldown.SetPlaceHolder("60s")
	w.cooldown.OnChanged = func(string) {
		setError(w.cooldownErr, "")
		w.edited()
	}
	w.cooldownErr = newErrorLabel()

	w.affinity = widget.NewCheck("Keep each Claude Code session on one account", func(bool) { w.edited() })

	return page(
		newHeading("Strategy"),
		newHint("How MaxRouter picks an account for each request. Accounts that are cooling down, disabled or need a login are always skipped."),
		container.NewBorder(nil, nil,
			fixedWidth(170, w.strategy), nil,
			container.New(layout.NewCustomPaddedVBoxLayout(0), helps...)),
		w.strategyErr,
		spacer(1, 4),
		widget.NewSeparator(),
		newHeading("Fallback cooldown"),
		container.NewBorder(nil, nil, fixedWidth(120, w.cooldown), nil,
			newHint("How long an account rests when Anthropic says it is spent but gives no reset time. Write it like 60s, 5m or 1m30s.")),
		w.cooldownErr,
		spacer(1, 4),
		widget.NewSeparator(),
		newHeading("Session affinity"),
		w.affinity,
		indent(newHint("Requests of one Claude Code session go to the same account while it is available, so the session’s prompt cache stays warm: replies start faster and use less of the limits. When that account is spent, the session moves on.")),
	)
}

// indent shifts obj right to line up with the text of a check box.
func indent(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, spacer(28, 1), nil, obj)
}
