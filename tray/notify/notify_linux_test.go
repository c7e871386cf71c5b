package notify

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cairnlabs/cairn/internal/dbustest"
)

// waitFor bounds every wait in these tests; it is generous for -race on a
// busy machine, and only a failing test ever waits that long.
const waitFor = 10 * time.Second

// start runs a private bus with a notification server on it, points the
// session bus address at it and returns a Notifier connected to it.
func start(t *testing.T, withActions bool) (*dbustest.Bus, *dbustest.Notifier, Notifier) {
	t.Helper()
	bus := dbustest.StartBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address())
	srv := dbustest.StartNotifier(t, bus, withActions)
	return bus, srv, newTestNotifier(t)
}

func newTestNotifier(t *testing.T) Notifier {
	t.Helper()
	n, err := New("Cairn")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

func received(t *testing.T, srv *dbustest.Notifier, id uint32) dbustest.Notification {
	t.Helper()
	rec, err := srv.Wait(waitCtx(t), func(rec dbustest.Notification) bool { return rec.ID == id })
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

var takeover = Action{Key: "takeover", Label: "Take over"}

// testIcon is a 3×2 PNG, not square so that width and height cannot be
// swapped unnoticed, with a half-transparent pixel to check that the
// pixels go out unpremultiplied.
func testIcon(t *testing.T) ([]byte, []byte) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	pixels := []color.NRGBA{
		{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255},
		{255, 255, 255, 0}, {200, 100, 50, 128}, {0, 0, 0, 255},
	}
	var want []byte
	for i, c := range pixels {
		img.SetNRGBA(i%3, i/3, c)
		want = append(want, c.R, c.G, c.B, c.A)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), want
}

func TestNotifyShowsNotification(t *testing.T) {
	_, srv, n := start(t, false)
	icon, pixels := testIcon(t)

	id, err := n.Notify(Notification{Title: "Port 7070 is taken", Body: "python3 (PID 4242) holds it.", Icon: icon})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	rec := received(t, srv, id)
	if rec.AppName != "Cairn" || rec.Summary != "Port 7070 is taken" || rec.Body != "python3 (PID 4242) holds it." {
		t.Errorf("received app %q, summary %q, body %q", rec.AppName, rec.Summary, rec.Body)
	}
	if got := rec.Hints["desktop-entry"].Value(); got != "cairn-tray" {
		t.Errorf("desktop-entry hint = %v, want cairn-tray", got)
	}

	hint, ok := rec.Hints["image-data"]
	if !ok {
		t.Fatalf("no image-data hint; hints: %q", rec.HintKeys)
	}
	// The recorded hint has lost its D-Bus signature (godbus re-wraps
	// struct values when storing a map of variants), but the decoded
	// fields keep their wire types, so compare those exactly.
	want := []any{int32(3), int32(2), int32(12), true, int32(8), int32(4), pixels}
	if got := hint.Value(); !reflect.DeepEqual(got, want) {
		t.Errorf("image-data = %#v\nwant (width, height, row stride, alpha, bits, channels, pixels) %#v", got, want)
	}
	if sig := dbus.SignatureOf(imageHint{}).String(); sig != "(iiibiiay)" {
		t.Errorf("image-data goes out as D-Bus type %s, want (iiibiiay)", sig)
	}
}

func TestNotifyWithoutIconSendsNoImage(t *testing.T) {
	for name, icon := range map[string][]byte{"none": nil, "not a PNG": []byte("GIF89a")} {
		t.Run(name, func(t *testing.T) {
			_, srv, n := start(t, false)
			id, err := n.Notify(Notification{Title: "Cairn stopped", Icon: icon})
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if rec := received(t, srv, id); slices.Contains(rec.HintKeys, "image-data") {
				t.Errorf("image-data hint sent for icon %q", icon)
			}
		})
	}
}

func TestActionsOnlyWhereTheServerShowsThem(t *testing.T) {
	for _, withActions := range []bool{false, true} {
		name := map[bool]string{false: "without", true: "with"}[withActions]
		t.Run(name, func(t *testing.T) {
			_, srv, n := start(t, withActions)
			if got := n.SupportsActions(); got != withActions {
				t.Errorf("SupportsActions() = %v, want %v", got, withActions)
			}
			id, err := n.Notify(Notification{Title: "Port 7070 is taken", Actions: []Action{takeover}})
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			rec := received(t, srv, id)
			var want []string
			if withActions {
				want = []string{"takeover", "Take over"}
			}
			if !slices.Equal(rec.Actions, want) {
				t.Errorf("actions sent = %q, want %q", rec.Actions, want)
			}
		})
	}
}

func TestActionClickIsDelivered(t *testing.T) {
	_, srv, n := start(t, true)
	id, err := n.Notify(Notification{Title: "Port 7070 is taken", Actions: []Action{takeover}})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if err := srv.Invoke(id, "takeover"); err != nil {
		t.Fatal(err)
	}
	if ev := nextAction(t, n); ev != (ActionEvent{ID: id, Key: "takeover"}) {
		t.Errorf("got %+v, want {ID:%d Key:takeover}", ev, id)
	}
}

// TestOtherClicksAreIgnored has a click on another app's notification and
// a forged ActionInvoked from a client that is not the server come first,
// then a real click on ours: the first event out must be ours. Signals
// reach us in the order the bus routed them, so nothing has to wait for
// an event that should not come.
func TestOtherClicksAreIgnored(t *testing.T) {
	bus, srv, n := start(t, true)
	ours, err := n.Notify(Notification{Title: "Port 7070 is taken", Actions: []Action{takeover}})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}

	other := bus.Conn(t)
	var foreign uint32
	err = other.Object(dbustest.NotificationsName, dbustest.NotificationsPath).Call(dbustest.NotificationsIface+".Notify", 0,
		"other app", uint32(0), "", "Hello", "", []string{"takeover", "Do it"}, map[string]dbus.Variant{}, int32(-1),
	).Store(&foreign)
	if err != nil {
		t.Fatalf("other app's Notify: %v", err)
	}
	if err := srv.Invoke(foreign, "takeover"); err != nil {
		t.Fatal(err)
	}
	if err := other.Emit(dbustest.NotificationsPath, dbustest.NotificationsIface+".ActionInvoked", ours, "forged"); err != nil {
		t.Fatal(err)
	}
	// A round trip through the bus daemon: once it answers, it has routed
	// the forged signal, so that signal is ahead of the real click.
	if err := other.BusObject().Call("org.freedesktop.DBus.GetId", 0).Err; err != nil {
		t.Fatal(err)
	}
	if err := srv.Invoke(ours, "takeover"); err != nil {
		t.Fatal(err)
	}
	if ev := nextAction(t, n); ev != (ActionEvent{ID: ours, Key: "takeover"}) {
		t.Errorf("first click delivered = %+v, want ours {ID:%d Key:takeover}", ev, ours)
	}
}

// eagerServer clicks the action of every notification it is sent before it
// even answers the Notify call: the click overtakes the reply that tells
// the app the notification's id.
type eagerServer struct {
	conn   *dbus.Conn
	lastID uint32
}

func (s *eagerServer) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body", "actions"}, nil
}

func (s *eagerServer) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expireTimeout int32,
) (uint32, *dbus.Error) {
	s.lastID++
	if len(actions) > 0 {
		if err := s.conn.Emit(dbustest.NotificationsPath, dbustest.NotificationsIface+".ActionInvoked", s.lastID, actions[0]); err != nil {
			return 0, dbus.MakeFailedError(err)
		}
	}
	return s.lastID, nil
}

// TestClickBeforeReplyIsDelivered: the loop that reads clicks and the
// caller of Notify are different goroutines, so a click can be judged
// before Notify has recorded the id the server gave; such a click was
// dropped as not ours. The eager server makes that order certain.
func TestClickBeforeReplyIsDelivered(t *testing.T) {
	bus := dbustest.StartBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address())
	conn := bus.Conn(t)
	srv := &eagerServer{conn: conn}
	if err := conn.Export(srv, dbustest.NotificationsPath, dbustest.NotificationsIface); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(dbustest.NotificationsName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v, %v", reply, err)
	}
	n := newTestNotifier(t)

	id, err := n.Notify(Notification{Title: "Port 7070 is taken", Actions: []Action{takeover}})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if ev := nextAction(t, n); ev != (ActionEvent{ID: id, Key: "takeover"}) {
		t.Errorf("got %+v, want {ID:%d Key:takeover}", ev, id)
	}
}

// TestNewServerIsAskedAgain replaces a server without buttons by one with
// them: the next notification carries buttons, and clicks on it arrive.
func TestNewServerIsAskedAgain(t *testing.T) {
	bus, first, n := start(t, false)
	id, err := n.Notify(Notification{Title: "one", Actions: []Action{takeover}})
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if rec := received(t, first, id); len(rec.Actions) != 0 {
		t.Fatalf("server without actions got actions %q", rec.Actions)
	}
	first.Stop()
	second := dbustest.StartNotifier(t, bus, true)

	id, err = n.Notify(Notification{Title: "two", Actions: []Action{takeover}})
	if err != nil {
		t.Fatalf("Notify after the server changed: %v", err)
	}
	if rec := received(t, second, id); !rec.HasAction("takeover") {
		t.Fatalf("new server with actions got actions %q", rec.Actions)
	}
	if err := second.Invoke(id, "takeover"); err != nil {
		t.Fatal(err)
	}
	if ev := nextAction(t, n); ev != (ActionEvent{ID: id, Key: "takeover"}) {
		t.Errorf("got %+v, want {ID:%d Key:takeover}", ev, id)
	}
	if !n.SupportsActions() {
		t.Error("SupportsActions() = false after the new server said it has actions")
	}
}

// TestSupportsActionsFollowsServerChange covers the NameOwnerChanged watch
// alone: no Notify in between.
func TestSupportsActionsFollowsServerChange(t *testing.T) {
	bus, first, n := start(t, true)
	if !n.SupportsActions() {
		t.Fatal("SupportsActions() = false with a server that has actions")
	}
	first.Stop()
	dbustest.StartNotifier(t, bus, false)
	ctx := waitCtx(t)
	for n.SupportsActions() {
		// The watch learns of the change asynchronously; poll the
		// cheap cached answer until it does.
		select {
		case <-ctx.Done():
			t.Fatal("SupportsActions() still true after the server was replaced by one without actions")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestNoServerFailsFast(t *testing.T) {
	bus := dbustest.StartBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address())
	n := newTestNotifier(t)

	began := time.Now()
	if _, err := n.Notify(Notification{Title: "nobody listens"}); err == nil {
		t.Fatal("Notify with no notification server succeeded")
	} else if !strings.Contains(err.Error(), dbustest.NotificationsName) {
		t.Errorf("error %q does not name %s", err, dbustest.NotificationsName)
	}
	if took := time.Since(began); took > callTimeout {
		t.Errorf("Notify took %v to fail, more than the %v call timeout", took, callTimeout)
	}
	if n.SupportsActions() {
		t.Error("SupportsActions() = true with no server")
	}
}

// hungServer owns the notification server name and never answers.
type hungServer struct{ release chan struct{} }

func (h hungServer) GetCapabilities() ([]string, *dbus.Error) {
	<-h.release
	return nil, dbus.MakeFailedError(errors.New("released"))
}

func TestHungServerTimesOut(t *testing.T) {
	bus := dbustest.StartBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address())
	conn := bus.Conn(t)
	h := hungServer{release: make(chan struct{})}
	// Registered after bus.Conn's cleanup, so it runs first.
	t.Cleanup(func() { close(h.release) })
	if err := conn.Export(h, dbustest.NotificationsPath, dbustest.NotificationsIface); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(dbustest.NotificationsName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v, %v", reply, err)
	}

	const timeout = 200 * time.Millisecond
	n, err := newDBusNotifier("Cairn", timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	began := time.Now()
	_, err = n.Notify(Notification{Title: "anyone?"})
	took := time.Since(began)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Notify to a hung server: err = %v, want a deadline error", err)
	}
	if took < timeout || took > 10*timeout {
		t.Errorf("Notify gave up after %v, want about %v", took, timeout)
	}
}

func TestNewNeedsSessionBusAddress(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	n, err := New("Cairn")
	if err == nil {
		n.Close()
		t.Fatal("New without DBUS_SESSION_BUS_ADDRESS succeeded")
	}
	if !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS") {
		t.Errorf("error %q does not mention DBUS_SESSION_BUS_ADDRESS", err)
	}
	// A typed nil inside the interface made the headless tray panic.
	if n != nil {
		t.Errorf("New failed but returned a non-nil Notifier %#v", n)
	}
}

func TestCloseTwiceAndNotifyAfterClose(t *testing.T) {
	bus := dbustest.StartBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address())
	dbustest.StartNotifier(t, bus, true)
	n, err := New("Cairn")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := n.Notify(Notification{Title: "late"}); err == nil {
		t.Error("Notify after Close succeeded")
	}
}

func nextAction(t *testing.T, n Notifier) ActionEvent {
	t.Helper()
	select {
	case ev := <-n.Actions():
		return ev
	case <-time.After(waitFor):
		t.Fatalf("no action delivered within %v", waitFor)
		return ActionEvent{}
	}
}
