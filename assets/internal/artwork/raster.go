package artwork

import (
	"image"
	"image/color"
	"image/draw"
)

// design is the side of the square grid that all artwork is laid out on,
// whatever the pixel size it is drawn at.
const design = 1024

// canvas maps the design grid onto size×size pixels, each sampled k×k
// times. Sample centres sit at the odd coordinates of a grid 2·k·size wide,
// so shapes are tested at integer points and a pixel's coverage is the
// exact count of its samples that fall inside.
type canvas struct {
	size, k int
	w       int64 // 2·k·size: the grid's width in sample units
}

func newCanvas(size, k int) canvas {
	return canvas{size: size, k: k, w: int64(2 * k * size)}
}

// u converts a design coordinate or length (0..design) to sample units,
// rounded to the nearest.
func (c canvas) u(d int64) int64 {
	return (d*c.w + design/2) / design
}

// adaptiveSize is the canvas size from which coverage skips the inner
// samples of pixels that lie clearly inside or outside a shape. The
// narrowest feature (a 44-unit gap) is 11 px wide at 256 px, far wider than
// the one pixel the corner test spans.
const adaptiveSize = 256

// layer is a shape filled with a paint.
type layer struct {
	shape shape
	paint image.Image
}

// solid paints one colour.
func solid(c color.NRGBA) image.Image { return image.NewUniform(c) }

// render composites layers, first at the bottom, onto a transparent canvas.
func (c canvas) render(layers []layer) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, c.size, c.size))
	for _, l := range layers {
		mask := c.coverage(l.shape)
		r := mask.Bounds()
		draw.DrawMask(dst, r, l.paint, r.Min, mask, r.Min, draw.Over)
	}
	return dst
}

// coverage returns the share of each pixel's samples that lie in s, as an
// alpha mask over the pixels that s's box touches.
func (c canvas) coverage(s shape) *image.Alpha {
	b := s.box()
	step := int64(2 * c.k) // sample units per pixel
	pixel := func(v int64) int {
		if v < 0 {
			return -1
		}
		return int(v / step)
	}
	r := image.Rect(pixel(b.x0), pixel(b.y0), pixel(b.x1)+1, pixel(b.y1)+1).
		Intersect(image.Rect(0, 0, c.size, c.size))
	mask := image.NewAlpha(r)
	n := c.k * c.k
	in := func(px, py, i, j int) bool {
		return s.contains(int64(2*(px*c.k+i)+1), int64(2*(py*c.k+j)+1))
	}
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			if c.size >= adaptiveSize {
				// Every feature is many pixels wide at this size, so a
				// pixel whose four corner samples and centre agree lies
				// wholly inside or outside: skip its other samples.
				k := c.k - 1
				first := in(px, py, 0, 0)
				if first == in(px, py, k, 0) && first == in(px, py, 0, k) && first == in(px, py, k, k) && first == in(px, py, k/2, k/2) {
					if first {
						mask.SetAlpha(px, py, color.Alpha{A: 255})
					}
					continue
				}
			}
			count := 0
			for j := 0; j < c.k; j++ {
				y := int64(2*(py*c.k+j) + 1)
				for i := 0; i < c.k; i++ {
					if s.contains(int64(2*(px*c.k+i)+1), y) {
						count++
					}
				}
			}
			mask.SetAlpha(px, py, color.Alpha{A: uint8((count*255 + n/2) / n)})
		}
	}
	return mask
}

// gradient paints top at the first row blending evenly into bottom at the
// last.
func gradient(size int, top, bottom color.NRGBA) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	last := max(size-1, 1)
	mix := func(a, b uint8, y int) uint8 {
		return uint8((int(a)*(last-y) + int(b)*y + last/2) / last)
	}
	for y := 0; y < size; y++ {
		c := color.NRGBA{mix(top.R, bottom.R, y), mix(top.G, bottom.G, y), mix(top.B, bottom.B, y), mix(top.A, bottom.A, y)}
		draw.Draw(img, image.Rect(0, y, size, y+1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	return img
}
