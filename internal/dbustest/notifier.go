package dbustest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// Desktop Notifications names, as in the freedesktop.org specification.
const (
	NotificationsName  = "org.freedesktop.Notifications"
	NotificationsPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	NotificationsIface = "org.freedesktop.Notifications"
)

// NotificationClosed reasons from the specification.
const (
	CloseExpired   uint32 = 1
	CloseDismissed uint32 = 2 // dismissed by the user, also after an action click
	CloseByCall    uint32 = 3 // closed by CloseNotification
	CloseUndefined uint32 = 4
)

// Server identity reported by GetServerInformation.
const (
	ServerName        = "cairn-dbustest"
	ServerVendor      = "cairn"
	ServerVersion     = "1.0"
	ServerSpecVersion = "1.2"
)

// Notification is one Notify call as the test notification server received
// it.
type Notification struct {
	// ID is what Notify returned: a new id, or ReplacesID when that named
	// a notification this server had shown.
	ID         uint32
	ReplacesID uint32
	AppName    string
	Icon       string
	Summary    string
	Body       string
	// Actions is the flat key, label, key, label... list as sent.
	Actions []string
	// HintKeys are the hint names, sorted; Hints has their values.
	HintKeys      []string
	Hints         map[string]dbus.Variant
	ExpireTimeout int32
	// Sender is the unique bus name of the caller.
	Sender string
	// Time is when the server received the call.
	Time time.Time
	// Closed and CloseReason tell whether and why the notification was
	// closed (by CloseNotification, Invoke or Dismiss).
	Closed      bool
	CloseReason uint32
}

// ActionKeys returns the action keys (the even entries of Actions).
func (n Notification) ActionKeys() []string {
	var keys []string
	for i := 0; i+1 < len(n.Actions); i += 2 {
		keys = append(keys, n.Actions[i])
	}
	return keys
}

// HasAction reports whether the notification offers the action key.
func (n Notification) HasAction(key string) bool {
	for _, k := range n.ActionKeys() {
		if k == key {
			return true
		}
	}
	return false
}

// Notifier is a test notification server (what a desktop's notification
// daemon does), owning org.freedesktop.Notifications so the app's
// notifications land here instead of on a screen: the test can assert on
// them and click their buttons.
type Notifier struct {
	conn        *dbus.Conn
	withActions bool

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	list    []Notification
	lastID  uint32

	stopOnce sync.Once
}

// StartNotifier starts a notification server on bus and returns once it
// owns org.freedesktop.Notifications. withActions decides whether
// GetCapabilities lists "actions": apps (and libraries such as beeep) send
// buttons only to servers that have it, so a test can cover both kinds of
// desktop. It fails the test if the name is already owned.
func StartNotifier(t testing.TB, bus *Bus, withActions bool) *Notifier {
	t.Helper()
	n := &Notifier{
		conn:        bus.Conn(t),
		withActions: withActions,
		changed:     make(chan struct{}),
	}
	t.Cleanup(n.Stop)
	if err := n.start(); err != nil {
		t.Fatalf("dbustest: notifier: %v", err)
	}
	return n
}

func (n *Notifier) start() error {
	if err := n.conn.Export(notifierMethods{n}, NotificationsPath, NotificationsIface); err != nil {
		return fmt.Errorf("exporting notifier: %w", err)
	}
	s := func(name string) introspect.Arg { return introspect.Arg{Name: name, Type: "s", Direction: "in"} }
	node := &introspect.Node{
		Name: string(NotificationsPath),
		Interfaces: []introspect.Interface{
			introspect.IntrospectData,
			{
				Name: NotificationsIface,
				Methods: []introspect.Method{
					{Name: "GetCapabilities", Args: []introspect.Arg{{Name: "capabilities", Type: "as", Direction: "out"}}},
					{Name: "Notify", Args: []introspect.Arg{
						s("app_name"), {Name: "replaces_id", Type: "u", Direction: "in"}, s("app_icon"), s("summary"), s("body"),
						{Name: "actions", Type: "as", Direction: "in"}, {Name: "hints", Type: "a{sv}", Direction: "in"},
						{Name: "expire_timeout", Type: "i", Direction: "in"}, {Name: "id", Type: "u", Direction: "out"},
					}},
					{Name: "CloseNotification", Args: []introspect.Arg{{Name: "id", Type: "u", Direction: "in"}}},
					{Name: "GetServerInformation", Args: []introspect.Arg{
						{Name: "name", Type: "s", Direction: "out"}, {Name: "vendor", Type: "s", Direction: "out"},
						{Name: "version", Type: "s", Direction: "out"}, {Name: "spec_version", Type: "s", Direction: "out"},
					}},
				},
				Signals: []introspect.Signal{
					{Name: "NotificationClosed", Args: []introspect.Arg{{Name: "id", Type: "u"}, {Name: "reason", Type: "u"}}},
					{Name: "ActionInvoked", Args: []introspect.Arg{{Name: "id", Type: "u"}, {Name: "action_key", Type: "s"}}},
				},
			},
		},
	}
	if err := n.conn.Export(introspect.NewIntrospectable(node), NotificationsPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return fmt.Errorf("exporting introspection: %w", err)
	}
	reply, err := n.conn.RequestName(NotificationsName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("requesting %s: %w", NotificationsName, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("requesting %s: not primary owner (reply %d); is another notifier running on this bus?", NotificationsName, reply)
	}
	return nil
}

// Stop makes the notification server go away (releases the name and
// unexports), so a test can cover an app notifying with no server running.
// It is idempotent and also runs at test cleanup.
func (n *Notifier) Stop() {
	n.stopOnce.Do(func() {
		_, _ = n.conn.ReleaseName(NotificationsName)
		_ = n.conn.Export(nil, NotificationsPath, NotificationsIface)
		_ = n.conn.Export(nil, NotificationsPath, "org.freedesktop.DBus.Introspectable")
	})
}

// notifierMethods carries the D-Bus methods so that Notifier's own Go
// methods are not exported on the bus.
type notifierMethods struct{ n *Notifier }

func (m notifierMethods) GetCapabilities() ([]string, *dbus.Error) {
	caps := []string{"body"}
	if m.n.withActions {
		caps = append(caps, "actions")
	}
	return caps, nil
}

func (m notifierMethods) Notify(sender dbus.Sender, appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expireTimeout int32,
) (uint32, *dbus.Error) {
	keys := make([]string, 0, len(hints))
	for k := range hints {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rec := Notification{
		ReplacesID:    replacesID,
		AppName:       appName,
		Icon:          appIcon,
		Summary:       summary,
		Body:          body,
		Actions:       append([]string(nil), actions...),
		HintKeys:      keys,
		Hints:         hints,
		ExpireTimeout: expireTimeout,
		Sender:        string(sender),
		Time:          time.Now(),
	}
	n := m.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if replacesID != 0 && n.indexLocked(replacesID) >= 0 {
		rec.ID = replacesID
	} else {
		n.lastID++
		rec.ID = n.lastID
	}
	n.list = append(n.list, rec)
	n.wakeLocked()
	return rec.ID, nil
}

func (m notifierMethods) CloseNotification(id uint32) *dbus.Error {
	// Per the spec a server emits NotificationClosed with reason 3 for a
	// notification it still shows; an unknown id is not an error.
	if m.n.markClosed(id, CloseByCall) {
		_ = m.n.conn.Emit(NotificationsPath, NotificationsIface+".NotificationClosed", id, CloseByCall)
	}
	return nil
}

func (m notifierMethods) GetServerInformation() (name, vendor, version, specVersion string, err *dbus.Error) {
	return ServerName, ServerVendor, ServerVersion, ServerSpecVersion, nil
}

// indexLocked returns the index of the latest record with id, or -1.
func (n *Notifier) indexLocked(id uint32) int {
	for i := len(n.list) - 1; i >= 0; i-- {
		if n.list[i].ID == id {
			return i
		}
	}
	return -1
}

// markClosed records that id was closed; it reports false if id is unknown
// or already closed.
func (n *Notifier) markClosed(id, reason uint32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.indexLocked(id)
	if i < 0 || n.list[i].Closed {
		return false
	}
	n.list[i].Closed = true
	n.list[i].CloseReason = reason
	n.wakeLocked()
	return true
}

func (n *Notifier) wakeLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// Notifications returns every Notify call received so far, oldest first.
func (n *Notifier) Notifications() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Notification(nil), n.list...)
}

// Wait returns the first notification, oldest first and including those
// received before the call, for which match returns true, waiting for new
// ones until ctx ends. To wait for a notification newer than some point,
// match on ID or Time. At ctx's end the error lists the summaries received.
func (n *Notifier) Wait(ctx context.Context, match func(Notification) bool) (Notification, error) {
	for {
		n.mu.Lock()
		// A copy, since Closed changes in place; match runs unlocked so
		// it may call back into the Notifier. All records are checked
		// again each time because a close can make an old one match.
		list := append([]Notification(nil), n.list...)
		ch := n.changed
		n.mu.Unlock()
		for _, rec := range list {
			if match(rec) {
				return rec, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			var seen []string
			for _, rec := range n.Notifications() {
				seen = append(seen, rec.Summary)
			}
			return Notification{}, fmt.Errorf("dbustest: notifier: no matching notification: %w; summaries received: %q", ctx.Err(), seen)
		}
	}
}

// Invoke acts as the user clicking the action button actionKey of
// notification id: like a real server it emits ActionInvoked(id, actionKey)
// and then NotificationClosed(id, 2). It fails if the server was started
// without the actions capability, the notification is unknown or already
// closed, or it has no such action, because a real desktop could not
// produce that click either.
func (n *Notifier) Invoke(id uint32, actionKey string) error {
	if !n.withActions {
		return fmt.Errorf("dbustest: notifier: Invoke(%d, %q): server has no actions capability", id, actionKey)
	}
	n.mu.Lock()
	i := n.indexLocked(id)
	var rec Notification
	if i >= 0 {
		rec = n.list[i]
	}
	n.mu.Unlock()
	switch {
	case i < 0:
		return fmt.Errorf("dbustest: notifier: Invoke(%d, %q): no such notification", id, actionKey)
	case rec.Closed:
		return fmt.Errorf("dbustest: notifier: Invoke(%d, %q): notification already closed", id, actionKey)
	case !rec.HasAction(actionKey):
		return fmt.Errorf("dbustest: notifier: Invoke(%d, %q): notification offers actions %q", id, actionKey, rec.ActionKeys())
	}
	if err := n.conn.Emit(NotificationsPath, NotificationsIface+".ActionInvoked", id, actionKey); err != nil {
		return fmt.Errorf("dbustest: notifier: emitting ActionInvoked: %w", err)
	}
	return n.close(id, CloseDismissed)
}

// Dismiss acts as the user closing notification id without picking an
// action: it emits NotificationClosed(id, 2).
func (n *Notifier) Dismiss(id uint32) error {
	return n.close(id, CloseDismissed)
}

func (n *Notifier) close(id, reason uint32) error {
	if !n.markClosed(id, reason) {
		return fmt.Errorf("dbustest: notifier: close(%d): no such open notification", id)
	}
	if err := n.conn.Emit(NotificationsPath, NotificationsIface+".NotificationClosed", id, reason); err != nil {
		return fmt.Errorf("dbustest: notifier: emitting NotificationClosed: %w", err)
	}
	return nil
}
