//go:build linux || freebsd || netbsd || openbsd

package tray

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
)

// fyne.io/systray (v1.12.2) turns the icon into the StatusNotifierItem's
// ARGB32 pixmap with img.At(x, y).RGBA() and keeps the low byte of each
// 16-bit channel. RGBA() is premultiplied and 16 bits wide, so the low byte
// of a semi-transparent pixel is noise: the icon's antialiased rim reached
// the panel speckled (756 of 4096 pixels of a 64 px icon wrong). The
// StatusNotifierItem pixmap wants straight, 8-bit ARGB.
//
// The work-around: the tray is handed its icon in a small format of our
// own, registered with package image, whose pixels answer RGBA() with the
// premultiplied value in the high byte (what any image code expects, within
// 1/256) and the straight value in the low byte (what systray keeps). The
// pixels reaching the panel are then exactly the asset's.

// straightMagic starts an image in the tray format.
const straightMagic = "MXRSTRAIGHT1"

func init() {
	image.RegisterFormat("maxrouter-straight", straightMagic, decodeStraight, decodeStraightConfig)
}

// trayImage re-encodes a PNG in the tray format; an undecodable PNG is
// returned as it is.
func trayImage(data []byte) []byte {
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return data
	}
	b := src.Bounds()
	img := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(img, img.Bounds(), src, b.Min, draw.Src)
	var out bytes.Buffer
	out.WriteString(straightMagic)
	binary.Write(&out, binary.BigEndian, [2]uint32{uint32(b.Dx()), uint32(b.Dy())})
	out.Write(img.Pix)
	return out.Bytes()
}

// maxStraight bounds an image's side: icons are small.
const maxStraight = 1024

func decodeStraightConfig(r io.Reader) (image.Config, error) {
	w, h, err := straightHeader(r)
	if err != nil {
		return image.Config{}, err
	}
	return image.Config{ColorModel: color.NRGBAModel, Width: w, Height: h}, nil
}

func straightHeader(r io.Reader) (w, h int, err error) {
	head := make([]byte, len(straightMagic)+8)
	if _, err := io.ReadFull(r, head); err != nil {
		return 0, 0, err
	}
	if string(head[:len(straightMagic)]) != straightMagic {
		return 0, 0, errors.New("not a tray image")
	}
	w = int(binary.BigEndian.Uint32(head[len(straightMagic):]))
	h = int(binary.BigEndian.Uint32(head[len(straightMagic)+4:]))
	if w <= 0 || h <= 0 || w > maxStraight || h > maxStraight {
		return 0, 0, errors.New("tray image size out of range")
	}
	return w, h, nil
}

func decodeStraight(r io.Reader) (image.Image, error) {
	w, h, err := straightHeader(r)
	if err != nil {
		return nil, err
	}
	img := &straightImage{NRGBA: image.NewNRGBA(image.Rect(0, 0, w, h))}
	if _, err := io.ReadFull(r, img.Pix); err != nil {
		return nil, err
	}
	return img, nil
}

// straightImage is an NRGBA image whose pixels carry their straight value
// in the low byte of RGBA() (see above).
type straightImage struct{ *image.NRGBA }

func (s *straightImage) At(x, y int) color.Color {
	return straightColor(s.NRGBAAt(x, y))
}

// straightColor is an NRGBA colour whose RGBA() is premultiplied in its
// high byte and straight in its low byte.
type straightColor color.NRGBA

func (c straightColor) RGBA() (r, g, b, a uint32) {
	pr, pg, pb, pa := color.NRGBA(c).RGBA()
	return pr&0xff00 | uint32(c.R), pg&0xff00 | uint32(c.G), pb&0xff00 | uint32(c.B), pa&0xff00 | uint32(c.A)
}
