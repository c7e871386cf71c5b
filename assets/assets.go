// Package assets holds Cairn's icons, embedded in the binary: one per tray
// state (the values of menu.Icon) in the format each OS's tray wants, a
// light-on-dark variant of the Linux one for dark panels, a full-colour PNG
// of each for notifications and documents, and the application icon.
//
// The files in icons/ are drawn by internal/artwork. After changing the
// artwork, run `go generate ./assets` and commit the result; the tests fail
// while the committed files differ from what the code draws.
package assets

//go:generate go run ./internal/gen -out icons -app ../build/icons

import (
	"embed"
	"slices"
)

//go:embed icons
var icons embed.FS

// states are the tray states that have icons, in the order of menu.Icons.
var states = []string{"running", "starting", "stopped", "conflict", "crashed"}

// fallback is the state an unknown name gets: stopped claims nothing about
// the daemon, so it is the least misleading icon to show by mistake.
const fallback = "stopped"

// File name suffixes of the three formats each state comes in.
const (
	colourSuffix   = ".png"          // 64 px, full colour
	icoSuffix      = ".ico"          // Windows: 16, 32 and 48 px
	templateSuffix = "-template.png" // macOS menu bar: 44 px, black and alpha
	darkSuffix     = "-dark.png"     // 64 px, light on dark, for dark panels
)

// Icon returns the tray icon for the state name in this OS's format: a PNG
// on Linux and the BSDs, an ICO on Windows, a template PNG on macOS (for
// systray.SetTemplateIcon, which recolours it for light and dark menu
// bars). An unknown name gets the stopped icon.
func Icon(name string) []byte { return read(name, traySuffix) }

// DarkPanelIcon returns the tray icon for the state name on a panel with a
// dark background: on Linux a lighter, light-on-dark PNG (the tray picks it
// when the desktop's colour scheme prefers dark); on macOS the same template
// image as Icon, which the menu bar recolours itself; on Windows the same ICO
// as Icon. An unknown name gets the stopped icon.
func DarkPanelIcon(name string) []byte { return read(name, darkTraySuffix) }

// PNG returns the full-colour 64 px PNG for the state name on any OS, for
// notifications and documents. An unknown name gets the stopped icon.
func PNG(name string) []byte { return read(name, colourSuffix) }

// AppIconPNG returns the 256 px application icon, for notifications and the
// About window.
func AppIconPNG() []byte { return mustRead("icons/app.png") }

// read returns the icon of state name in the format with suffix, falling
// back to the stopped one so that a caller never gets nil.
func read(name, suffix string) []byte {
	if !slices.Contains(states, name) {
		name = fallback
	}
	return mustRead("icons/" + name + suffix)
}

func mustRead(path string) []byte {
	b, err := icons.ReadFile(path)
	if err != nil {
		// The tests check that every file is embedded; reaching this
		// means the binary was built from a broken tree.
		panic("assets: " + err.Error())
	}
	return b
}
