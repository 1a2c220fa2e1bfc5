package tint

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func TestPanelFollowsItsColour(t *testing.T) {
	app := test.NewTempApp(t)
	p := NewPanel(theme.ColorNameError, 0.5)
	rect := test.TempWidgetRenderer(t, p).Objects()[0].(*canvas.Rectangle)
	th, v := app.Settings().Theme(), app.Settings().ThemeVariant()

	want := color.NRGBAModel.Convert(th.Color(theme.ColorNameError, v)).(color.NRGBA)
	want.A = uint8(float32(want.A) * 0.5)
	if got := rect.FillColor; got != want {
		t.Errorf("fill = %v, want the error colour at half alpha %v", got, want)
	}
	if rect.CornerRadius != th.Size(theme.SizeNameInputRadius) {
		t.Errorf("corner radius = %v, want the theme's input radius", rect.CornerRadius)
	}

	p.Set(theme.ColorNameSuccess, 1)
	want = color.NRGBAModel.Convert(th.Color(theme.ColorNameSuccess, v)).(color.NRGBA)
	if got := rect.FillColor; got != want {
		t.Errorf("fill after Set = %v, want the success colour %v", got, want)
	}
}
