//go:build linux || freebsd || netbsd || openbsd

package tray

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/maxrouter/maxrouter/assets"
)

// systrayPixels is what fyne.io/systray v1.12.2 makes of an icon: the low
// byte of each channel of At().RGBA(), as ARGB.
func systrayPixels(t *testing.T, data []byte) []byte {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*4)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, byte(a), byte(r), byte(g), byte(bl))
		}
	}
	return out
}

// straightPixels is the asset as straight ARGB: what the panel should get.
func straightPixels(t *testing.T, data []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		t.Fatalf("asset decodes as %T, want *image.NRGBA", img)
	}
	out := make([]byte, 0, len(n.Pix))
	for i := 0; i < len(n.Pix); i += 4 {
		out = append(out, n.Pix[i+3], n.Pix[i], n.Pix[i+1], n.Pix[i+2])
	}
	return out
}

func TestTrayIconPixelsReachThePanelIntact(t *testing.T) {
	for icon, name := range iconNames {
		asset, err := assets.Bytes(name)
		if err != nil {
			t.Fatal(err)
		}
		want := straightPixels(t, asset)
		if got := systrayPixels(t, asset); bytes.Equal(got, want) {
			t.Fatalf("%s: the plain PNG survives systray's conversion; the work-around is no longer needed", name)
		}
		if got := systrayPixels(t, TrayIcon(icon)); !bytes.Equal(got, want) {
			diff := 0
			for i := 0; i < len(got); i += 4 {
				if !bytes.Equal(got[i:i+4], want[i:i+4]) {
					diff++
				}
			}
			t.Errorf("%v: %d of %d pixels differ from the asset", icon, diff, len(want)/4)
		}
	}
}

// Code other than systray that decodes a tray image sees the right colours
// (premultiplied, within 1/256).
func TestTrayImageIsAnOrdinaryImageToOthers(t *testing.T) {
	asset, _ := assets.Bytes(assets.TraySomeName)
	plain, _ := png.Decode(bytes.NewReader(asset))
	ours, _, err := image.Decode(bytes.NewReader(TrayIcon(SomeCooling)))
	if err != nil {
		t.Fatal(err)
	}
	b := plain.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := plain.At(x, y).RGBA()
			r2, g2, b2, a2 := ours.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8), int(a1>>8) - int(a2>>8)} {
				if d < -1 || d > 1 {
					t.Fatalf("pixel %d,%d: %v vs %v", x, y, [4]uint32{r1, g1, b1, a1}, [4]uint32{r2, g2, b2, a2})
				}
			}
		}
	}
}
