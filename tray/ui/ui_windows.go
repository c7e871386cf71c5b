package ui

import "fyne.io/systray"

// run shows the icon in the notification area; Windows always has one.
func (u *UI) run(onReady func()) { u.runTray(onReady) }

// setAppName does nothing: a Windows tray icon shows only its tooltip.
func setAppName(string) {}

func setIcon(ico []byte) { systray.SetIcon(ico) }
