//go:build !linux && !darwin && !windows

package loginitem

// newBackend: other Unix desktops (the BSDs) read XDG autostart too.
func newBackend() (backend, error) { return newXDGAutostart() }
