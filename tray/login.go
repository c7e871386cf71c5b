package tray

import "github.com/cairnlabs/cairn/tray/loginitem"

// OSLoginItem is the real LoginItem: the OS's start-at-login entry
// (tray/loginitem) for the cairn-tray binary at Exe.
type OSLoginItem struct {
	Exe string // absolute path of this cairn-tray
}

func (l OSLoginItem) Status() (loginitem.State, error) { return loginitem.Status(l.Exe) }
func (l OSLoginItem) Enable() error                    { return loginitem.Enable(l.Exe) }
func (l OSLoginItem) Disable() error                   { return loginitem.Disable() }
