// Package desktoptest runs a real, headless Linux desktop for end-to-end
// tests of the tray app: Xvfb as the display, xfce4-panel with only its
// systray plugin as the StatusNotifierItem host, dunst as the notification
// server, all on a private session bus from dbustest. A test starts the
// real cairn-tray against it, then sees and drives it the way a user does:
// screenshots of the screen (ImageMagick's import) and synthetic mouse and
// key events (xdotool), and the notifications read back with dunstctl.
//
// Where dbustest plays the desktop's parts in Go to check the tray's D-Bus
// contract, this package checks that a real panel and a real notification
// server understand it.
package desktoptest
