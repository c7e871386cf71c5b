package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"github.com/cairnlabs/cairn/internal/dbustest"
)

// StatusNotifierWatcher, from the KDE/freedesktop StatusNotifierItem spec.
const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	itemIface    = "org.kde.StatusNotifierItem"
	menuIface    = "com.canonical.dbusmenu"
	dbusIface    = "org.freedesktop.DBus"
	dbusPropsGet = "org.freedesktop.DBus.Properties.GetAll"
)

// trayHost plays the panel: it owns org.kde.StatusNotifierWatcher, and for
// each item that registers it reads what a panel reads (all properties,
// icon included, and the whole menu), then reads again on every change
// signal the item sends. So the tray's idle cost includes serving a host,
// as it does on a desktop.
type trayHost struct {
	conn *dbus.Conn

	mu      sync.Mutex
	items   map[string]*hostItem // by unique bus name
	changed chan struct{}        // closed and replaced on every change
}

// hostItem is what the host knows of one registered item.
type hostItem struct {
	owner   string
	path    dbus.ObjectPath
	pid     int // of the process behind owner
	tooltip string
	reads   int
	kick    chan struct{} // buffer 1: coalesces a burst of change signals
}

func startHost(b *dbustest.Bus) (*trayHost, error) {
	conn, err := dbus.Connect(b.Address())
	if err != nil {
		return nil, fmt.Errorf("connect to the bench bus: %w", err)
	}
	h := &trayHost{conn: conn, items: map[string]*hostItem{}, changed: make(chan struct{})}
	sigs := make(chan *dbus.Signal, 64)
	conn.Signal(sigs)
	// Every signal of every item (NewIcon, NewToolTip, LayoutUpdated,
	// PropertiesChanged ...) and items leaving the bus.
	if err := conn.AddMatchSignal(); err != nil {
		conn.Close()
		return nil, err
	}
	go h.loop(sigs)
	if err := conn.Export(watcherMethods{h}, watcherPath, watcherName); err != nil {
		conn.Close()
		return nil, err
	}
	if _, err := prop.Export(conn, watcherPath, prop.Map{watcherName: {
		"RegisteredStatusNotifierItems":  {Value: []string{}},
		"IsStatusNotifierHostRegistered": {Value: true},
		"ProtocolVersion":                {Value: int32(0)},
	}}); err != nil {
		conn.Close()
		return nil, err
	}
	if reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("own %s: reply %v, %v", watcherName, reply, err)
	}
	return h, nil
}

func (h *trayHost) close() { h.conn.Close() }

type watcherMethods struct{ h *trayHost }

// RegisterStatusNotifierItem takes an object path (fyne.io/systray sends
// one) or a bus name; the item's bus name is the sender's either way.
func (m watcherMethods) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	path := dbus.ObjectPath("/StatusNotifierItem")
	if strings.HasPrefix(service, "/") {
		path = dbus.ObjectPath(service)
	}
	h := m.h
	var pid uint32
	h.conn.BusObject().Call(dbusIface+".GetConnectionUnixProcessID", 0, string(sender)).Store(&pid)
	h.mu.Lock()
	defer h.mu.Unlock()
	if it, ok := h.items[string(sender)]; ok { // registered again: read again
		select {
		case it.kick <- struct{}{}:
		default:
		}
		return nil
	}
	it := &hostItem{owner: string(sender), path: path, pid: int(pid), kick: make(chan struct{}, 1)}
	it.kick <- struct{}{} // the first read
	h.items[it.owner] = it
	go h.reader(it)
	return nil
}

func (m watcherMethods) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func (h *trayHost) loop(sigs chan *dbus.Signal) {
	for sig := range sigs {
		if sig.Name == dbusIface+".NameOwnerChanged" && len(sig.Body) == 3 {
			if name, _ := sig.Body[0].(string); name != "" {
				if newOwner, _ := sig.Body[2].(string); newOwner == "" {
					h.mu.Lock()
					if it, ok := h.items[name]; ok {
						delete(h.items, name)
						close(it.kick)
					}
					h.mu.Unlock()
				}
			}
			continue
		}
		h.mu.Lock()
		it := h.items[sig.Sender]
		if it != nil {
			select {
			case it.kick <- struct{}{}:
			default: // a read is already due
			}
		}
		h.mu.Unlock()
	}
}

// reader reads the item once per kick until it leaves the bus.
func (h *trayHost) reader(it *hostItem) {
	obj := h.conn.Object(it.owner, it.path)
	for range it.kick {
		var props map[string]dbus.Variant
		if err := obj.Call(dbusPropsGet, 0, itemIface).Store(&props); err != nil {
			continue
		}
		tip := tooltipTitle(props["ToolTip"])
		if menu, ok := props["Menu"].Value().(dbus.ObjectPath); ok {
			var rev uint32
			var layout any
			h.conn.Object(it.owner, menu).Call(menuIface+".GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &layout)
		}
		h.mu.Lock()
		it.tooltip = tip
		it.reads++
		close(h.changed)
		h.changed = make(chan struct{})
		h.mu.Unlock()
	}
}

// tooltipTitle is the title of a (sa(iiay)ss) ToolTip.
func tooltipTitle(v dbus.Variant) string {
	fields, ok := v.Value().([]any)
	if !ok || len(fields) < 3 {
		return ""
	}
	s, _ := fields[2].(string)
	return s
}

// waitItem waits until the item of the process pid has been read and its
// tooltip satisfies cond.
func (h *trayHost) waitItem(ctx context.Context, pid int, cond func(tooltip string) bool) error {
	limit := time.NewTimer(deadline)
	defer limit.Stop()
	for {
		h.mu.Lock()
		changed := h.changed
		last := ""
		for _, it := range h.items {
			if it.pid == pid && it.reads > 0 {
				last = it.tooltip
				if cond(it.tooltip) {
					h.mu.Unlock()
					return nil
				}
			}
		}
		h.mu.Unlock()
		select {
		case <-changed:
		case <-limit.C:
			return fmt.Errorf("tray (PID %d): its item was not shown as wanted within %v (last tooltip %q)", pid, deadline, last)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
