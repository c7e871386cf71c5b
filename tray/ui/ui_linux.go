package ui

import (
	"context"
	"fmt"
	"os"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"
)

// watcherName is the tray host's bus name (the StatusNotifierItem spec).
const watcherName = "org.kde.StatusNotifierWatcher"

// connectTimeout bounds the bus check, so a socket that accepts but never
// answers cannot hang the tray's start.
const connectTimeout = 5 * time.Second

// run checks for a session bus before it lets systray near it: without
// one, systray has nothing to show the icon on, and godbus would autolaunch
// a bus daemon that outlives the tray.
func (u *UI) run(onReady func()) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		u.runHeadless(onReady, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		u.runHeadless(onReady, fmt.Sprintf("no D-Bus session bus (cannot connect to %s: %v)", addr, err))
		return
	}
	u.noHost.Store(true) // until watchHost finds one
	go u.watchHost(conn)
	u.runTray(onReady)
}

// watchHost tells the user once when no tray host (the panel's
// StatusNotifierWatcher) is there to show the icon, and logs when one
// comes and goes. systray registers the icon by itself whenever a host
// appears; this only reports it. conn is a private connection, closed on
// Quit.
func (u *UI) watchHost(conn *dbus.Conn) {
	defer conn.Close()
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	// Subscribe before asking, so a host that appears in between is seen.
	if err := conn.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, watcherName),
	); err != nil {
		u.opts.Log.Warn("cannot watch for a tray host", "err", err)
	}
	var present bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&present); err != nil {
		u.opts.Log.Warn("cannot ask for a tray host", "err", err)
	} else if !present {
		u.told.Store(true)
		u.tell(fmt.Sprintf("%s runs without a tray icon until a tray host (StatusNotifierWatcher) appears; "+
			"it waits for one, supervises the daemon meanwhile, and prints its status here", u.opts.AppName))
	} else {
		u.noHost.Store(false)
	}
	for {
		select {
		case sig, ok := <-signals:
			if !ok {
				return // the bus went away
			}
			if sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
				continue
			}
			if name, _ := sig.Body[0].(string); name != watcherName {
				continue
			}
			if owner, _ := sig.Body[2].(string); owner != "" {
				u.opts.Log.Info("tray host appeared; icon registered", "host", owner)
				if u.noHost.Swap(false) && u.told.Load() {
					fmt.Fprintf(u.opts.Stderr, "%s: a tray host appeared; the icon is in the system tray now\n", u.opts.AppName)
				}
			} else {
				u.opts.Log.Info("tray host went away; the icon returns when it does")
				u.noHost.Store(true)
			}
		case <-u.done:
			return
		}
	}
}

// setAppName names the item. systray makes its title the item's Id when it
// connects, so it is set once, before Run, and never changed: hosts key
// their per-app settings on the Id.
func setAppName(name string) { systray.SetTitle(name) }

func setIcon(png []byte) { systray.SetIcon(png) }
