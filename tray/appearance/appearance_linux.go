package appearance

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

// The XDG desktop portal's settings, as in its Settings interface
// (org.freedesktop.portal.Settings, version 2 adds ReadOne).
const (
	PortalName  = "org.freedesktop.portal.Desktop"
	PortalPath  = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	PortalIface = "org.freedesktop.portal.Settings"
	Namespace   = "org.freedesktop.appearance"
	Key         = "color-scheme"
)

// Values of color-scheme.
const (
	NoPreference uint32 = 0
	PreferDark   uint32 = 1
	PreferLight  uint32 = 2
)

// callTimeout bounds one call to the portal: the bus may start it on
// demand (D-Bus activation), which takes a moment, but a portal that
// never answers must not hold the icon's colour hostage.
const callTimeout = 5 * time.Second

// Watch calls dark with whether the desktop prefers a dark colour scheme
// each time the portal says (at start, on its SettingChanged signal, and
// when a portal appears on the bus), until ctx ends. Without a bus or a
// portal it says nothing, so the default icons stay.
func (w Watcher) Watch(ctx context.Context, dark func(bool)) {
	addr := w.BusAddress
	if addr == "" {
		addr = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	}
	if addr == "" {
		return
	}
	// The connection lives as long as ctx (godbus closes it when ctx
	// ends), and the dial runs on Watch's own goroutine, so a bus that
	// never answers holds nothing up.
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		w.Log.Info("colour scheme unknown: no session bus", "err", err)
		return
	}
	defer conn.Close()

	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	// Subscribe before reading, so a change in between is not lost.
	if err := conn.AddMatchSignal(
		dbus.WithMatchSender(PortalName),
		dbus.WithMatchObjectPath(PortalPath),
		dbus.WithMatchInterface(PortalIface),
		dbus.WithMatchMember("SettingChanged"),
		dbus.WithMatchArg(0, Namespace),
		dbus.WithMatchArg(1, Key),
	); err != nil {
		w.Log.Warn("cannot follow the colour scheme", "err", err)
		return
	}
	if err := conn.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, PortalName),
	); err != nil {
		w.Log.Warn("cannot watch for a desktop portal", "err", err)
	}

	report := func(v uint32) {
		w.Log.Info("colour scheme", "color_scheme", v)
		dark(v == PreferDark)
	}
	read := func() {
		v, err := readScheme(ctx, conn)
		switch {
		case err == nil:
			report(v)
		case ctx.Err() != nil:
		default:
			w.Log.Info("colour scheme unknown; the default icons stay", "err", err)
		}
	}
	read()
	for {
		select {
		case <-ctx.Done():
			return
		case sig, ok := <-signals:
			if !ok {
				return // the bus went away
			}
			switch sig.Name {
			case PortalIface + ".SettingChanged":
				if len(sig.Body) == 3 {
					if v, ok := schemeValue(sig.Body[2]); ok {
						report(v)
					}
				}
			case "org.freedesktop.DBus.NameOwnerChanged":
				if len(sig.Body) == 3 {
					if owner, _ := sig.Body[2].(string); owner != "" {
						read() // a portal (re)started: ask it
					}
				}
			}
		}
	}
}

// readScheme asks the portal with ReadOne, and with the older Read where
// ReadOne is unknown (portal interface version 1).
func readScheme(ctx context.Context, conn *dbus.Conn) (uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj := conn.Object(PortalName, PortalPath)
	var v dbus.Variant
	err := obj.CallWithContext(ctx, PortalIface+".ReadOne", 0, Namespace, Key).Store(&v)
	var derr dbus.Error
	if errors.As(err, &derr) && derr.Name == "org.freedesktop.DBus.Error.UnknownMethod" {
		err = obj.CallWithContext(ctx, PortalIface+".Read", 0, Namespace, Key).Store(&v)
	}
	if err != nil {
		return 0, err
	}
	s, ok := schemeValue(v)
	if !ok {
		return 0, errors.New("the portal's color-scheme is " + v.Signature().String() + ", not a number")
	}
	return s, nil
}

// schemeValue unwraps the value, which Read (version 1) sends as a
// variant inside a variant.
func schemeValue(v any) (uint32, bool) {
	for {
		vv, ok := v.(dbus.Variant)
		if !ok {
			break
		}
		v = vv.Value()
	}
	s, ok := v.(uint32)
	return s, ok
}
