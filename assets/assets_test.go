package assets

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackmordaunt/icns/v3"

	"github.com/cairnlabs/cairn/assets/internal/artwork"
	"github.com/cairnlabs/cairn/tray/menu"
)

func TestStatesMatchMenuIcons(t *testing.T) {
	var want []string
	for _, ic := range menu.Icons {
		want = append(want, string(ic))
	}
	if !slices.Equal(states, want) {
		t.Errorf("assets states = %q, menu.Icons = %q", states, want)
	}
	if got := artwork.States(); !slices.Equal(got, want) {
		t.Errorf("artwork draws states %q, menu.Icons = %q", got, want)
	}
}

func TestColourPNGs(t *testing.T) {
	for _, name := range states {
		t.Run(name, func(t *testing.T) {
			img := decodePNG(t, PNG(name), artwork.TraySize)
			if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
				t.Errorf("corner alpha = %d, want a transparent background", a)
			}
			if !hasColour(img) {
				t.Error("no coloured pixel: the colour icon came out grey or black")
			}
		})
	}
}

// TestDarkPanelPNGsAreLighter checks the light-on-dark variants: the same
// size and shape as the colour icons, and lighter wherever the cairn is
// drawn, so that they stand out on a dark panel.
func TestDarkPanelPNGsAreLighter(t *testing.T) {
	for _, name := range states {
		t.Run(name, func(t *testing.T) {
			normal := decodePNG(t, PNG(name), artwork.TraySize)
			dark := decodePNG(t, read(name, darkSuffix), artwork.TraySize)
			if !hasColour(dark) {
				t.Error("no coloured pixel in the dark-panel icon")
			}
			var n, lighter int
			b := dark.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					c := color.NRGBAModel.Convert(normal.At(x, y)).(color.NRGBA)
					d := color.NRGBAModel.Convert(dark.At(x, y)).(color.NRGBA)
					if c.A != d.A {
						t.Fatalf("pixel (%d,%d): alpha %d in the colour icon, %d in the dark-panel one; want the same shape", x, y, c.A, d.A)
					}
					if c.A != 0xff {
						continue
					}
					n++
					if luma(d) > luma(c) {
						lighter++
					}
				}
			}
			// Only white glyphs may keep their brightness.
			if n == 0 || lighter*10 < n*8 {
				t.Errorf("%d of %d opaque pixels are lighter in the dark-panel icon, want at least 80%%", lighter, n)
			}
		})
	}
}

func TestDarkPanelIconIsThisOSFormat(t *testing.T) {
	for _, name := range states {
		want, err := icons.ReadFile("icons/" + name + darkTraySuffix)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(DarkPanelIcon(name), want) {
			t.Errorf("DarkPanelIcon(%q) is not icons/%s%s", name, name, darkTraySuffix)
		}
	}
	if !bytes.Equal(DarkPanelIcon("nope"), DarkPanelIcon("stopped")) {
		t.Error(`DarkPanelIcon("nope") is not the stopped icon`)
	}
}

func luma(c color.NRGBA) int { return 299*int(c.R) + 587*int(c.G) + 114*int(c.B) }

func TestTemplatePNGsAreBlackAndAlphaOnly(t *testing.T) {
	for _, name := range states {
		t.Run(name, func(t *testing.T) {
			img := decodePNG(t, read(name, templateSuffix), artwork.TemplateSize)
			alphas := map[uint8]bool{}
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
					if c.R != 0 || c.G != 0 || c.B != 0 {
						t.Fatalf("pixel (%d,%d) = %v, want black with alpha only", x, y, c)
					}
					alphas[c.A] = true
				}
			}
			// Opaque shapes, a clear background and anti-aliased edges.
			if !alphas[0] || !alphas[255] || len(alphas) < 10 {
				t.Errorf("template has %d alpha levels (0: %v, 255: %v), want a drawn, anti-aliased shape", len(alphas), alphas[0], alphas[255])
			}
		})
	}
}

func TestICOs(t *testing.T) {
	for _, name := range states {
		t.Run(name, func(t *testing.T) {
			entries := parseICO(t, read(name, icoSuffix))
			var sizes []int
			for _, e := range entries {
				img := decodePNG(t, e.data, e.size)
				if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
					t.Errorf("%d px entry: corner alpha = %d, want transparent", e.size, a)
				}
				sizes = append(sizes, e.size)
			}
			if !slices.Equal(sizes, []int{16, 32, 48}) {
				t.Errorf("ICO sizes = %v, want [16 32 48]", sizes)
			}
		})
	}
}

func TestIconIsThisOSFormat(t *testing.T) {
	for _, name := range states {
		want, err := icons.ReadFile("icons/" + name + traySuffix)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(Icon(name), want) {
			t.Errorf("Icon(%q) is not icons/%s%s", name, name, traySuffix)
		}
	}
}

func TestUnknownNameGetsStopped(t *testing.T) {
	stoppedIcon, stoppedPNG := Icon("stopped"), PNG("stopped")
	for _, name := range []string{"", "nope", "app", "Running", "running-template", "running-dark", "../icons/running", "running.png"} {
		if got := Icon(name); got == nil || !bytes.Equal(got, stoppedIcon) {
			t.Errorf("Icon(%q) is not the stopped icon", name)
		}
		if got := PNG(name); got == nil || !bytes.Equal(got, stoppedPNG) {
			t.Errorf("PNG(%q) is not the stopped PNG", name)
		}
	}
}

func TestReturnedBytesAreCopies(t *testing.T) {
	b := PNG("running")
	b[0] ^= 0xff
	if bytes.Equal(PNG("running"), b) {
		t.Fatal("changing the returned slice changed the embedded icon")
	}
}

func TestAppIcon(t *testing.T) {
	img := decodePNG(t, AppIconPNG(), artwork.AppSize)
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner alpha = %d, want transparent outside the rounded tile", a)
	}
	if _, _, _, a := img.At(artwork.AppSize/2, artwork.AppSize/2).RGBA(); a != 0xffff {
		t.Errorf("centre alpha = %d, want opaque", a)
	}
}

// TestGeneratedFilesAreCurrent draws the icons again, as go generate does,
// and compares them byte for byte with the embedded files, in both
// directions so that a stale extra file fails too.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := artwork.Write(dir); err != nil {
		t.Fatal(err)
	}
	drawn, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := fs.ReadDir(icons, "icons")
	if err != nil {
		t.Fatal(err)
	}
	var drawnNames, embeddedNames []string
	for _, e := range drawn {
		drawnNames = append(drawnNames, e.Name())
	}
	for _, e := range embedded {
		embeddedNames = append(embeddedNames, e.Name())
	}
	if !slices.Equal(drawnNames, embeddedNames) {
		t.Fatalf("assets/icons holds %q, the generator draws %q; run go generate ./assets", embeddedNames, drawnNames)
	}
	for _, name := range drawnNames {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := icons.ReadFile("icons/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("assets/icons/%s differs from what internal/artwork draws; run go generate ./assets", name)
		}
	}
}

func decodePNG(t *testing.T, data []byte, size int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
		t.Fatalf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), size, size)
	}
	return img
}

func hasColour(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.A == 0xff && (c.R != c.G || c.G != c.B) {
				return true
			}
		}
	}
	return false
}

type icoEntry struct {
	size int
	data []byte
}

// parseICO reads an ICO container: a 6-byte header (reserved 0, type 1,
// count), 16-byte directory entries, then the images, which must be PNGs.
func parseICO(t *testing.T, b []byte) []icoEntry {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 6 || le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 {
		t.Fatalf("not an ICO header: % x", b[:min(len(b), 6)])
	}
	n := int(le.Uint16(b[4:]))
	if len(b) < 6+16*n {
		t.Fatalf("ICO with %d entries is only %d bytes", n, len(b))
	}
	pngMagic := []byte("\x89PNG\r\n\x1a\n")
	var entries []icoEntry
	for i := range n {
		e := b[6+16*i : 6+16*(i+1)]
		w, h := int(e[0]), int(e[1])
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		planes, bpp := le.Uint16(e[4:]), le.Uint16(e[6:])
		size, off := int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		if w != h || planes != 1 || bpp != 32 {
			t.Errorf("entry %d: %dx%d, %d planes, %d bpp; want square, 1 plane, 32 bpp", i, w, h, planes, bpp)
		}
		if off < 6+16*n || off+size > len(b) {
			t.Fatalf("entry %d: data at %d+%d outside the %d-byte file", i, off, size, len(b))
		}
		data := b[off : off+size]
		if !bytes.HasPrefix(data, pngMagic) {
			t.Fatalf("entry %d is not PNG-compressed", i)
		}
		entries = append(entries, icoEntry{w, data})
	}
	return entries
}

// appIconDir holds the packages' application icons, which go generate
// writes beside the packaging files, not into the binaries.
const appIconDir = "../build/icons"

func readAppIcon(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(appIconDir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("%v; run go generate ./assets", err)
	}
	return b
}

// TestAppIconFilesAreCurrent draws the packages' icons again and compares
// them with build/icons byte for byte, in both directions.
func TestAppIconFilesAreCurrent(t *testing.T) {
	files, err := artwork.AppFiles()
	if err != nil {
		t.Fatal(err)
	}
	var drawn, committed []string
	for _, f := range files {
		drawn = append(drawn, f.Name)
		if got := readAppIcon(t, f.Name); !bytes.Equal(got, f.Data) {
			t.Errorf("build/icons/%s differs from what internal/artwork draws; run go generate ./assets", f.Name)
		}
	}
	err = filepath.WalkDir(appIconDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(appIconDir, p)
		committed = append(committed, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(drawn)
	if !slices.Equal(drawn, committed) {
		t.Errorf("build/icons holds %q, the generator draws %q; run go generate ./assets", committed, drawn)
	}
}

func TestAppIconEverySizeDecodes(t *testing.T) {
	decodePNG(t, readAppIcon(t, artwork.MasterName), artwork.MasterSize)
	for _, n := range artwork.HicolorSizes {
		img := decodePNG(t, readAppIcon(t, artwork.HicolorName(n)), n)
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("%d px: corner alpha = %d, want transparent outside the tile", n, a)
		}
		if _, _, _, a := img.At(n/2, n/2).RGBA(); a != 0xffff {
			t.Errorf("%d px: centre alpha = %d, want opaque", n, a)
		}
	}
	if !slices.Contains(artwork.HicolorSizes, 16) || !slices.Contains(artwork.HicolorSizes, 512) {
		t.Errorf("hicolor sizes %v do not span 16 to 512", artwork.HicolorSizes)
	}
}

func TestAppICO(t *testing.T) {
	var sizes []int
	for _, e := range parseICO(t, readAppIcon(t, artwork.AppICOName)) {
		decodePNG(t, e.data, e.size)
		sizes = append(sizes, e.size)
	}
	if !slices.Equal(sizes, artwork.AppICOSizes) || sizes[len(sizes)-1] != 256 {
		t.Errorf("cairn.ico sizes = %v, want %v up to 256", sizes, artwork.AppICOSizes)
	}
}

// TestIcns reads cairn.icns twice: with its own walk over every entry
// (icns/v3 skips the small icp4–icp6 types), and with icns/v3's decoder, as
// a Mac tool would.
func TestIcns(t *testing.T) {
	b := readAppIcon(t, artwork.IcnsName)
	be := binary.BigEndian
	if len(b) < 8 || string(b[:4]) != "icns" || int(be.Uint32(b[4:])) != len(b) {
		t.Fatalf("not an icns file of its stated length: % x (file is %d bytes)", b[:min(len(b), 8)], len(b))
	}
	sizes := map[int]bool{}
	for off := 8; off < len(b); {
		if off+8 > len(b) {
			t.Fatalf("entry header at %d runs past the end", off)
		}
		id, n := string(b[off:off+4]), int(be.Uint32(b[off+4:]))
		if n < 8 || off+n > len(b) {
			t.Fatalf("entry %s at %d: length %d outside the file", id, off, n)
		}
		img, err := png.Decode(bytes.NewReader(b[off+8 : off+n]))
		if err != nil {
			t.Fatalf("entry %s: %v", id, err)
		}
		sizes[img.Bounds().Dx()] = true
		off += n
	}
	for _, n := range artwork.IcnsSizes {
		if !sizes[n] {
			t.Errorf("cairn.icns has no %d px image (has %v)", n, sizes)
		}
	}
	all, err := icns.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("icns/v3: %v", err)
	}
	if got := all[0].Bounds().Dx(); got != artwork.MasterSize {
		t.Errorf("icns/v3 finds the largest image at %d px, want %d", got, artwork.MasterSize)
	}
}

// TestAppSVG reads the scalable icon as XML: a 1024-unit viewBox, every
// mask and gradient it refers to defined, and as many shapes as the
// raster icon's layers need.
func TestAppSVG(t *testing.T) {
	d := xml.NewDecoder(bytes.NewReader(readAppIcon(t, artwork.SVGName)))
	ids, refs := map[string]bool{}, map[string]bool{}
	var root string
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("cairn.svg: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if el.Name.Local == "rect" {
			rects++
		}
		for _, a := range el.Attr {
			switch {
			case el.Name.Local == "svg" && a.Name.Local == "viewBox":
				root = a.Value
			case a.Name.Local == "id":
				ids[a.Value] = true
			case strings.HasPrefix(a.Value, "url(#"):
				refs[strings.TrimSuffix(strings.TrimPrefix(a.Value, "url(#"), ")")] = true
			}
		}
	}
	if root != "0 0 1024 1024" {
		t.Errorf("viewBox = %q, want the design grid 0 0 1024 1024", root)
	}
	for r := range refs {
		if !ids[r] {
			t.Errorf("cairn.svg refers to #%s, which it does not define", r)
		}
	}
	// The tile and, per stone, its body, rim and shade with their cut-outs.
	if rects < 10 || len(refs) < 4 {
		t.Errorf("cairn.svg has %d rects and %d references; the icon has more", rects, len(refs))
	}
}
