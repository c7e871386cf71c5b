// Package appearance follows the desktop's colour scheme, so that the
// tray can show the icon variant that reads on the panel: on Linux the
// light-on-dark icons when the desktop prefers dark. macOS recolours its
// template icon by itself and the Windows ICO has one variant, so there
// Watch reports nothing and the default icons stay.
package appearance

import "log/slog"

// Watcher follows the colour scheme of the desktop session.
type Watcher struct {
	Log *slog.Logger // never nil
	// BusAddress is the session bus; "" means $DBUS_SESSION_BUS_ADDRESS.
	BusAddress string
}
