package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The Desktop Notifications service, from the freedesktop.org
// specification.
const (
	serverName  = "org.freedesktop.Notifications"
	serverPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	serverIface = "org.freedesktop.Notifications"
)

const (
	// desktopEntry names the tray's .desktop file, through which the
	// server finds the app's name, icon and the user's per-app settings.
	desktopEntry = "cairn-tray"
	// rememberedIDs bounds the ids kept for matching clicks; the tray
	// shows a handful of notifications in a session.
	rememberedIDs = 64
)

// dbusNotifier talks to the notification server over its own private
// session-bus connection. The shared one from dbus.SessionBus would also
// carry fyne.io/systray's traffic, whose re-register loop reads every
// signal on that connection and breaks on our NotificationClosed.
type dbusNotifier struct {
	appName string
	timeout time.Duration
	conn    *dbus.Conn
	signals chan *dbus.Signal
	actions chan ActionEvent

	done      chan struct{} // closed by Close
	loopDone  chan struct{} // closed when loop returns
	closeOnce sync.Once
	closeErr  error

	mu sync.Mutex
	// server is the server we last asked, valid while known: its unique
	// bus name and whether it shows buttons. Ids are per server, so sent
	// lists, oldest first, the ids that server gave our notifications.
	server server
	known  bool
	sent   []uint32
	// inflight counts Notify calls still waiting to record their id, and
	// settled is closed when that count drops to zero. A click can reach
	// loop before the Notify that showed it has recorded the id: the
	// reply and the signal are handed to different goroutines, and a
	// server may even emit the click first. Such a click waits for the
	// calls in flight before it is judged.
	inflight int
	settled  chan struct{}
}

type server struct {
	owner   string
	actions bool
}

func newNotifier(appName string) (Notifier, error) {
	n, err := newDBusNotifier(appName, callTimeout)
	if err != nil {
		// Not `return n, err`: a nil *dbusNotifier in a Notifier is a
		// non-nil interface, and the tray would call methods on it.
		return nil, err
	}
	return n, nil
}

func newDBusNotifier(appName string, timeout time.Duration) (*dbusNotifier, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		// Left to itself godbus would run dbus-launch, which starts a bus
		// daemon that outlives us and that no notification server is on.
		return nil, errors.New("notify: DBUS_SESSION_BUS_ADDRESS is not set, so there is no session bus to reach the notification server on (not starting one)")
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, fmt.Errorf("notify: connecting to the session bus at %s: %w", addr, err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify: authenticating to the session bus at %s: %w", addr, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify: registering on the session bus at %s: %w", addr, err)
	}

	n := &dbusNotifier{
		appName:  appName,
		timeout:  timeout,
		conn:     conn,
		signals:  make(chan *dbus.Signal, 16),
		actions:  make(chan ActionEvent, 8),
		done:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	conn.Signal(n.signals)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rules := [][]dbus.MatchOption{
		// Clicks, from whoever owns the server name at the time.
		{
			dbus.WithMatchSender(serverName),
			dbus.WithMatchObjectPath(serverPath),
			dbus.WithMatchInterface(serverIface),
			dbus.WithMatchMember("ActionInvoked"),
		},
		// The server starting, stopping or being replaced.
		{
			dbus.WithMatchSender("org.freedesktop.DBus"),
			dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
			dbus.WithMatchInterface("org.freedesktop.DBus"),
			dbus.WithMatchMember("NameOwnerChanged"),
			dbus.WithMatchArg(0, serverName),
		},
	}
	for _, rule := range rules {
		if err := conn.AddMatchSignalContext(ctx, rule...); err != nil {
			conn.Close()
			return nil, fmt.Errorf("notify: subscribing to notification signals: %w", err)
		}
	}
	go n.loop()
	return n, nil
}

func (n *dbusNotifier) Notify(nt Notification) (uint32, error) {
	n.begin()
	defer n.end() // after remember: a click waiting in loop then finds the id
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	srv, err := n.currentServer(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: showing %q: %w", nt.Title, err)
	}

	var actions []string
	if srv.actions {
		for _, a := range nt.Actions {
			actions = append(actions, a.Key, a.Label)
		}
	}
	hints := map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant(desktopEntry)}
	// An icon that does not decode is left out rather than failing the
	// notification: the words matter more than the picture.
	if img, err := imageData(nt.Icon); err == nil {
		hints["image-data"] = dbus.MakeVariant(img)
	}

	var id uint32
	err = n.conn.Object(serverName, serverPath).CallWithContext(ctx, serverIface+".Notify", 0,
		n.appName, uint32(0), "", nt.Title, nt.Body, actions, hints, int32(-1),
	).Store(&id)
	if err != nil {
		return 0, fmt.Errorf("notify: showing %q: %w", nt.Title, err)
	}
	n.remember(srv.owner, id)
	return id, nil
}

func (n *dbusNotifier) Actions() <-chan ActionEvent { return n.actions }

// SupportsActions answers from what the server said when last asked,
// which the NameOwnerChanged watch keeps current; it asks again only when
// the server has changed since.
func (n *dbusNotifier) SupportsActions() bool {
	n.mu.Lock()
	srv, known := n.server, n.known
	n.mu.Unlock()
	if known {
		return srv.actions
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	srv, err := n.ask(ctx)
	return err == nil && srv.actions
}

func (n *dbusNotifier) Close() error {
	n.closeOnce.Do(func() {
		close(n.done)
		<-n.loopDone
		n.conn.RemoveSignal(n.signals)
		n.closeErr = n.conn.Close()
	})
	return n.closeErr
}

// currentServer returns the server that owns the name now. Notify checks
// the owner itself rather than trust the NameOwnerChanged watch alone,
// since that signal may still be on its way when the server has just been
// replaced, and the buttons sent must suit the server that shows them.
func (n *dbusNotifier) currentServer(ctx context.Context) (server, error) {
	owner, err := n.owner(ctx)
	if err != nil {
		return server{}, err
	}
	n.mu.Lock()
	srv, known := n.server, n.known
	n.mu.Unlock()
	if known && owner != "" && owner == srv.owner {
		return srv, nil
	}
	return n.ask(ctx)
}

// ask asks the server for its capabilities and records the answer. The
// call goes to the well-known name, so a bus that starts notification
// servers on demand starts one.
func (n *dbusNotifier) ask(ctx context.Context) (server, error) {
	var caps []string
	err := n.conn.Object(serverName, serverPath).CallWithContext(ctx, serverIface+".GetCapabilities", 0).Store(&caps)
	if err != nil {
		return server{}, fmt.Errorf("asking the notification server (%s) for its capabilities: %w", serverName, err)
	}
	owner, err := n.owner(ctx)
	if err != nil {
		return server{}, err
	}
	srv := server{owner: owner, actions: slices.Contains(caps, "actions")}
	n.mu.Lock()
	defer n.mu.Unlock()
	if srv.owner != n.server.owner {
		n.sent = nil
	}
	n.server, n.known = srv, true
	return srv, nil
}

// owner returns the unique bus name that owns the server name, or "" when
// no server runs.
func (n *dbusNotifier) owner(ctx context.Context) (string, error) {
	var owner string
	err := n.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, serverName).Store(&owner)
	var dbusErr dbus.Error
	if errors.As(err, &dbusErr) && dbusErr.Name == "org.freedesktop.DBus.Error.NameHasNoOwner" {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up the owner of %s: %w", serverName, err)
	}
	return owner, nil
}

// begin and end bracket a Notify call for clicks that overtake its reply.
func (n *dbusNotifier) begin() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.inflight == 0 {
		n.settled = make(chan struct{})
	}
	n.inflight++
}

func (n *dbusNotifier) end() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inflight--
	if n.inflight == 0 {
		close(n.settled)
	}
}

// remember records that owner gave one of our notifications id.
func (n *dbusNotifier) remember(owner string, id uint32) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.known || n.server.owner != owner {
		return // replaced meanwhile: that server cannot click it any more
	}
	n.sent = append(n.sent, id)
	if len(n.sent) > rememberedIDs {
		n.sent = slices.Delete(n.sent, 0, len(n.sent)-rememberedIDs)
	}
}

// loop handles the connection's signals until Close.
func (n *dbusNotifier) loop() {
	defer close(n.loopDone)
	for {
		var sig *dbus.Signal
		select {
		case <-n.done:
			return
		case s, ok := <-n.signals:
			if !ok {
				return // the connection closed
			}
			sig = s
		}
		switch sig.Name {
		case serverIface + ".ActionInvoked":
			ev, ok := n.click(sig)
			if !ok {
				continue
			}
			select {
			case n.actions <- ev:
			case <-n.done:
				return
			}
		case "org.freedesktop.DBus.NameOwnerChanged":
			n.ownerChanged(sig)
		}
	}
}

// click returns the ActionEvent of an ActionInvoked signal, and false if
// the click was not on one of our notifications: the server emits clicks
// for every app's notifications to everyone listening.
//
// A click on an id not recorded yet waits for the Notify calls in flight
// (each bounded by the call timeout), since it may be on the notification
// one of them is about to record.
func (n *dbusNotifier) click(sig *dbus.Signal) (ActionEvent, bool) {
	var ev ActionEvent
	if err := dbus.Store(sig.Body, &ev.ID, &ev.Key); err != nil {
		return ActionEvent{}, false
	}
	ours, settled := n.ours(sig.Sender, ev.ID)
	if !ours && settled != nil {
		select {
		case <-settled:
			ours, _ = n.ours(sig.Sender, ev.ID)
		case <-n.done:
		}
	}
	if !ours {
		return ActionEvent{}, false
	}
	return ev, true
}

// ours reports whether sender is the server we know and id one of the
// notifications it showed for us; if not, it returns the channel that
// closes when the Notify calls now in flight have finished, or nil when
// there are none.
func (n *dbusNotifier) ours(sender string, id uint32) (bool, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.known && sender == n.server.owner && slices.Contains(n.sent, id) {
		return true, nil
	}
	if n.inflight > 0 {
		return false, n.settled
	}
	return false, nil
}

// ownerChanged forgets the server when the one we know has gone. It judges
// by the old owner, because the signal can arrive after Notify has already
// found and asked the new server.
func (n *dbusNotifier) ownerChanged(sig *dbus.Signal) {
	var name, oldOwner, newOwner string
	if err := dbus.Store(sig.Body, &name, &oldOwner, &newOwner); err != nil || name != serverName {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if newOwner == n.server.owner || oldOwner != n.server.owner {
		return // news about the server we know already, or about an older one
	}
	n.server, n.known, n.sent = server{}, false, nil
}

// imageHint is the "image-data" hint, D-Bus type (iiibiiay): width,
// height, bytes per row, has alpha, bits per sample, channels and the
// pixels, RGBA and not premultiplied.
type imageHint struct {
	Width, Height, RowStride int32
	HasAlpha                 bool
	BitsPerSample, Channels  int32
	Data                     []byte
}

func imageData(icon []byte) (imageHint, error) {
	if len(icon) == 0 {
		return imageHint{}, errors.New("no icon")
	}
	src, err := png.Decode(bytes.NewReader(icon))
	if err != nil {
		return imageHint{}, err
	}
	b := src.Bounds()
	img := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(img, img.Bounds(), src, b.Min, draw.Src)
	return imageHint{
		Width:         int32(b.Dx()),
		Height:        int32(b.Dy()),
		RowStride:     int32(img.Stride),
		HasAlpha:      true,
		BitsPerSample: 8,
		Channels:      4,
		Data:          img.Pix,
	}, nil
}
