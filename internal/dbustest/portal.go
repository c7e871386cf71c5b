package dbustest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

// The desktop portal's settings names (xdg-desktop-portal).
const (
	PortalName  = "org.freedesktop.portal.Desktop"
	PortalPath  = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	PortalIface = "org.freedesktop.portal.Settings"
)

// Portal is a test desktop portal that serves one setting, the
// appearance namespace's color-scheme (0 no preference, 1 prefer dark,
// 2 prefer light), and signals SettingChanged when a test changes it.
type Portal struct {
	conn *dbus.Conn

	mu     sync.Mutex
	scheme uint32
	reads  int
}

// StartPortal starts a portal on bus with color-scheme scheme and returns
// once it owns org.freedesktop.portal.Desktop. withReadOne decides
// whether it has ReadOne (interface version 2) or only the older Read,
// which wraps the value in a second variant.
func StartPortal(t testing.TB, bus *Bus, scheme uint32, withReadOne bool) *Portal {
	t.Helper()
	p := &Portal{conn: bus.Conn(t), scheme: scheme}
	var methods any = portalV1{p}
	if withReadOne {
		methods = portalV2{portalV1{p}}
	}
	if err := p.conn.Export(methods, PortalPath, PortalIface); err != nil {
		t.Fatalf("dbustest: portal: %v", err)
	}
	reply, err := p.conn.RequestName(PortalName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("dbustest: portal: requesting %s: reply %d, %v", PortalName, reply, err)
	}
	return p
}

// SetScheme changes color-scheme and signals SettingChanged, as a portal
// does when the user switches the desktop's style.
func (p *Portal) SetScheme(scheme uint32) error {
	p.mu.Lock()
	p.scheme = scheme
	p.mu.Unlock()
	return p.conn.Emit(PortalPath, PortalIface+".SettingChanged",
		"org.freedesktop.appearance", "color-scheme", dbus.MakeVariant(scheme))
}

// Reads is how many times the setting was read.
func (p *Portal) Reads() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reads
}

func (p *Portal) read(namespace, key string) (uint32, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if namespace != "org.freedesktop.appearance" || key != "color-scheme" {
		return 0, dbus.NewError("org.freedesktop.portal.Error.NotFound", []any{fmt.Sprintf("no setting %s %s", namespace, key)})
	}
	p.reads++
	return p.scheme, nil
}

// portalV1 has only Read, whose answer is a variant holding a variant.
type portalV1 struct{ p *Portal }

func (m portalV1) Read(namespace, key string) (dbus.Variant, *dbus.Error) {
	v, err := m.p.read(namespace, key)
	if err != nil {
		return dbus.Variant{}, err
	}
	return dbus.MakeVariant(dbus.MakeVariant(v)), nil
}

// portalV2 adds ReadOne, which answers the value's variant.
type portalV2 struct{ portalV1 }

func (m portalV2) ReadOne(namespace, key string) (dbus.Variant, *dbus.Error) {
	v, err := m.p.read(namespace, key)
	if err != nil {
		return dbus.Variant{}, err
	}
	return dbus.MakeVariant(v), nil
}
