//go:build !windows && !darwin

package tray

import "os"

// clipboards: Wayland's, then X11's two common ones.
func clipboards() [][]string {
	x11 := [][]string{{"xclip", "-selection", "clipboard"}, {"xsel", "--clipboard", "--input"}}
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		return append([][]string{{"wl-copy"}}, x11...)
	}
	return x11
}
