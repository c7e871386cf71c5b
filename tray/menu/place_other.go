//go:build !darwin

package menu

// Place is where the icon lives, in the platform's own words.
const Place = "system tray"
