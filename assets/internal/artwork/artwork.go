// Package artwork draws Cairn's icons: a cairn of three stacked stones,
// coloured and badged by tray state, plus the application icon. It is the
// code behind `go generate ./assets`, and the assets tests run it again to
// check that the committed files are exactly what it draws.
//
// All geometry is integer. A pixel's coverage is the count of its
// sub-pixel samples that fall inside a shape, tested in exact int64
// arithmetic, and image/draw composites the layers. Without floating point
// the bytes are the same on every machine; floats would not be, since the
// compiler may fuse multiply-adds on arm64 and change a pixel.
package artwork

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// Sizes of the generated images, in pixels.
const (
	TraySize     = 64  // full-colour PNG: Linux tray, notifications
	TemplateSize = 44  // macOS menu bar template, @2x of 22 pt
	AppSize      = 256 // application icon
)

// ICOSizes are the images in each Windows .ico, smallest first.
var ICOSizes = []int{16, 32, 48}

// Samples per pixel side: 16×16 gives 256 coverage levels, as many as an
// 8-bit alpha holds. The app icon is big enough that 8×8 looks the same.
const (
	smallSamples = 16
	appSamples   = 8
)

// File is one generated file.
type File struct {
	Name string // base name inside assets/icons
	Data []byte
}

// States returns the names of the tray states that have icons, in the
// order of menu.Icons.
func States() []string {
	names := make([]string, len(looks))
	for i, lk := range looks {
		names[i] = lk.name
	}
	return names
}

// Names of the files drawn for a state.
func PNGName(state string) string      { return state + ".png" }
func ICOName(state string) string      { return state + ".ico" }
func TemplateName(state string) string { return state + "-template.png" }

// DarkName is the file of a state's light-on-dark colour PNG, for panels
// with a dark background.
func DarkName(state string) string { return state + "-dark.png" }

// AppName is the file name of the application icon.
const AppName = "app.png"

// Files draws every icon and returns the files in a fixed order.
func Files() ([]File, error) {
	var files []File
	for _, lk := range looks {
		colour, err := encodePNG(newCanvas(TraySize, smallSamples).render(trayLayers(newCanvas(TraySize, smallSamples), lk)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", PNGName(lk.name), err)
		}
		dc := newCanvas(TraySize, smallSamples)
		dark, err := encodePNG(dc.render(trayLayers(dc, lk.forDarkPanels())))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", DarkName(lk.name), err)
		}
		ico, err := encodeICO(lk)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ICOName(lk.name), err)
		}
		tc := newCanvas(TemplateSize, smallSamples)
		template, err := encodePNG(tc.render(templateLayers(tc, lk)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", TemplateName(lk.name), err)
		}
		files = append(files,
			File{PNGName(lk.name), colour},
			File{DarkName(lk.name), dark},
			File{ICOName(lk.name), ico},
			File{TemplateName(lk.name), template},
		)
	}
	ac := newCanvas(AppSize, appSamples)
	app, err := encodePNG(ac.render(appLayers(ac)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AppName, err)
	}
	return append(files, File{AppName, app}), nil
}

// Write draws every tray icon into dir, replacing files of the same name.
func Write(dir string) error {
	files, err := Files()
	if err != nil {
		return err
	}
	return writeFiles(dir, files)
}

// WriteApp draws the packages' application icons (AppFiles) into dir.
func WriteApp(dir string) error {
	files, err := AppFiles()
	if err != nil {
		return err
	}
	return writeFiles(dir, files)
}

func writeFiles(dir string, files []File) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func encodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
