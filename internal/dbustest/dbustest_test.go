package dbustest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// testTimeout bounds every wait in these tests; nothing sleeps.
const testTimeout = 20 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

const (
	fakeItemPath = dbus.ObjectPath("/StatusNotifierItem")
	fakeMenuPath = dbus.ObjectPath("/StatusNotifierItem/menu")
)

// fakeEntry is one entry of the fake app's menu.
type fakeEntry struct {
	id       int32
	props    map[string]dbus.Variant
	children []*fakeEntry
}

// fakeLayout is the (ia{sv}av) wire form of a dbusmenu entry.
type fakeLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

type fakePixmap struct {
	W, H int32
	Pix  []byte
}

type fakeTooltip struct {
	Icon    string
	Pixmaps []fakePixmap
	Title   string
	Text    string
}

type fakeEvent struct {
	id      int32
	eventID string
}

// fakeApp is what fyne.io/systray puts on the bus, reduced to what the
// package needs: a StatusNotifierItem with properties, a dbusmenu that
// answers its first GetLayout one level deep (as fyne does), and the
// re-register-on-NameOwnerChanged loop.
type fakeApp struct {
	conn *dbus.Conn

	mu          sync.Mutex
	root        *fakeEntry
	revision    uint32
	layoutCalls int

	layoutServed chan int // number of GetLayout calls so far, after each
	events       chan fakeEvent
	activations  chan [2]int32
	regErrs      chan error
}

func newFakeMenu() *fakeEntry {
	e := func(id int32, kv ...interface{}) *fakeEntry {
		p := map[string]dbus.Variant{}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i].(string)] = dbus.MakeVariant(kv[i+1])
		}
		return &fakeEntry{id: id, props: p}
	}
	more := e(4, "label", "More", "children-display", "submenu")
	more.children = []*fakeEntry{
		e(5, "label", "About"),
		e(6, "label", "Check for updates", "toggle-type", "checkmark", "toggle-state", int32(1)),
	}
	return &fakeEntry{id: 0, props: map[string]dbus.Variant{"children-display": dbus.MakeVariant("submenu")}, children: []*fakeEntry{
		e(1, "label", "Status: Disconnected", "enabled", false),
		e(2, "label", "Connect", "enabled", true, "visible", true),
		e(3, "type", "separator"),
		more,
		e(7, "label", "Quit"),
		e(8, "label", "Hidden thing", "visible", false),
	}}
}

// startFakeApp exports the fake item on its own connection and registers it
// with the path-only form fyne.io/systray uses.
func startFakeApp(t *testing.T, bus *Bus) *fakeApp {
	t.Helper()
	a := &fakeApp{
		conn:         bus.Conn(t),
		root:         newFakeMenu(),
		revision:     1,
		layoutServed: make(chan int, 100),
		events:       make(chan fakeEvent, 100),
		activations:  make(chan [2]int32, 10),
		regErrs:      make(chan error, 100),
	}
	if err := a.conn.Export(fakeItemMethods{a}, fakeItemPath, ItemIface); err != nil {
		t.Fatal(err)
	}
	if err := a.conn.Export(fakeMenuMethods{a}, fakeMenuPath, DbusmenuIface); err != nil {
		t.Fatal(err)
	}
	_, err := prop.Export(a.conn, fakeItemPath, prop.Map{ItemIface: {
		"Status":     {Value: "Active"},
		"Title":      {Value: "Fake tray"},
		"Menu":       {Value: fakeMenuPath},
		"ToolTip":    {Value: fakeTooltip{Title: "Fake: disconnected", Text: "details"}},
		"IconPixmap": {Value: []fakePixmap{{W: 22, H: 22, Pix: make([]byte, 22*22*4)}}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	// Like fyne.io/systray's stayRegistered: register now, and again
	// whenever a watcher takes the name.
	if err := a.conn.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, WatcherName),
	); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 10)
	a.conn.Signal(sigs)
	a.register()
	go func() {
		for sig := range sigs { // closed when the connection closes
			if sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
				continue
			}
			if owner, _ := sig.Body[2].(string); owner != "" {
				a.register()
			}
		}
	}()
	return a
}

func (a *fakeApp) register() {
	err := a.conn.Object(WatcherName, WatcherPath).Call(WatcherIface+".RegisterStatusNotifierItem", 0, string(fakeItemPath)).Err
	a.regErrs <- err
}

func (a *fakeApp) busName() string { return a.conn.Names()[0] }

// setLabel changes an entry's label and announces it like fyne does.
func (a *fakeApp) setLabel(t *testing.T, id int32, label string) {
	t.Helper()
	a.mu.Lock()
	e := a.root.find(id)
	e.props["label"] = dbus.MakeVariant(label)
	a.revision++
	rev := a.revision
	a.mu.Unlock()
	if err := a.conn.Emit(fakeMenuPath, DbusmenuIface+".LayoutUpdated", rev, int32(0)); err != nil {
		t.Fatal(err)
	}
}

// find returns the entry id in e's subtree, nil when there is none.
func (e *fakeEntry) find(id int32) *fakeEntry {
	if e.id == id {
		return e
	}
	for _, c := range e.children {
		if f := c.find(id); f != nil {
			return f
		}
	}
	return nil
}

func (e *fakeEntry) layout(depth int32) fakeLayout {
	l := fakeLayout{ID: e.id, Props: map[string]dbus.Variant{}, Children: []dbus.Variant{}}
	for k, v := range e.props {
		l.Props[k] = v
	}
	if depth != 0 {
		for _, c := range e.children {
			l.Children = append(l.Children, dbus.MakeVariant(c.layout(depth-1)))
		}
	}
	return l
}

type fakeItemMethods struct{ a *fakeApp }

func (m fakeItemMethods) Activate(x, y int32) *dbus.Error {
	m.a.activations <- [2]int32{x, y}
	return nil
}

type fakeMenuMethods struct{ a *fakeApp }

func (m fakeMenuMethods) GetLayout(parent, depth int32, names []string) (uint32, fakeLayout, *dbus.Error) {
	a := m.a
	a.mu.Lock()
	a.layoutCalls++
	calls := a.layoutCalls
	if calls == 1 {
		depth = 1 // fyne.io/systray's first-call workaround
	}
	e := a.root.find(parent)
	rev := a.revision
	var l fakeLayout
	if e != nil {
		l = e.layout(depth)
	}
	a.mu.Unlock()
	select {
	case a.layoutServed <- calls:
	default: // nobody is counting
	}
	if e == nil {
		return 0, fakeLayout{}, dbus.MakeFailedError(errors.New("no such entry"))
	}
	return rev, l, nil
}

func (m fakeMenuMethods) Event(id int32, eventID string, data dbus.Variant, ts uint32) *dbus.Error {
	m.a.events <- fakeEvent{id, eventID}
	return nil
}

func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// waitSignal returns the next signal called name from ch.
func waitSignal(t *testing.T, ctx context.Context, ch <-chan *dbus.Signal, name string) *dbus.Signal {
	t.Helper()
	for {
		select {
		case sig, ok := <-ch:
			if !ok {
				t.Fatalf("waiting for %s: connection closed", name)
			}
			if sig.Name == name {
				return sig
			}
		case <-ctx.Done():
			t.Fatalf("waiting for signal %s: %v", name, ctx.Err())
		}
	}
}

func TestBusHasNoServiceDirs(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	if !strings.HasPrefix(bus.Address(), "unix:path=") {
		t.Errorf("Address() = %q, want a unix:path= address", bus.Address())
	}
	env := bus.Environ([]string{"A=1", "DBUS_SESSION_BUS_ADDRESS=unix:path=/elsewhere"})
	if want := []string{"A=1", "DBUS_SESSION_BUS_ADDRESS=" + bus.Address()}; !slices.Equal(env, want) {
		t.Errorf("Environ = %q, want %q", env, want)
	}

	conn := bus.Conn(t)
	var names []string
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"org.freedesktop.DBus"}) {
		t.Errorf("activatable names = %q, want only the bus itself", names)
	}

	// With no notifier running, a notification call must fail at once
	// instead of activating a daemon installed on the machine.
	err := conn.Object(NotificationsName, NotificationsPath).CallWithContext(ctx, NotificationsIface+".GetCapabilities", 0).Err
	var derr dbus.Error
	if !errors.As(err, &derr) || derr.Name != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Errorf("GetCapabilities without a notifier: err = %v, want ServiceUnknown", err)
	}
}

func TestWatcherMenuAndClick(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	w := StartWatcher(t, bus)
	app := startFakeApp(t, bus)
	if err := recv(t, ctx, app.regErrs, "registration"); err != nil {
		t.Fatalf("RegisterStatusNotifierItem: %v", err)
	}

	item, err := w.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if item.BusName != app.busName() || item.Path != fakeItemPath {
		t.Fatalf("item = %s, want %s%s", item, app.busName(), fakeItemPath)
	}
	if got := w.Registrations(); got != 1 {
		t.Errorf("Registrations() = %d, want 1", got)
	}

	// The watcher's properties, as a panel would read them.
	client := bus.Conn(t)
	watcherObj := client.Object(WatcherName, WatcherPath)
	var regs []string
	if err := watcherObj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, WatcherIface, "RegisteredStatusNotifierItems").Store(&regs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(regs, []string{app.busName() + string(fakeItemPath)}) {
		t.Errorf("RegisteredStatusNotifierItems = %q", regs)
	}
	var hostRegistered bool
	if err := watcherObj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, WatcherIface, "IsStatusNotifierHostRegistered").Store(&hostRegistered); err != nil || !hostRegistered {
		t.Errorf("IsStatusNotifierHostRegistered = %v, %v; want true", hostRegistered, err)
	}
	var version int32 = -1
	if err := watcherObj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, WatcherIface, "ProtocolVersion").Store(&version); err != nil || version != 0 {
		t.Errorf("ProtocolVersion = %v, %v; want 0", version, err)
	}

	// Item properties.
	if tip, err := item.Tooltip(ctx); err != nil || tip != "Fake: disconnected" {
		t.Errorf("Tooltip() = %q, %v", tip, err)
	}
	if st, err := item.Status(ctx); err != nil || st != "Active" {
		t.Errorf("Status() = %q, %v", st, err)
	}
	if title, err := item.Title(ctx); err != nil || title != "Fake tray" {
		t.Errorf("Title() = %q, %v", title, err)
	}
	if wd, ht, err := item.IconPixmapSize(ctx); err != nil || wd != 22 || ht != 22 {
		t.Errorf("IconPixmapSize() = %d, %d, %v; want 22, 22", wd, ht, err)
	}
	if p, err := item.MenuPath(ctx); err != nil || p != fakeMenuPath {
		t.Errorf("MenuPath() = %q, %v", p, err)
	}
	if err := item.Activate(ctx, 3, 4); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ctx, app.activations, "Activate"); got != [2]int32{3, 4} {
		t.Errorf("Activate reached the app as %v", got)
	}

	// The first GetLayout is answered one level deep; Layout must still
	// return the submenu.
	root, err := item.Layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := []string{"Status: Disconnected (disabled)", "Connect", "More", "About", "Check for updates", "Quit", "Hidden thing (hidden)"}
	if got := root.Labels(); !slices.Equal(got, wantLabels) {
		t.Errorf("Labels() = %q, want %q", got, wantLabels)
	}
	if len(root.Children) != 6 {
		t.Fatalf("root has %d children, want 6", len(root.Children))
	}
	sep := root.Children[2]
	if sep.Type != "separator" || sep.Label != "" || !sep.Enabled || !sep.Visible {
		t.Errorf("separator decoded as %+v", sep)
	}
	quit, ok := root.FindByLabel("Qu")
	if !ok || quit.ID != 7 || quit.Type != "standard" || !quit.Enabled || !quit.Visible || quit.ToggleType != "" || quit.ToggleState != -1 {
		t.Errorf("FindByLabel(Qu) = %+v, %v; want id 7 with dbusmenu defaults", quit, ok)
	}
	check, ok := root.FindByLabel("Check for")
	if !ok || check.ID != 6 || check.ToggleType != "checkmark" || check.ToggleState != 1 {
		t.Errorf("FindByLabel(Check for) = %+v, %v", check, ok)
	}
	if more, _ := root.FindByLabel("More"); more.ChildrenDisplay != "submenu" || len(more.Children) != 2 {
		t.Errorf("More = %+v, want a submenu with 2 entries", more)
	}
	if st, _ := root.FindByLabel("Status"); st.Enabled {
		t.Errorf("Status entry should be disabled: %+v", st)
	}
	if h, _ := root.FindByLabel("Hidden"); h.Visible {
		t.Errorf("Hidden entry should be invisible: %+v", h)
	}
	if _, ok := root.FindByLabel("Nope"); ok {
		t.Error("FindByLabel(Nope) found something")
	}

	// Clicks reach the app.
	if err := item.Click(ctx, check.ID); err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, ctx, app.events, "click"); ev != (fakeEvent{6, "clicked"}) {
		t.Errorf("app got event %+v, want clicked on 6", ev)
	}
	if n, err := item.ClickLabel(ctx, "Connect"); err != nil || n.ID != 2 {
		t.Fatalf("ClickLabel(Connect) = %+v, %v", n, err)
	}
	if ev := recv(t, ctx, app.events, "click"); ev != (fakeEvent{2, "clicked"}) {
		t.Errorf("app got event %+v, want clicked on 2", ev)
	}
	if _, err := item.ClickLabel(ctx, "Status"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("ClickLabel on a disabled entry: err = %v, want a 'disabled' error", err)
	}
}

func TestWaitLabel(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	w := StartWatcher(t, bus)
	app := startFakeApp(t, bus)
	item, err := w.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Change the label only once WaitLabel has read the old menu, so the
	// new label can only be found through a re-read.
	type result struct {
		n   MenuNode
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := item.WaitLabel(ctx, "Status: Connected")
		done <- result{n, err}
	}()
	for recv(t, ctx, app.layoutServed, "GetLayout") < 2 {
		// The first call was the truncated one; the submenu re-read is
		// the second.
	}
	app.setLabel(t, 1, "Status: Connected to office")
	r := recv(t, ctx, done, "WaitLabel")
	if r.err != nil || r.n.ID != 1 || r.n.Label != "Status: Connected to office" {
		t.Fatalf("WaitLabel = %+v, %v", r.n, r.err)
	}

	// A label that never shows up: the error comes at the deadline and
	// lists what was there. Hidden entries do not count as shown.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err = item.WaitLabel(short, "Hidden")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Status: Connected to office") || !strings.Contains(err.Error(), "Hidden thing (hidden)") {
		t.Errorf("WaitLabel(Hidden) err = %v; want deadline error listing the labels", err)
	}
}

func TestWatcherRestart(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	w1 := StartWatcher(t, bus)
	app := startFakeApp(t, bus)
	item, err := w1.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Watch the watcher name so we know when the host went away.
	client := bus.Conn(t)
	if err := client.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, WatcherName),
	); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 10)
	client.Signal(sigs)

	w1.Stop()
	w1.Stop() // idempotent
	sig := waitSignal(t, ctx, sigs, "org.freedesktop.DBus.NameOwnerChanged")
	if newOwner, _ := sig.Body[2].(string); newOwner != "" {
		t.Fatalf("after Stop, %s owner = %q, want none", WatcherName, newOwner)
	}
	var has bool
	if err := client.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, WatcherName).Store(&has); err != nil || has {
		t.Fatalf("NameHasOwner(%s) = %v, %v after Stop", WatcherName, has, err)
	}
	// The item outlives the host and stays readable.
	if _, err := item.Layout(ctx); err != nil {
		t.Fatalf("Layout after watcher Stop: %v", err)
	}

	w2 := StartWatcher(t, bus)
	item2, err := w2.WaitItem(ctx)
	if err != nil {
		t.Fatalf("app did not register with the restarted watcher: %v", err)
	}
	if item2.BusName != app.busName() || item2.Path != fakeItemPath {
		t.Errorf("re-registered item = %s", item2)
	}
	if got := w2.Registrations(); got != 1 {
		t.Errorf("new watcher Registrations() = %d, want 1", got)
	}
	if got := w1.Registrations(); got != 1 {
		t.Errorf("stopped watcher Registrations() = %d, want 1", got)
	}

	// When the app leaves the bus the watcher drops it and says so.
	if err := client.AddMatchSignal(
		dbus.WithMatchSender(WatcherName),
		dbus.WithMatchInterface(WatcherIface),
		dbus.WithMatchMember("StatusNotifierItemUnregistered"),
	); err != nil {
		t.Fatal(err)
	}
	name := app.busName()
	if err := app.conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w2.WaitGone(ctx, name); err != nil {
		t.Fatal(err)
	}
	if items := w2.Items(); len(items) != 0 {
		t.Errorf("Items() after the app left = %v", items)
	}
	sig = waitSignal(t, ctx, sigs, WatcherIface+".StatusNotifierItemUnregistered")
	if got, _ := sig.Body[0].(string); got != name+string(fakeItemPath) {
		t.Errorf("StatusNotifierItemUnregistered(%q), want %q", got, name+string(fakeItemPath))
	}
}

// quitter leaves the bus on its Event call before it can answer, as an
// app that quits on a click may.
type quitter struct{ conn *dbus.Conn }

func (q quitter) Event(id int32, eventID string, data dbus.Variant, timestamp uint32) *dbus.Error {
	q.conn.Close()
	return nil
}

func TestIsNoReply(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	app := bus.Conn(t)
	if err := app.Export(quitter{app}, fakeMenuPath, DbusmenuIface); err != nil {
		t.Fatal(err)
	}
	client := bus.Conn(t)
	err := client.Object(app.Names()[0], fakeMenuPath).CallWithContext(ctx, DbusmenuIface+".Event", 0,
		int32(1), "clicked", dbus.MakeVariant(""), uint32(0)).Err
	if !IsNoReply(err) {
		t.Errorf("IsNoReply(%v) = false for an app that left without answering", err)
	}
	err = client.Object("org.example.Nobody", fakeMenuPath).CallWithContext(ctx, DbusmenuIface+".Event", 0,
		int32(1), "clicked", dbus.MakeVariant(""), uint32(0)).Err
	if err == nil || IsNoReply(err) {
		t.Errorf("IsNoReply(%v) = true for a call to nobody", err)
	}
	if IsNoReply(nil) {
		t.Error("IsNoReply(nil) = true")
	}
}

// notify calls Notify the way github.com/gen2brain/beeep does.
func notify(ctx context.Context, conn *dbus.Conn, replaces uint32, icon, title, body string, actions []string, hints map[string]dbus.Variant) (uint32, error) {
	var id uint32
	err := conn.Object(NotificationsName, NotificationsPath).CallWithContext(ctx, NotificationsIface+".Notify", 0,
		"", replaces, icon, title, body, actions, hints, int32(-1)).Store(&id)
	return id, err
}

func TestNotifier(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	n := StartNotifier(t, bus, true)
	client := bus.Conn(t)
	obj := client.Object(NotificationsName, NotificationsPath)

	var caps []string
	if err := obj.CallWithContext(ctx, NotificationsIface+".GetCapabilities", 0).Store(&caps); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(caps, []string{"body", "actions"}) {
		t.Errorf("capabilities = %q", caps)
	}
	var name, vendor, version, spec string
	if err := obj.CallWithContext(ctx, NotificationsIface+".GetServerInformation", 0).Store(&name, &vendor, &version, &spec); err != nil {
		t.Fatal(err)
	}
	if name != ServerName || spec != ServerSpecVersion {
		t.Errorf("server information = %q %q %q %q", name, vendor, version, spec)
	}

	if err := client.AddMatchSignal(dbus.WithMatchSender(NotificationsName), dbus.WithMatchInterface(NotificationsIface)); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 10)
	client.Signal(sigs)

	// A plain notification, as beeep sends it.
	id1, err := notify(ctx, client, 0, "/tmp/cairn.png", "Cairn", "Daemon started", []string{}, map[string]dbus.Variant{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.Wait(ctx, func(x Notification) bool { return x.Summary == "Cairn" })
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id1 || got.Body != "Daemon started" || got.Icon != "/tmp/cairn.png" || got.AppName != "" ||
		len(got.Actions) != 0 || len(got.HintKeys) != 0 || got.Sender != client.Names()[0] || got.Time.IsZero() || got.ExpireTimeout != -1 {
		t.Errorf("recorded %+v", got)
	}

	// One with a button and hints; the user clicks the button.
	id2, err := notify(ctx, client, 0, "", "Update available", "v2 is out", []string{"default", "", "open", "Open"},
		map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1)), "desktop-entry": dbus.MakeVariant("cairn")})
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id1 {
		t.Fatalf("second notification reused id %d", id1)
	}
	got, err = n.Wait(ctx, func(x Notification) bool { return x.ID == id2 })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.HintKeys, []string{"desktop-entry", "urgency"}) || !slices.Equal(got.ActionKeys(), []string{"default", "open"}) {
		t.Errorf("recorded %+v", got)
	}
	if err := n.Invoke(id2, "nope"); err == nil {
		t.Error("Invoke with an action the notification does not offer succeeded")
	}
	if err := n.Invoke(id2, "open"); err != nil {
		t.Fatal(err)
	}
	sig := waitSignal(t, ctx, sigs, NotificationsIface+".ActionInvoked")
	if sig.Body[0] != id2 || sig.Body[1] != "open" {
		t.Errorf("ActionInvoked%v, want (%d, open)", sig.Body, id2)
	}
	sig = waitSignal(t, ctx, sigs, NotificationsIface+".NotificationClosed")
	if sig.Body[0] != id2 || sig.Body[1] != CloseDismissed {
		t.Errorf("NotificationClosed%v, want (%d, 2)", sig.Body, id2)
	}
	if err := n.Invoke(id2, "open"); err == nil {
		t.Error("Invoke on a closed notification succeeded")
	}

	// Replacing keeps the id; CloseNotification reports reason 3.
	id3, err := notify(ctx, client, id1, "", "Cairn", "Daemon stopped", nil, nil)
	if err != nil || id3 != id1 {
		t.Fatalf("replacing %d returned %d, %v", id1, id3, err)
	}
	if err := obj.CallWithContext(ctx, NotificationsIface+".CloseNotification", 0, id1).Err; err != nil {
		t.Fatal(err)
	}
	sig = waitSignal(t, ctx, sigs, NotificationsIface+".NotificationClosed")
	if sig.Body[0] != id1 || sig.Body[1] != CloseByCall {
		t.Errorf("NotificationClosed%v, want (%d, 3)", sig.Body, id1)
	}
	got, err = n.Wait(ctx, func(x Notification) bool { return x.Body == "Daemon stopped" && x.Closed })
	if err != nil || got.ReplacesID != id1 || got.CloseReason != CloseByCall {
		t.Errorf("replacement recorded as %+v, %v", got, err)
	}

	all := n.Notifications()
	var summaries []string
	for _, x := range all {
		summaries = append(summaries, x.Summary)
	}
	if want := []string{"Cairn", "Update available", "Cairn"}; !slices.Equal(summaries, want) {
		t.Errorf("Notifications() summaries = %q, want %q", summaries, want)
	}

	// Waiting for something that never comes ends at the deadline with
	// what was received.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = n.Wait(short, func(x Notification) bool { return x.Summary == "never" })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Update available") {
		t.Errorf("Wait(never) err = %v", err)
	}
}

func TestNotifierWithoutActions(t *testing.T) {
	ctx := testCtx(t)
	bus := StartBus(t)
	n := StartNotifier(t, bus, false)
	client := bus.Conn(t)
	var caps []string
	if err := client.Object(NotificationsName, NotificationsPath).CallWithContext(ctx, NotificationsIface+".GetCapabilities", 0).Store(&caps); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(caps, []string{"body"}) {
		t.Errorf("capabilities = %q, want [body]", caps)
	}
	id, err := notify(ctx, client, 0, "", "Hi", "there", []string{"open", "Open"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Invoke(id, "open"); err == nil {
		t.Error("Invoke on a server without actions succeeded")
	}
	if err := n.Dismiss(id); err != nil {
		t.Fatal(err)
	}
	if got, err := n.Wait(ctx, func(x Notification) bool { return x.ID == id }); err != nil || !got.Closed || got.CloseReason != CloseDismissed {
		t.Errorf("after Dismiss: %+v, %v", got, err)
	}

	// After Stop the name is free again and a new notifier can take it.
	n.Stop()
	n2 := StartNotifier(t, bus, true)
	if _, err := notify(ctx, client, 0, "", "Again", "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Wait(ctx, func(x Notification) bool { return x.Summary == "Again" }); err != nil {
		t.Fatal(err)
	}
	if len(n.Notifications()) != 1 {
		t.Errorf("stopped notifier recorded %d notifications, want 1", len(n.Notifications()))
	}
}

// A long test name makes t.TempDir long; the socket must still fit in
// sun_path.
func TestBusLongTestName(t *testing.T) {
	t.Run(strings.Repeat("very_long_subtest_name_", 6), func(t *testing.T) {
		ctx := testCtx(t)
		bus := StartBus(t)
		path := strings.TrimPrefix(strings.SplitN(bus.Address(), ",", 2)[0], "unix:path=")
		if len(path) > maxSocketPath {
			t.Errorf("socket path %q is %d bytes", path, len(path))
		}
		var id string
		if err := bus.Conn(t).BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetId", 0).Store(&id); err != nil || id == "" {
			t.Errorf("GetId = %q, %v", id, err)
		}
	})
}
