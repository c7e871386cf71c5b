package artwork

import (
	"bytes"
	"fmt"
	"image"
	"path"

	"github.com/jackmordaunt/icns/v3"
)

// The application icon at every size the packages install, all drawn from
// the same design grid rather than scaled from one bitmap, so small sizes
// stay sharp.
const MasterSize = 1024 // the master PNG, the largest .icns entry

// HicolorSizes are the freedesktop hicolor theme's sizes, installed as
// /usr/share/icons/hicolor/<n>x<n>/apps/cairn.png.
var HicolorSizes = []int{16, 22, 24, 32, 48, 64, 128, 256, 512}

// AppICOSizes are the images in cairn.ico, the Windows program icon:
// Explorer's list, details, tile and jumbo views.
var AppICOSizes = []int{16, 24, 32, 48, 64, 128, 256}

// icnsEntries are the images of cairn.icns: the PNG types macOS has read
// since 10.7, one per pixel size (retina types reuse the same pixels).
var icnsEntries = []struct {
	id   string
	size int
}{
	{"icp4", 16}, {"icp5", 32}, {"icp6", 64}, {"ic07", 128}, {"ic08", 256}, {"ic09", 512}, {"ic10", 1024},
	{"ic11", 32}, {"ic12", 64}, {"ic13", 256}, {"ic14", 512},
}

// IcnsSizes are the pixel sizes in cairn.icns, smallest first.
var IcnsSizes = []int{16, 32, 64, 128, 256, 512, 1024}

// Names of the packaging icon files, relative to their directory.
const (
	MasterName = "cairn-1024.png"
	AppICOName = "cairn.ico"
	IcnsName   = "cairn.icns"
)

// HicolorName is the path of the hicolor PNG of size n.
func HicolorName(n int) string {
	return path.Join("hicolor", fmt.Sprintf("%dx%d", n, n), "apps", "cairn.png")
}

// appSamplesFor keeps the cost of the big sizes down: at 512 px and more a
// pixel is so small a part of an edge that 4×4 samples look the same as 8×8.
// The 256 px size keeps 8×8, as app.png always had.
func appSamplesFor(size int) int {
	switch {
	case size <= 64:
		return smallSamples
	case size <= 256:
		return appSamples
	}
	return 4
}

// AppFiles draws the application icon for the packages: the 1024 px master,
// the hicolor PNGs, cairn.ico, cairn.icns and the scalable SVG. Names may
// contain slashes.
func AppFiles() ([]File, error) {
	images := map[int]*image.RGBA{}
	pngs := map[int][]byte{}
	draw := func(size int) ([]byte, error) {
		if b, ok := pngs[size]; ok {
			return b, nil
		}
		c := newCanvas(size, appSamplesFor(size))
		img := c.render(appLayers(c))
		b, err := encodePNG(img)
		if err != nil {
			return nil, fmt.Errorf("%d px: %w", size, err)
		}
		images[size], pngs[size] = img, b
		return b, nil
	}

	var files []File
	master, err := draw(MasterSize)
	if err != nil {
		return nil, err
	}
	files = append(files, File{MasterName, master})
	for _, n := range HicolorSizes {
		b, err := draw(n)
		if err != nil {
			return nil, err
		}
		files = append(files, File{HicolorName(n), b})
	}

	var entries [][]byte
	for _, n := range AppICOSizes {
		b, err := draw(n)
		if err != nil {
			return nil, err
		}
		entries = append(entries, b)
	}
	files = append(files, File{AppICOName, packICO(AppICOSizes, entries)})

	set := &icns.IconSet{}
	for _, e := range icnsEntries {
		if _, err := draw(e.size); err != nil {
			return nil, err
		}
		set.Icons = append(set.Icons, &icns.Icon{Type: icns.OsType{ID: e.id, Size: uint(e.size)}, Image: images[e.size]})
	}
	var b bytes.Buffer
	if _, err := set.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", IcnsName, err)
	}
	files = append(files, File{IcnsName, b.Bytes()})
	svg, err := appSVG()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SVGName, err)
	}
	return append(files, File{SVGName, svg}), nil
}
