// Package tint draws the rounded, theme-coloured backgrounds behind the
// desktop app's cards and banners (settings window, welcome window).
package tint

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Panel is a rounded background in a theme colour; it follows theme and
// light/dark changes.
type Panel struct {
	widget.BaseWidget
	color fyne.ThemeColorName
	alpha float32 // 0..1, applied to the colour's own alpha
}

// NewPanel returns a Panel in colour c at alpha (0..1).
func NewPanel(c fyne.ThemeColorName, alpha float32) *Panel {
	p := &Panel{color: c, alpha: alpha}
	p.ExtendBaseWidget(p)
	return p
}

// Card returns obj, padded, on an input-background Panel.
func Card(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(NewPanel(theme.ColorNameInputBackground, 1), container.NewPadded(obj))
}

// Set changes the colour; call it on the UI goroutine.
func (p *Panel) Set(c fyne.ThemeColorName, alpha float32) {
	p.color, p.alpha = c, alpha
	p.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (p *Panel) CreateRenderer() fyne.WidgetRenderer {
	r := &renderer{p: p, rect: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type renderer struct {
	p    *Panel
	rect *canvas.Rectangle
}

func (r *renderer) Layout(size fyne.Size)        { r.rect.Resize(size) }
func (r *renderer) MinSize() fyne.Size           { return fyne.Size{} }
func (r *renderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.rect} }
func (r *renderer) Destroy()                     {}

func (r *renderer) Refresh() {
	th := r.p.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	c := color.NRGBAModel.Convert(th.Color(r.p.color, v)).(color.NRGBA)
	c.A = uint8(float32(c.A) * r.p.alpha)
	r.rect.FillColor = c
	r.rect.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.rect.Refresh()
}
