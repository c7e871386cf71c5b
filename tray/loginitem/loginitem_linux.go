package loginitem

// newBackend: XDG autostart, which GNOME, KDE, Xfce, Cinnamon, MATE and
// LXQt all read at login.
func newBackend() (backend, error) { return newXDGAutostart() }
