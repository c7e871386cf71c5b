//go:build darwin && cgo

package ui

import "fyne.io/systray"

// run shows the icon in the menu bar; macOS always has one.
func (u *UI) run(onReady func()) { u.runTray(onReady) }

// setAppName does nothing: on macOS systray.SetTitle writes text beside the
// icon in the menu bar, and the app's name is the bundle's.
func setAppName(string) {}

// setIcon shows a template image, which macOS tints for light and dark
// menu bars.
func setIcon(png []byte) { systray.SetTemplateIcon(png, png) }
