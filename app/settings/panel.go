package settings

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// panel is a rounded background in a theme colour, drawn behind a card or
// a banner; it follows theme changes.
type panel struct {
	widget.BaseWidget
	color fyne.ThemeColorName
	alpha float32 // 0..1, applied to the colour's own alpha
}

func newPanel(c fyne.ThemeColorName, alpha float32) *panel {
	p := &panel{color: c, alpha: alpha}
	p.ExtendBaseWidget(p)
	return p
}

// CreateRenderer implements fyne.Widget.
func (p *panel) CreateRenderer() fyne.WidgetRenderer {
	r := &panelRenderer{p: p, rect: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type panelRenderer struct {
	p    *panel
	rect *canvas.Rectangle
}

func (r *panelRenderer) Layout(size fyne.Size)        { r.rect.Resize(size) }
func (r *panelRenderer) MinSize() fyne.Size           { return fyne.Size{} }
func (r *panelRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.rect} }
func (r *panelRenderer) Destroy()                     {}

func (r *panelRenderer) Refresh() {
	th := r.p.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	cr, cg, cb, ca := th.Color(r.p.color, v).RGBA()
	a := float32(ca>>8) * r.p.alpha / 255
	r.rect.FillColor = color.NRGBA{R: unpremul(cr, ca), G: unpremul(cg, ca), B: unpremul(cb, ca), A: uint8(a * 255)}
	r.rect.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.rect.Refresh()
}

// unpremul turns a premultiplied 16-bit channel into an 8-bit straight one.
func unpremul(c, a uint32) uint8 {
	if a == 0 {
		return 0
	}
	return uint8(c * 0xffff / a >> 8)
}
