//go:build ignore

// Command gen draws MaxRouter's icons and writes them as PNG files next to
// assets.go. Run it from the repository root:
//
//	go run assets/gen/main.go
//
// Every shape is a signed distance function evaluated at each pixel centre,
// so edges are antialiased over one pixel at any size without extra modules.
// The glyph is a "router": one input node whose line forks into three output
// nodes, one per account.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "assets", "directory to write the PNG files to")
	flag.Parse()

	files := []struct {
		name string
		img  image.Image
	}{
		{"icon.png", appIcon(512)},
		{"tray-ok.png", trayIcon(64, stateOK)},
		{"tray-some.png", trayIcon(64, stateSome)},
		{"tray-none.png", trayIcon(64, stateNone)},
		{"tray-down.png", trayIcon(64, stateDown)},
		{"tray-login.png", trayIcon(64, stateLogin)},
		{"tray-paused.png", trayIcon(64, statePaused)},
		{"tray-empty.png", trayIcon(64, stateEmpty)},
	}
	for _, f := range files {
		if err := writePNG(filepath.Join(*out, f.name), f.img); err != nil {
			log.Fatal(err)
		}
	}
}

func writePNG(path string, img image.Image) error {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// rgba is a colour with straight (not premultiplied) components in [0, 1].
type rgba struct{ r, g, b, a float64 }

func hex(v uint32) rgba {
	return rgba{float64(v>>16&0xff) / 255, float64(v>>8&0xff) / 255, float64(v&0xff) / 255, 1}
}

func (c rgba) alpha(a float64) rgba { c.a *= a; return c }

func mix(a, b rgba, t float64) rgba {
	return rgba{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t, a.a + (b.a-a.a)*t}
}

// sdf is a signed distance in design units: negative inside the shape.
type sdf func(x, y float64) float64

// paint gives the colour of a layer at a point in design units.
type paint func(x, y float64) rgba

func solid(c rgba) paint { return func(x, y float64) rgba { return c } }

// canvas holds premultiplied colour; design units map to pixels by scale.
type canvas struct {
	size  int
	scale float64 // pixels per design unit
	px    []rgba
}

func newCanvas(size int, design float64) *canvas {
	return &canvas{size: size, scale: float64(size) / design, px: make([]rgba, size*size)}
}

// fill composites paint over the canvas where shape covers it. soft widens
// the edge ramp (in pixels) for shadows; 1 is a crisp antialiased edge.
func (c *canvas) fill(shape sdf, p paint, soft float64) {
	for j := 0; j < c.size; j++ {
		for i := 0; i < c.size; i++ {
			x := (float64(i) + 0.5) / c.scale
			y := (float64(j) + 0.5) / c.scale
			d := shape(x, y) * c.scale // distance in pixels
			cov := clamp(0.5 - d/soft)
			if cov <= 0 {
				continue
			}
			src := p(x, y)
			a := src.a * cov
			dst := &c.px[j*c.size+i]
			dst.r = src.r*a + dst.r*(1-a)
			dst.g = src.g*a + dst.g*(1-a)
			dst.b = src.b*a + dst.b*(1-a)
			dst.a = a + dst.a*(1-a)
		}
	}
}

func (c *canvas) image() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, c.size, c.size))
	for j := 0; j < c.size; j++ {
		for i := 0; i < c.size; i++ {
			p := c.px[j*c.size+i]
			if p.a <= 0 {
				continue
			}
			img.SetNRGBA(i, j, color.NRGBA{
				R: byte8(p.r / p.a), G: byte8(p.g / p.a), B: byte8(p.b / p.a), A: byte8(p.a),
			})
		}
	}
	return img
}

func byte8(v float64) uint8 { return uint8(math.Round(clamp(v) * 255)) }

func clamp(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// Shapes.

type pt struct{ x, y float64 }

func circle(c pt, r float64) sdf {
	return func(x, y float64) float64 { return math.Hypot(x-c.x, y-c.y) - r }
}

func roundRect(min, max pt, r float64) sdf {
	cx, cy := (min.x+max.x)/2, (min.y+max.y)/2
	hw, hh := (max.x-min.x)/2-r, (max.y-min.y)/2-r
	return func(x, y float64) float64 {
		dx := math.Abs(x-cx) - hw
		dy := math.Abs(y-cy) - hh
		out := math.Hypot(math.Max(dx, 0), math.Max(dy, 0))
		return out + math.Min(math.Max(dx, dy), 0) - r
	}
}

// stroke is a polyline of round-capped segments, width w.
func stroke(w float64, pts ...pt) sdf {
	return func(x, y float64) float64 {
		best := math.Inf(1)
		for k := 0; k+1 < len(pts); k++ {
			best = math.Min(best, segDist(pt{x, y}, pts[k], pts[k+1]))
		}
		return best - w/2
	}
}

func segDist(p, a, b pt) float64 {
	bx, by := b.x-a.x, b.y-a.y
	px, py := p.x-a.x, p.y-a.y
	t := 0.0
	if l := bx*bx + by*by; l > 0 {
		t = clamp((px*bx + py*by) / l)
	}
	return math.Hypot(px-bx*t, py-by*t)
}

func union(s ...sdf) sdf {
	return func(x, y float64) float64 {
		d := math.Inf(1)
		for _, f := range s {
			d = math.Min(d, f(x, y))
		}
		return d
	}
}

// grow expands a shape by r (an outline around it).
func grow(s sdf, r float64) sdf {
	return func(x, y float64) float64 { return s(x, y) - r }
}

func shift(s sdf, dx, dy float64) sdf {
	return func(x, y float64) float64 { return s(x-dx, y-dy) }
}

// curve samples a cubic Bézier that leaves a horizontally and arrives
// horizontally at b: the shape of a branch in the router glyph.
func curve(a, b pt) []pt {
	const n = 48
	mid := (a.x + b.x) / 2
	p1, p2 := pt{mid, a.y}, pt{mid, b.y}
	pts := make([]pt, 0, n+1)
	for k := 0; k <= n; k++ {
		t := float64(k) / n
		u := 1 - t
		pts = append(pts, pt{
			u*u*u*a.x + 3*u*u*t*p1.x + 3*u*t*t*p2.x + t*t*t*b.x,
			u*u*u*a.y + 3*u*u*t*p1.y + 3*u*t*t*p2.y + t*t*t*b.y,
		})
	}
	return pts
}

// glyph is the router: an input node and a trunk that forks into branches,
// each ending in an output node.
type glyph struct {
	lines   sdf
	in      sdf
	outputs []sdf
}

// newGlyph lays the router out in a box centred on c, w wide and h tall,
// with n outputs spread evenly from top to bottom (n is 2 or more). The
// fork sits at fork (0 to 1) of the width.
func newGlyph(c pt, w, h, line, node, fork float64, n int) glyph {
	in := pt{c.x - w/2 + node, c.y}
	at := pt{c.x - w/2 + w*fork, c.y}
	lines := []sdf{stroke(line, in, at)}
	g := glyph{in: circle(in, node)}
	for k := 0; k < n; k++ {
		o := pt{c.x + w/2 - node, c.y - h/2 + node + (h-2*node)*float64(k)/float64(n-1)}
		lines = append(lines, stroke(line, curve(at, o)...))
		g.outputs = append(g.outputs, circle(o, node))
	}
	g.lines = union(lines...)
	return g
}

func (g glyph) shape() sdf {
	return union(append([]sdf{g.lines, g.in}, g.outputs...)...)
}

// Palette.
var (
	green  = hex(0x2da44e)
	amber  = hex(0xf0a000)
	red    = hex(0xe5383b)
	grey   = hex(0x8b949e)
	violet = hex(0x8250df)
	slate  = hex(0x4a6fa5)
	white  = hex(0xffffff)
	ink    = hex(0x1b1f24)
)

// appIcon is a rounded square with a blue-violet gradient and a white router
// glyph whose outputs show account states (green, green, amber).
func appIcon(size int) image.Image {
	const d = 512.0
	c := newCanvas(size, d)
	tile := roundRect(pt{40, 40}, pt{472, 472}, 100)

	// Soft drop shadow under the tile.
	c.fill(shift(tile, 0, 10), solid(ink.alpha(0.35)), 18*c.scale)
	top, bottom := hex(0x5b7cfa), hex(0x5a3fd0)
	c.fill(tile, func(x, y float64) rgba {
		return mix(top, bottom, clamp((x+y-80)/(2*432)))
	}, 1)
	// Gentle highlight on the upper half.
	c.fill(roundRect(pt{40, 40}, pt{472, 256}, 100), func(x, y float64) rgba {
		return white.alpha(0.10 * clamp((256-y)/216))
	}, 1)

	g := newGlyph(pt{256, 256}, 300, 250, 34, 34, 0.42, 3)
	c.fill(shift(g.shape(), 0, 8), solid(ink.alpha(0.30)), 14*c.scale)
	c.fill(g.lines, solid(white), 1)
	c.fill(g.in, solid(white), 1)
	for k, o := range g.outputs {
		fill := []rgba{green, green, amber}[k]
		c.fill(o, solid(white), 1)
		c.fill(grow(o, -9), solid(fill), 1)
	}
	return c.image()
}

type state int

const (
	stateOK state = iota
	stateSome
	stateNone
	stateDown
	stateLogin  // an account needs the person: a login, or one failing
	statePaused // routing paused by the person
	stateEmpty  // no account configured
)

// trayIcon is a coloured disc with a dark outline (visible on light panels)
// and a white router glyph (visible on the disc); the disc's colour is the
// state. Down is grey with the glyph struck through; needs login is violet
// with an exclamation mark in place of the outputs; paused is slate blue
// with two bars instead of the glyph; no accounts is grey with both
// outputs as rings.
func trayIcon(size int, s state) image.Image {
	const d = 64.0
	c := newCanvas(size, d)
	centre := pt{32, 32}
	fill := map[state]rgba{stateOK: green, stateSome: amber, stateNone: red, stateDown: grey,
		stateLogin: violet, statePaused: slate, stateEmpty: grey}[s]

	c.fill(circle(centre, 31.5), solid(ink.alpha(0.85)), 1)
	c.fill(circle(centre, 28.5), solid(fill), 1)

	switch s {
	case statePaused:
		c.fill(roundRect(pt{21, 18}, pt{28.5, 46}, 2), solid(white), 1)
		c.fill(roundRect(pt{35.5, 18}, pt{43, 46}, 2), solid(white), 1)
		return c.image()
	case stateLogin:
		// The router's input and trunk, and a "!" where the outputs were.
		g := newGlyph(pt{26, 32}, 26, 30, 7, 6.5, 0.9, 2)
		c.fill(union(g.lines, g.in), solid(white), 1)
		c.fill(stroke(7, pt{44, 17}, pt{44, 37}), solid(white), 1)
		c.fill(circle(pt{44, 46}, 4.2), solid(white), 1)
		return c.image()
	}

	// Two outputs, not three: at 16 px three would run together. An output
	// is a filled dot for an available account and a ring for a spent one,
	// so the states differ in shape too, not only in colour.
	g := newGlyph(pt{32.5, 32}, 42, 34, 7, 6.5, 0.45, 2)
	c.fill(g.shape(), solid(white), 1)
	spent := map[state]int{stateSome: 1, stateNone: 2, stateEmpty: 2}[s]
	for k := len(g.outputs) - spent; k < len(g.outputs); k++ {
		c.fill(grow(g.outputs[k], -3), solid(fill), 1)
	}

	if s == stateDown {
		// A slash with a gap of the disc's colour on each side.
		slash := stroke(6, pt{17, 17}, pt{47, 47})
		c.fill(grow(slash, 4), solid(fill), 1)
		c.fill(slash, solid(white), 1)
	}
	return c.image()
}
