package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// busConfig is a private session bus for the tray. It lists no service
// directories, so nothing installed on the machine (a notification daemon)
// is D-Bus-activated without a display; a notification the tray sends
// fails at once instead.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// bus is a private dbus-daemon.
type bus struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func startBus(ctx context.Context, dir string) (*bus, error) {
	cfg := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, busConfig, filepath.Join(dir, "bus")), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+cfg, "--nofork", "--nopidfile", "--nosyslog", "--print-address=1")
	cmd.Env = withoutVars(os.Environ(), "DBUS_SESSION_BUS_ADDRESS")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dbus-daemon (Debian package dbus): %w", err)
	}
	b := &bus{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
		cmd.Wait()
		close(b.done)
	}()
	select {
	case b.addr = <-lines:
	case <-time.After(deadline):
	case <-ctx.Done():
	}
	if b.addr == "" {
		b.stop()
		return nil, fmt.Errorf("dbus-daemon printed no address")
	}
	return b, nil
}

func (b *bus) stop() {
	b.cmd.Process.Kill()
	<-b.done
}

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

func startHost(b *bus) (*trayHost, error) {
	conn, err := dbus.Connect(b.addr)
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

func withoutVars(env []string, keys ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
