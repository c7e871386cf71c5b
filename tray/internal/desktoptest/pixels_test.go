package desktoptest

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

// panelImage is a 200×32 "panel" in a light grey with a darker border line
// at the bottom, as xfce draws it.
func panelImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 200, 40))
	draw.Draw(img, image.Rect(0, 0, 200, 32), image.NewUniform(color.RGBA{0xf6, 0xf5, 0xf4, 0xff}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 31, 200, 32), image.NewUniform(color.RGBA{0xb0, 0xa8, 0xa0, 0xff}), image.Point{}, draw.Src)
	return img
}

func TestFindIcon(t *testing.T) {
	panel := image.Rect(0, 0, 200, 32)
	img := panelImage()
	if r, ok := FindIcon(img, panel); ok {
		t.Fatalf("empty panel: found %v; the border line must not count", r)
	}

	icon := image.Rect(7, 8, 27, 26)
	draw.Draw(img, icon, image.NewUniform(color.RGBA{0x2e, 0x8b, 0x57, 0xff}), image.Point{}, draw.Src)
	r, ok := FindIcon(img, panel)
	if !ok || r != icon {
		t.Fatalf("FindIcon = %v, %v; want %v, true", r, ok, icon)
	}

	// A handful of stray pixels is not an icon.
	img = panelImage()
	for i := range minIconPixels - 1 {
		img.SetRGBA(50+i, 15, color.RGBA{0, 0, 0, 0xff})
	}
	if r, ok := FindIcon(img, panel); ok {
		t.Fatalf("%d stray pixels taken for an icon at %v", minIconPixels-1, r)
	}
}

func TestDiff(t *testing.T) {
	a, b := panelImage(), panelImage()
	all := a.Bounds()
	if r := Diff(a, b, all); !r.Empty() {
		t.Fatalf("identical images differ at %v", r)
	}
	menu := image.Rect(1, 32, 120, 40)
	draw.Draw(b, menu, image.NewUniform(color.White), image.Point{}, draw.Src)
	if r := Diff(a, b, all); r != menu {
		t.Fatalf("Diff = %v, want %v", r, menu)
	}
	// Outside the area asked about, changes do not count.
	if r := Diff(a, b, image.Rect(0, 0, 200, 32)); !r.Empty() {
		t.Fatalf("Diff outside the menu = %v, want empty", r)
	}
}

func TestCrop(t *testing.T) {
	img := panelImage()
	c := Crop(img, image.Rect(190, 20, 260, 60)) // clamped to the image
	if c.Bounds() != image.Rect(0, 0, 10, 20) {
		t.Fatalf("Crop bounds = %v", c.Bounds())
	}
	if got, want := c.RGBAAt(0, 11), img.RGBAAt(190, 31); got != want {
		t.Fatalf("Crop moved pixels: %v, want %v", got, want)
	}
}
