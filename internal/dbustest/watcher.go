package dbustest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

// StatusNotifierWatcher names, as in the KDE/freedesktop StatusNotifierItem
// specification.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	WatcherIface = "org.kde.StatusNotifierWatcher"

	// DefaultItemPath is where an item lives when it registers with a bus
	// name only (the spec's default).
	DefaultItemPath = dbus.ObjectPath("/StatusNotifierItem")
)

// Watcher is a test tray host: it owns org.kde.StatusNotifierWatcher the way
// a desktop panel does, so an app using fyne.io/systray registers its tray
// item with it exactly as on a real desktop.
//
// A Watcher uses two connections: the host connection owns the name and the
// exported object and goes away on Stop, and a client connection that Items
// use to read and click menus survives Stop, because the app's item outlives
// the tray host (that is what a host restart test checks).
type Watcher struct {
	bus    *Bus
	host   *dbus.Conn
	client *dbus.Conn
	props  *prop.Properties

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	regs    []*Item       // every registration, in order, repeats included
	current []*Item       // registered and still on the bus
	stopped bool

	stopOnce sync.Once
	done     chan struct{} // closed when the signal loop has ended
}

// StartWatcher starts a tray host on bus and returns once it owns
// org.kde.StatusNotifierWatcher. It fails the test if another connection
// already owns the name. Calling StartWatcher again after Stop is how a test
// simulates the panel restarting: apps see NameOwnerChanged and register
// again with the new Watcher.
func StartWatcher(t testing.TB, bus *Bus) *Watcher {
	t.Helper()
	host, err := bus.dial()
	if err != nil {
		t.Fatalf("dbustest: watcher: %v", err)
	}
	w := &Watcher{
		bus:     bus,
		host:    host,
		client:  bus.Conn(t),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	t.Cleanup(w.Stop)
	if err := w.start(); err != nil {
		t.Fatalf("dbustest: watcher: %v", err)
	}
	return w
}

func (w *Watcher) start() error {
	// Watch for registered items leaving the bus before anything can
	// register, so no departure is missed.
	if err := w.host.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
	); err != nil {
		close(w.done)
		return fmt.Errorf("adding NameOwnerChanged match: %w", err)
	}
	sigs := make(chan *dbus.Signal, 16)
	w.host.Signal(sigs)
	go w.loop(sigs)

	// Export before taking the name: an app reacts to NameOwnerChanged by
	// calling RegisterStatusNotifierItem straight away, and the method must
	// be there when it does.
	if err := w.host.Export(watcherMethods{w}, WatcherPath, WatcherIface); err != nil {
		return fmt.Errorf("exporting watcher: %w", err)
	}
	props, err := prop.Export(w.host, WatcherPath, prop.Map{
		WatcherIface: {
			"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
			"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
			"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		return fmt.Errorf("exporting watcher properties: %w", err)
	}
	w.mu.Lock()
	w.props = props
	w.mu.Unlock()
	node := &introspect.Node{
		Name: string(WatcherPath),
		Interfaces: []introspect.Interface{
			introspect.IntrospectData,
			prop.IntrospectData,
			{
				Name:       WatcherIface,
				Methods:    []introspect.Method{{Name: "RegisterStatusNotifierItem", Args: []introspect.Arg{{Name: "service", Type: "s", Direction: "in"}}}, {Name: "RegisterStatusNotifierHost", Args: []introspect.Arg{{Name: "service", Type: "s", Direction: "in"}}}},
				Properties: props.Introspection(WatcherIface),
				Signals:    []introspect.Signal{{Name: "StatusNotifierItemRegistered", Args: []introspect.Arg{{Type: "s"}}}, {Name: "StatusNotifierItemUnregistered", Args: []introspect.Arg{{Type: "s"}}}, {Name: "StatusNotifierHostRegistered"}},
			},
		},
	}
	if err := w.host.Export(introspect.NewIntrospectable(node), WatcherPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return fmt.Errorf("exporting introspection: %w", err)
	}

	reply, err := w.host.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("requesting %s: %w", WatcherName, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("requesting %s: not primary owner (reply %d); is another watcher running on this bus?", WatcherName, reply)
	}
	return nil
}

// watcherMethods carries the D-Bus methods so that Watcher's own exported
// Go methods (Stop, WaitItem, ...) are not exported on the bus.
type watcherMethods struct{ w *Watcher }

// RegisterStatusNotifierItem implements the watcher method. service is
// either a bus name (the item is at /StatusNotifierItem) or, as
// fyne.io/systray and libappindicator send it, an object path, in which case
// the item's bus name is the caller's: that is why the sender is taken from
// the message.
func (m watcherMethods) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	busName, path := string(sender), DefaultItemPath
	if strings.HasPrefix(service, "/") {
		if !dbus.ObjectPath(service).IsValid() {
			return dbus.MakeFailedError(fmt.Errorf("invalid object path %q", service))
		}
		path = dbus.ObjectPath(service)
	} else if service != "" {
		busName = service
	}
	m.w.register(busName, path)
	return nil
}

// RegisterStatusNotifierHost implements the watcher method; the Watcher
// already counts as a registered host, so it only announces it.
func (m watcherMethods) RegisterStatusNotifierHost(service string) *dbus.Error {
	_ = m.w.host.Emit(WatcherPath, WatcherIface+".StatusNotifierHostRegistered")
	return nil
}

func (w *Watcher) register(busName string, path dbus.ObjectPath) {
	it := &Item{BusName: busName, Path: path, conn: w.client}
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.regs = append(w.regs, it)
	isNew := true
	for _, c := range w.current {
		if c.BusName == busName && c.Path == path {
			isNew = false
		}
	}
	if isNew {
		w.current = append(w.current, it)
	}
	names := w.namesLocked()
	props := w.props
	w.wakeLocked()
	w.mu.Unlock()

	if props != nil {
		setProp(props, WatcherIface, "RegisteredStatusNotifierItems", names)
	}
	if isNew {
		_ = w.host.Emit(WatcherPath, WatcherIface+".StatusNotifierItemRegistered", it.String())
	}
}

// loop drops items whose connection left the bus, as a real watcher does,
// so Items reflects what a panel would show.
func (w *Watcher) loop(sigs chan *dbus.Signal) {
	defer close(w.done)
	for sig := range sigs {
		if sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
			continue
		}
		name, _ := sig.Body[0].(string)
		newOwner, _ := sig.Body[2].(string)
		if newOwner != "" {
			continue
		}
		w.mu.Lock()
		var gone []*Item
		kept := w.current[:0]
		for _, c := range w.current {
			if c.BusName == name {
				gone = append(gone, c)
			} else {
				kept = append(kept, c)
			}
		}
		w.current = kept
		names := w.namesLocked()
		stopped := w.stopped
		props := w.props
		if len(gone) > 0 {
			w.wakeLocked()
		}
		w.mu.Unlock()
		if len(gone) == 0 || stopped || props == nil {
			continue
		}
		setProp(props, WatcherIface, "RegisteredStatusNotifierItems", names)
		for _, g := range gone {
			_ = w.host.Emit(WatcherPath, WatcherIface+".StatusNotifierItemUnregistered", g.String())
		}
	}
}

// setProp sets a property and emits PropertiesChanged. prop.SetMust panics
// when the emit fails, which happens when the connection was closed by Stop
// while a registration was in flight; that is not an error for a test host.
func setProp(p *prop.Properties, iface, name string, v interface{}) {
	defer func() { _ = recover() }()
	p.SetMust(iface, name, v)
}

func (w *Watcher) namesLocked() []string {
	names := make([]string, 0, len(w.current))
	for _, c := range w.current {
		names = append(names, c.String())
	}
	return names
}

func (w *Watcher) wakeLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// Stop makes the tray host go away: it releases the name, unexports the
// watcher object and closes the host connection, as when a panel crashes or
// restarts. Items returned earlier stay usable. Stop is idempotent and also
// runs at test cleanup.
func (w *Watcher) Stop() {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.stopped = true
		w.wakeLocked()
		w.mu.Unlock()
		_, _ = w.host.ReleaseName(WatcherName)
		_ = w.host.Export(nil, WatcherPath, WatcherIface)
		_ = w.host.Export(nil, WatcherPath, "org.freedesktop.DBus.Properties")
		_ = w.host.Export(nil, WatcherPath, "org.freedesktop.DBus.Introspectable")
		_ = w.host.Close()
		<-w.done
	})
}

// Registrations returns how many RegisterStatusNotifierItem calls this
// Watcher has accepted, repeats included, so a test can assert that an app
// registered (again) with a restarted host.
func (w *Watcher) Registrations() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.regs)
}

// Items returns the items currently registered and still on the bus.
func (w *Watcher) Items() []*Item {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*Item(nil), w.current...)
}

// WaitItem waits until an item has registered with this Watcher and returns
// the most recent registration.
func (w *Watcher) WaitItem(ctx context.Context) (*Item, error) {
	if err := w.WaitRegistrations(ctx, 1); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.regs[len(w.regs)-1], nil
}

// WaitRegistrations waits until this Watcher has accepted at least n
// registrations.
func (w *Watcher) WaitRegistrations(ctx context.Context, n int) error {
	return w.wait(ctx, func() bool { return len(w.regs) >= n },
		func() string { return fmt.Sprintf("%d registration(s), want %d", len(w.regs), n) })
}

// WaitGone waits until no registered item has the given bus name any more,
// for example after the app quit.
func (w *Watcher) WaitGone(ctx context.Context, busName string) error {
	return w.wait(ctx, func() bool {
		for _, c := range w.current {
			if c.BusName == busName {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("items still registered: %v", w.namesLocked()) })
}

// wait blocks until cond (called with w.mu held) holds or ctx ends.
func (w *Watcher) wait(ctx context.Context, cond func() bool, state func() string) error {
	for {
		w.mu.Lock()
		if cond() {
			w.mu.Unlock()
			return nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			w.mu.Lock()
			s := state()
			w.mu.Unlock()
			return fmt.Errorf("dbustest: watcher: %w (%s)", ctx.Err(), s)
		}
	}
}
