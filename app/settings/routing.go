package settings

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/openai"
	"github.com/maxrouter/maxrouter/core/words"
)

// routingTab is the Routing tab: strategy, fallback cooldown, session
// affinity, and the model names OpenAI clients may send (read-only).
type routingTab struct {
	onEdit func()
	models *fyne.Container
	where  *widget.RichText

	item        *container.TabItem
	strategy    *widget.RadioGroup
	strategyErr *widget.Label
	cooldown    *widget.Entry
	cooldownErr *widget.Label
	affinity    *widget.Check
}

func newRoutingTab(onEdit func()) *routingTab {
	t := &routingTab{onEdit: onEdit}
	t.item = newTab("Routing", t.buildUI())
	return t
}

func (t *routingTab) tabItem() *container.TabItem { return t.item }

func (t *routingTab) buildUI() fyne.CanvasObject {
	names := make([]string, len(strategies))
	helps := make([]fyne.CanvasObject, len(strategies))
	for i, s := range strategies {
		names[i] = words.Strategy(s.Value)
		h := newHint(s.Help)
		h.Wrapping = fyne.TextWrapOff
		h.Truncation = fyne.TextTruncateEllipsis
		helps[i] = h
	}
	t.strategy = widget.NewRadioGroup(names, func(string) { t.onEdit() })
	t.strategy.Required = true
	t.strategyErr = newErrorLabel()

	t.cooldown = widget.NewEntry()
	t.cooldown.SetPlaceHolder("60s")
	t.cooldown.OnChanged = func(string) {
		setError(t.cooldownErr, "")
		t.onEdit()
	}
	t.cooldownErr = newErrorLabel()

	t.affinity = widget.NewCheck("Keep each Claude Code session on one account", func(bool) { t.onEdit() })
	t.models = container.New(layout.NewFormLayout())
	t.where = newHint("")

	return page(
		newHeading("Strategy"),
		newHint("How MaxRouter picks an account for each request. Accounts that are cooling down, disabled or need a login are always skipped."),
		container.NewBorder(nil, nil,
			fixedWidth(170, t.strategy), nil,
			container.New(layout.NewCustomPaddedVBoxLayout(0), helps...)),
		t.strategyErr,
		spacer(1, 4),
		widget.NewSeparator(),
		newHeading("Fallback cooldown"),
		container.NewBorder(nil, nil, fixedWidth(120, t.cooldown), nil,
			newHint("How long an account rests when Anthropic says it is spent but gives no reset time. Write it like 60s, 5m or 1m30s.")),
		t.cooldownErr,
		spacer(1, 4),
		widget.NewSeparator(),
		newHeading("Session affinity"),
		t.affinity,
		indent(newHint("Requests of one Claude Code session go to the same account while it is available, so the session’s prompt cache stays warm: replies start faster and use less of the limits. When that account is spent, the session moves on.")),
		spacer(1, 4),
		widget.NewSeparator(),
		newHeading("Models for OpenAI clients"),
		newHint("Clients of OpenAI’s API (chat/completions, responses) name OpenAI models; MaxRouter sends each request to the Claude model beside its name. Names starting with claude- pass through as they are."),
		t.models,
		t.where,
	)
}

// showModels shows the configuration's [models] table (nil: the defaults);
// file is the configuration file, "" when not known.
func (t *routingTab) showModels(models map[string]string, file string) {
	if models == nil {
		models = openai.DefaultModels()
	}
	t.models.Objects = nil
	for _, g := range modelGroups(models) {
		claude := widget.NewLabel(g.Claude)
		claude.TextStyle = fyne.TextStyle{Monospace: true}
		names := widget.NewLabel(strings.Join(g.Names, ", "))
		names.Wrapping = fyne.TextWrapWord
		t.models.Add(claude)
		t.models.Add(names)
	}
	t.models.Refresh()
	setText(t.where, hint(modelsWhere(file)))
}

// read puts the tab's fields into d.
func (t *routingTab) read(d *draft) {
	d.Strategy = strategyValue(t.strategy.Selected)
	d.Cooldown = t.cooldown.Text
	d.Affinity = t.affinity.Checked
}

// show puts d's values into the fields.
func (t *routingTab) show(d draft) {
	if s := words.Strategy(d.Strategy); s != t.strategy.Selected {
		t.strategy.SetSelected(s)
	}
	if d.Cooldown != t.cooldown.Text {
		t.cooldown.SetText(d.Cooldown)
	}
	t.affinity.SetChecked(d.Affinity)
}
