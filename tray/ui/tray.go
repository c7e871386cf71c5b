//go:build !(darwin && !cgo)

package ui

import (
	"fyne.io/systray"

	"github.com/cairnlabs/cairn/tray/menu"
)

// runTray runs systray on the calling goroutine until Quit.
func (u *UI) runTray(onReady func()) {
	setAppName(u.opts.AppName)
	// Quit may come before systray is ready (or if it never gets ready);
	// systray.Quit works at any point after Run has been called.
	go func() {
		<-u.done
		systray.Quit()
	}()
	systray.Run(func() {
		go u.renderLoop()
		go onReady()
	}, nil)
}

// renderLoop shows each model Apply leaves, until Quit.
func (u *UI) renderLoop() {
	r := renderer{u: u, entries: map[string]*entry{}}
	for {
		select {
		case m := <-u.models:
			r.render(m)
		case <-u.done:
			return
		}
	}
}

// renderer turns models into systray calls. It changes only what differs
// from the model shown before, because every systray call is a D-Bus
// signal (Linux) or a Win32 menu update.
type renderer struct {
	u       *UI
	shown   bool // a model has been shown
	icon    menu.Icon
	dark    bool // the icon shown is the DarkScheme variant
	tooltip string
	entries map[string]*entry
}

// entry is one menu item and what it shows now.
type entry struct {
	item  *systray.MenuItem
	shown menu.Item
}

func (r *renderer) render(m menu.Model) {
	if !r.shown || m.Icon != r.icon || m.DarkScheme != r.dark {
		icons := r.u.opts.Icons
		if m.DarkScheme && r.u.opts.DarkIcons != nil {
			icons = r.u.opts.DarkIcons
		}
		if icons != nil {
			if b := icons(m.Icon); len(b) > 0 {
				setIcon(b)
			}
		}
		r.icon, r.dark = m.Icon, m.DarkScheme
	}
	if !r.shown || m.Tooltip != r.tooltip {
		systray.SetTooltip(m.Tooltip)
		r.tooltip = m.Tooltip
	}
	r.shown = true
	for _, it := range m.Items {
		// Every model has the same IDs in the same order, so the items are
		// created by the first model and updated in place afterwards.
		if e, ok := r.entries[it.ID]; ok {
			e.update(it)
		} else {
			r.entries[it.ID] = r.add(it)
		}
	}
}

// add appends it to the menu and starts receiving its clicks.
func (r *renderer) add(it menu.Item) *entry {
	if it.SeparatorBefore {
		systray.AddSeparator()
	}
	var mi *systray.MenuItem
	if it.Checkable {
		mi = systray.AddMenuItemCheckbox(it.Label, "", it.Checked)
	} else {
		mi = systray.AddMenuItem(it.Label, "")
	}
	if !it.Enabled {
		mi.Disable()
	}
	if !it.Visible {
		mi.Hide()
	}
	go r.u.forwardClicks(it.ID, mi.ClickedCh)
	return &entry{item: mi, shown: it}
}

// update changes what differs between it and what the item shows.
func (e *entry) update(it menu.Item) {
	old := e.shown
	if it.Label != old.Label {
		e.item.SetTitle(it.Label)
	}
	if it.Enabled != old.Enabled {
		if it.Enabled {
			e.item.Enable()
		} else {
			e.item.Disable()
		}
	}
	if it.Visible != old.Visible {
		if it.Visible {
			e.item.Show()
		} else {
			e.item.Hide()
		}
	}
	if it.Checked != old.Checked {
		if it.Checked {
			e.item.Check()
		} else {
			e.item.Uncheck()
		}
	}
	e.shown = it
}
