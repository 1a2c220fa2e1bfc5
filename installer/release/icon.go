package release

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"

	"golang.org/x/image/draw"
)

// LoadIcon decodes the app icon (a PNG).
func LoadIcon(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the icon: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	return img, nil
}

// Scale resizes src to size×size with a Catmull-Rom filter, which keeps
// small sizes sharp.
func Scale(src image.Image, size int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, size, size))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// ScaledPNG is Scale encoded as a PNG.
func ScaledPNG(src image.Image, size int) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, Scale(src, size)); err != nil {
		return nil, fmt.Errorf("encoding the %dpx icon: %w", size, err)
	}
	return b.Bytes(), nil
}
