//go:build darwin && !cgo

package ui

// run is headless: systray needs cgo on macOS, so a build without it has
// no menu bar icon (it still supervises the daemon).
func (u *UI) run(onReady func()) {
	u.runHeadless(onReady, "this build has no menu bar support (built with CGO_ENABLED=0)")
}
