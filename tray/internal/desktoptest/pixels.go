package desktoptest

import (
	"image"
	"image/color"
	"image/draw"
)

// minIconPixels is how many pixels must stand out from the panel's
// background before a region counts as an icon, so a stray anti-aliased
// pixel or a one-pixel separator is not taken for one.
const minIconPixels = 20

// threshold is the smallest difference, summed over R, G and B, that counts
// as "a different pixel": faint anti-aliasing fringes stay below it, any
// icon or menu against the panel's fill is far above it.
const threshold = 48

// borderInset is how far FindIcon stays from the panel's edges, where the
// panel draws its own border line.
const borderInset = 3

func toRGBA(img image.Image) *image.RGBA {
	if rgba, ok := img.(*image.RGBA); ok {
		return rgba
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba
}

func differs(a, b color.RGBA) bool {
	abs := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return abs(a.R, b.R)+abs(a.G, b.G)+abs(a.B, b.B) > threshold
}

// Background is the most common colour in area: on a panel, its fill.
func Background(img *image.RGBA, area image.Rectangle) color.RGBA {
	counts := map[color.RGBA]int{}
	area = area.Intersect(img.Bounds())
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			counts[img.RGBAAt(x, y)]++
		}
	}
	var best color.RGBA
	n := -1
	for c, k := range counts {
		if k > n {
			best, n = c, k
		}
	}
	return best
}

// FindIcon finds what stands out from the panel's background inside panel:
// the bounding box of the pixels that differ from the background, ignoring
// the panel's border. It reports false when fewer than minIconPixels do,
// i.e. the panel is empty. The test panel holds only the systray plugin,
// so anything it finds is a tray item.
func FindIcon(img *image.RGBA, panel image.Rectangle) (image.Rectangle, bool) {
	inner := panel.Inset(borderInset).Intersect(img.Bounds())
	bg := Background(img, inner)
	var box image.Rectangle
	n := 0
	for y := inner.Min.Y; y < inner.Max.Y; y++ {
		for x := inner.Min.X; x < inner.Max.X; x++ {
			if differs(img.RGBAAt(x, y), bg) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return box, n >= minIconPixels
}

// Diff is the bounding box of the pixels in area that differ between a and
// b; empty when none do.
func Diff(a, b *image.RGBA, area image.Rectangle) image.Rectangle {
	area = area.Intersect(a.Bounds()).Intersect(b.Bounds())
	var box image.Rectangle
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			if differs(a.RGBAAt(x, y), b.RGBAAt(x, y)) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

// Crop copies r out of img (clamped to it), with its origin at 0,0.
func Crop(img *image.RGBA, r image.Rectangle) *image.RGBA {
	r = r.Intersect(img.Bounds())
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// Center of r.
func Center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}
