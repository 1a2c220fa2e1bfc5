package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIcons(t *testing.T) {
	tests := []struct {
		name string
		get  func() []byte
		size int
	}{
		{IconName, Icon, 512},
		{TrayOKName, TrayOK, 64},
		{TraySomeName, TraySome, 64},
		{TrayNoneName, TrayNone, 64},
		{TrayDownName, TrayDown, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := png.Decode(bytes.NewReader(tt.get()))
			if err != nil {
				t.Fatalf("decoding %s: %v", tt.name, err)
			}
			b := img.Bounds()
			if b.Dx() != tt.size || b.Dy() != tt.size {
				t.Errorf("%s is %dx%d, want %dx%d", tt.name, b.Dx(), b.Dy(), tt.size, tt.size)
			}
			// The corners are transparent and the centre is opaque: a shape
			// on a clear background, as a tray needs.
			if _, _, _, a := img.At(b.Min.X, b.Min.Y).RGBA(); a != 0 {
				t.Errorf("%s: corner alpha = %d, want 0", tt.name, a)
			}
			if _, _, _, a := img.At(b.Dx()/2, b.Dy()/2).RGBA(); a != 0xffff {
				t.Errorf("%s: centre alpha = %d, want 0xffff", tt.name, a)
			}
		})
	}
}

func TestTrayIconsDiffer(t *testing.T) {
	seen := map[string]string{}
	for _, name := range []string{TrayOKName, TraySomeName, TrayNoneName, TrayDownName} {
		b, err := Bytes(name)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[string(b)]; ok {
			t.Errorf("%s has the same bytes as %s", name, other)
		}
		seen[string(b)] = name
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	a := TrayOK()
	a[0] ^= 0xff
	if b := TrayOK(); b[0] == a[0] {
		t.Errorf("TrayOK()[0] changed to %#x after a caller modified its copy", b[0])
	}
}

func TestResource(t *testing.T) {
	for _, name := range Names() {
		r := Resource(name)
		if r == nil {
			t.Fatalf("Resource(%q) = nil", name)
		}
		if got, want := r.Name(), name; got != want {
			t.Errorf("Resource(%q).Name() = %q, want %q", name, got, want)
		}
		want, _ := Bytes(name)
		if !bytes.Equal(r.Content(), want) {
			t.Errorf("Resource(%q).Content() differs from Bytes", name)
		}
	}
	if r := Resource("nope.png"); r != nil {
		t.Errorf("Resource(%q) = %v, want nil", "nope.png", r)
	}
}
