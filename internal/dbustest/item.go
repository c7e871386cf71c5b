package dbustest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Interfaces an item implements.
const (
	ItemIface     = "org.kde.StatusNotifierItem"
	DbusmenuIface = "com.canonical.dbusmenu"
)

// menuPollInterval is the fallback re-read interval of WaitMenu. Signals
// are the primary trigger; the poll only covers a signal that was missed
// (for example one emitted between the app's change and our subscription
// taking effect on a different code path of the app).
const menuPollInterval = 200 * time.Millisecond

// Item is a StatusNotifierItem registered on the bus: the tray icon of an
// app, seen from the tray host's side. Its methods do what a panel does when
// the user hovers, opens the menu or clicks an entry.
type Item struct {
	// BusName is the connection that owns the item (usually the app's
	// unique name, like ":1.7").
	BusName string
	// Path is the item's object path (fyne.io/systray: /StatusNotifierItem).
	Path dbus.ObjectPath

	conn *dbus.Conn
}

// NewItem returns an Item for an item at busName and path that is read
// through conn, for tests that find the item some other way than through a
// Watcher.
func NewItem(conn *dbus.Conn, busName string, path dbus.ObjectPath) *Item {
	return &Item{BusName: busName, Path: path, conn: conn}
}

// String returns the item as a watcher lists it: bus name followed by path.
func (it *Item) String() string { return it.BusName + string(it.Path) }

// Property reads a property of the org.kde.StatusNotifierItem interface.
func (it *Item) Property(ctx context.Context, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := it.conn.Object(it.BusName, it.Path).CallWithContext(ctx,
		"org.freedesktop.DBus.Properties.Get", 0, ItemIface, name).Store(&v)
	if err != nil {
		return dbus.Variant{}, fmt.Errorf("dbustest: item %s: get %s: %w", it, name, err)
	}
	return v, nil
}

func (it *Item) stringProperty(ctx context.Context, name string) (string, error) {
	v, err := it.Property(ctx, name)
	if err != nil {
		return "", err
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", fmt.Errorf("dbustest: item %s: %s is %s, not a string", it, name, v.Signature())
	}
	return s, nil
}

// Status returns the item's Status property (Passive, Active or
// NeedsAttention).
func (it *Item) Status(ctx context.Context) (string, error) {
	return it.stringProperty(ctx, "Status")
}

// Title returns the item's Title property.
func (it *Item) Title(ctx context.Context) (string, error) {
	return it.stringProperty(ctx, "Title")
}

// Tooltip returns the title of the item's ToolTip property, which has the
// D-Bus type (sa(iiay)ss): icon name, icon pixmaps, title, description. The
// title is the text a panel shows on hover.
func (it *Item) Tooltip(ctx context.Context) (string, error) {
	v, err := it.Property(ctx, "ToolTip")
	if err != nil {
		return "", err
	}
	fields, ok := asSlice(v.Value())
	if !ok || len(fields) != 4 {
		return "", fmt.Errorf("dbustest: item %s: ToolTip has type %s, want (sa(iiay)ss)", it, v.Signature())
	}
	title, ok := fields[2].(string)
	if !ok {
		return "", fmt.Errorf("dbustest: item %s: ToolTip has type %s, want (sa(iiay)ss)", it, v.Signature())
	}
	return title, nil
}

// IconPixmapSize returns the width and height of the first pixmap of the
// item's IconPixmap property (a(iiay)), or 0, 0 if it has none; enough for a
// test to tell that the app set an icon.
func (it *Item) IconPixmapSize(ctx context.Context) (width, height int, err error) {
	v, err := it.Property(ctx, "IconPixmap")
	if err != nil {
		return 0, 0, err
	}
	pixmaps, ok := asSlice(v.Value())
	if !ok {
		return 0, 0, fmt.Errorf("dbustest: item %s: IconPixmap has type %s, want a(iiay)", it, v.Signature())
	}
	if len(pixmaps) == 0 {
		return 0, 0, nil
	}
	px, ok := asSlice(pixmaps[0])
	if !ok || len(px) != 3 {
		return 0, 0, fmt.Errorf("dbustest: item %s: IconPixmap has type %s, want a(iiay)", it, v.Signature())
	}
	w, okW := asInt(px[0])
	h, okH := asInt(px[1])
	if !okW || !okH {
		return 0, 0, fmt.Errorf("dbustest: item %s: IconPixmap has type %s, want a(iiay)", it, v.Signature())
	}
	return int(w), int(h), nil
}

// IconPixmap returns the first pixmap of the item's IconPixmap property:
// its width, height and ARGB32 bytes in network order, as the
// StatusNotifierItem spec has them; 0, 0, nil if it has none.
func (it *Item) IconPixmap(ctx context.Context) (width, height int, argb []byte, err error) {
	v, err := it.Property(ctx, "IconPixmap")
	if err != nil {
		return 0, 0, nil, err
	}
	pixmaps, ok := asSlice(v.Value())
	if !ok {
		return 0, 0, nil, fmt.Errorf("dbustest: item %s: IconPixmap has type %s, want a(iiay)", it, v.Signature())
	}
	if len(pixmaps) == 0 {
		return 0, 0, nil, nil
	}
	px, ok := asSlice(pixmaps[0])
	if !ok || len(px) != 3 {
		return 0, 0, nil, fmt.Errorf("dbustest: item %s: IconPixmap has type %s, want a(iiay)", it, v.Signature())
	}
	w, okW := asInt(px[0])
	h, okH := asInt(px[1])
	data, okD := px[2].([]byte)
	if !okW || !okH || !okD {
		return 0, 0, nil, fmt.Errorf("dbustest: item %s: IconPixmap has type %s, want a(iiay)", it, v.Signature())
	}
	return int(w), int(h), data, nil
}

// Activate calls the item's Activate method, which a panel sends on a left
// click on the icon.
func (it *Item) Activate(ctx context.Context, x, y int32) error {
	err := it.conn.Object(it.BusName, it.Path).CallWithContext(ctx, ItemIface+".Activate", 0, x, y).Err
	if err != nil {
		return fmt.Errorf("dbustest: item %s: Activate: %w", it, err)
	}
	return nil
}

// MenuPath returns the object path of the item's dbusmenu, from the item's
// Menu property. It is read rather than assumed because it differs between
// libraries and versions (fyne.io/systray v1.12 uses
// /StatusNotifierItem/menu).
func (it *Item) MenuPath(ctx context.Context) (dbus.ObjectPath, error) {
	v, err := it.Property(ctx, "Menu")
	if err != nil {
		return "", err
	}
	p, ok := v.Value().(dbus.ObjectPath)
	if !ok || !p.IsValid() || p == "/" {
		return "", fmt.Errorf("dbustest: item %s: Menu is %v, want an object path", it, v)
	}
	return p, nil
}

// MenuNode is one entry of a dbusmenu layout, with the properties a test
// asserts on decoded and dbusmenu's defaults applied for absent ones.
type MenuNode struct {
	ID    int32
	Label string // "label", default ""
	// Enabled and Visible default to true when absent.
	Enabled bool
	Visible bool
	// ToggleType is "checkmark", "radio" or "" (default).
	ToggleType string
	// ToggleState is 0 off, 1 on, anything else indeterminate; default -1.
	ToggleState int32
	// Type is "standard" (default) or "separator".
	Type string
	// ChildrenDisplay is "submenu" for an entry with a submenu, else "".
	ChildrenDisplay string
	// Props holds all properties as sent, for anything not decoded above
	// (icon-data, shortcut, ...).
	Props    map[string]dbus.Variant
	Children []MenuNode
}

// Find returns the first node of the tree rooted at n, depth first and n
// included, for which match returns true.
func (n MenuNode) Find(match func(MenuNode) bool) (MenuNode, bool) {
	if match(n) {
		return n, true
	}
	for _, c := range n.Children {
		if found, ok := c.Find(match); ok {
			return found, true
		}
	}
	return MenuNode{}, false
}

// FindByLabel returns the first node, depth first, whose label starts with
// prefix. Hidden and disabled nodes match too: check Visible and Enabled
// when that matters.
func (n MenuNode) FindByLabel(prefix string) (MenuNode, bool) {
	return n.Find(func(m MenuNode) bool { return m.Type != "separator" && strings.HasPrefix(m.Label, prefix) })
}

// Labels returns the labels of all nodes below n, depth first, skipping
// separators; hidden ones are marked "(hidden)" and disabled ones
// "(disabled)". It is meant for failure messages.
func (n MenuNode) Labels() []string {
	var out []string
	var walk func(MenuNode)
	walk = func(m MenuNode) {
		for _, c := range m.Children {
			if c.Type != "separator" {
				l := c.Label
				if !c.Visible {
					l += " (hidden)"
				}
				if !c.Enabled {
					l += " (disabled)"
				}
				out = append(out, l)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// Layout reads the item's whole menu with
// com.canonical.dbusmenu.GetLayout(0, -1, []) and decodes it.
//
// fyne.io/systray answers the first GetLayout after a menu reset with only
// one level (a workaround for libdbusmenu-gtk), so an entry that announces a
// submenu (children-display "submenu") but comes without children is read
// again on its own; that way Layout always returns the full tree.
func (it *Item) Layout(ctx context.Context) (MenuNode, error) {
	menuPath, err := it.MenuPath(ctx)
	if err != nil {
		return MenuNode{}, err
	}
	return it.layoutAt(ctx, menuPath)
}

func (it *Item) layoutAt(ctx context.Context, menuPath dbus.ObjectPath) (MenuNode, error) {
	root, err := it.getLayout(ctx, menuPath, 0)
	if err != nil {
		return MenuNode{}, err
	}
	if err := it.fillSubmenus(ctx, menuPath, &root, 0); err != nil {
		return MenuNode{}, err
	}
	return root, nil
}

// maxMenuDepth guards fillSubmenus against a buggy app that keeps returning
// a submenu's own entry as its child.
const maxMenuDepth = 32

func (it *Item) fillSubmenus(ctx context.Context, menuPath dbus.ObjectPath, n *MenuNode, depth int) error {
	if depth > maxMenuDepth {
		return fmt.Errorf("dbustest: item %s: menu deeper than %d levels", it, maxMenuDepth)
	}
	for i := range n.Children {
		c := &n.Children[i]
		if c.ChildrenDisplay == "submenu" && len(c.Children) == 0 {
			sub, err := it.getLayout(ctx, menuPath, c.ID)
			if err != nil {
				return err
			}
			c.Children = sub.Children
		}
		if err := it.fillSubmenus(ctx, menuPath, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (it *Item) getLayout(ctx context.Context, menuPath dbus.ObjectPath, parent int32) (MenuNode, error) {
	call := it.conn.Object(it.BusName, menuPath).CallWithContext(ctx,
		DbusmenuIface+".GetLayout", 0, parent, int32(-1), []string{})
	if call.Err != nil {
		return MenuNode{}, fmt.Errorf("dbustest: item %s: GetLayout(%d): %w", it, parent, call.Err)
	}
	if len(call.Body) != 2 {
		return MenuNode{}, fmt.Errorf("dbustest: item %s: GetLayout(%d) returned %d values, want 2", it, parent, len(call.Body))
	}
	n, err := parseMenuNode(call.Body[1])
	if err != nil {
		return MenuNode{}, fmt.Errorf("dbustest: item %s: GetLayout(%d): %w", it, parent, err)
	}
	return n, nil
}

// parseMenuNode decodes one (ia{sv}av) layout entry as godbus delivers it:
// a struct as []interface{}, children as variants holding the same shape.
func parseMenuNode(v interface{}) (MenuNode, error) {
	fields, ok := asSlice(v)
	if !ok || len(fields) != 3 {
		return MenuNode{}, fmt.Errorf("layout entry is %T, want (ia{sv}av)", v)
	}
	id, ok := fields[0].(int32)
	if !ok {
		return MenuNode{}, fmt.Errorf("layout entry id is %T, want int32", fields[0])
	}
	props, ok := fields[1].(map[string]dbus.Variant)
	if !ok {
		return MenuNode{}, fmt.Errorf("layout entry %d properties are %T, want a{sv}", id, fields[1])
	}
	children, ok := fields[2].([]dbus.Variant)
	if !ok {
		return MenuNode{}, fmt.Errorf("layout entry %d children are %T, want av", id, fields[2])
	}
	n := MenuNode{
		ID:          id,
		Enabled:     true,
		Visible:     true,
		ToggleState: -1,
		Type:        "standard",
		Props:       props,
	}
	for k, pv := range props {
		switch k {
		case "label":
			n.Label, _ = pv.Value().(string)
		case "enabled":
			if b, ok := pv.Value().(bool); ok {
				n.Enabled = b
			}
		case "visible":
			if b, ok := pv.Value().(bool); ok {
				n.Visible = b
			}
		case "toggle-type":
			n.ToggleType, _ = pv.Value().(string)
		case "toggle-state":
			if i, ok := asInt(pv.Value()); ok {
				n.ToggleState = int32(i)
			}
		case "type":
			if s, ok := pv.Value().(string); ok && s != "" {
				n.Type = s
			}
		case "children-display":
			n.ChildrenDisplay, _ = pv.Value().(string)
		}
	}
	for _, cv := range children {
		c, err := parseMenuNode(cv.Value())
		if err != nil {
			return MenuNode{}, err
		}
		n.Children = append(n.Children, c)
	}
	return n, nil
}

// Event sends a dbusmenu event (like "clicked", "opened", "closed") for the
// menu entry id, the way a panel does.
func (it *Item) Event(ctx context.Context, id int32, eventID string) error {
	menuPath, err := it.MenuPath(ctx)
	if err != nil {
		return err
	}
	err = it.conn.Object(it.BusName, menuPath).CallWithContext(ctx, DbusmenuIface+".Event", 0,
		id, eventID, dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
	if err != nil {
		return fmt.Errorf("dbustest: item %s: Event(%d, %q): %w", it, id, eventID, err)
	}
	return nil
}

// IsNoReply reports whether err is D-Bus's NoReply: the app left the bus
// before it answered the call. An app that quits when its Quit entry is
// clicked may well do that, because it acts on the click before its reply
// goes out; the click was delivered, and a panel ignores the error. A test
// that clicks Quit checks the app's exit instead.
func IsNoReply(err error) bool {
	var dbusErr dbus.Error
	return errors.As(err, &dbusErr) && dbusErr.Name == "org.freedesktop.DBus.Error.NoReply"
}

// Click clicks the menu entry id, as when the user picks it in the tray menu.
func (it *Item) Click(ctx context.Context, id int32) error {
	return it.Event(ctx, id, "clicked")
}

// ClickLabel waits for a visible entry whose label starts with prefix and
// clicks it. It fails if the entry is disabled, since a user could not click
// it either.
func (it *Item) ClickLabel(ctx context.Context, prefix string) (MenuNode, error) {
	n, err := it.WaitLabel(ctx, prefix)
	if err != nil {
		return MenuNode{}, err
	}
	if !n.Enabled {
		return n, fmt.Errorf("dbustest: item %s: menu entry %q is disabled", it, n.Label)
	}
	return n, it.Click(ctx, n.ID)
}

// WaitLabel waits until the menu has a visible entry whose label starts with
// prefix and returns it. On ctx's end the error lists the labels seen last.
func (it *Item) WaitLabel(ctx context.Context, prefix string) (MenuNode, error) {
	var found MenuNode
	_, err := it.WaitMenu(ctx, func(root MenuNode) bool {
		n, ok := root.Find(func(m MenuNode) bool {
			return m.Visible && m.Type != "separator" && strings.HasPrefix(m.Label, prefix)
		})
		found = n
		return ok
	})
	if err != nil {
		return MenuNode{}, fmt.Errorf("waiting for menu label %q: %w", prefix, err)
	}
	return found, nil
}

// WaitMenu waits until cond holds for the item's menu and returns the menu.
//
// It is event driven: it subscribes to the menu's LayoutUpdated and
// ItemsPropertiesUpdated signals before the first read and reads the menu
// again on each, so it returns as soon as the app changes its menu. As a
// fallback for a missed signal it also re-reads every 200ms. When ctx ends
// it returns an error listing the labels seen last.
func (it *Item) WaitMenu(ctx context.Context, cond func(MenuNode) bool) (MenuNode, error) {
	menuPath, err := it.MenuPath(ctx)
	if err != nil {
		return MenuNode{}, err
	}
	match := []dbus.MatchOption{
		dbus.WithMatchSender(it.BusName),
		dbus.WithMatchObjectPath(menuPath),
		dbus.WithMatchInterface(DbusmenuIface),
	}
	if err := it.conn.AddMatchSignalContext(ctx, match...); err != nil {
		return MenuNode{}, fmt.Errorf("dbustest: item %s: subscribing to menu signals: %w", it, err)
	}
	defer func() { _ = it.conn.RemoveMatchSignal(match...) }()
	sigs := make(chan *dbus.Signal, 16)
	it.conn.Signal(sigs)
	defer it.conn.RemoveSignal(sigs)

	ticker := time.NewTicker(menuPollInterval)
	defer ticker.Stop()
	var (
		last    MenuNode
		seen    bool
		lastErr error
	)
	for {
		root, err := it.layoutAt(ctx, menuPath)
		if err == nil {
			last, seen, lastErr = root, true, nil
			if cond(root) {
				return root, nil
			}
		} else {
			lastErr = err
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				msg := "no menu read"
				if seen {
					msg = fmt.Sprintf("labels seen last: %q", last.Labels())
				}
				if lastErr != nil && !errors.Is(lastErr, ctx.Err()) {
					msg += fmt.Sprintf("; last error: %v", lastErr)
				}
				return MenuNode{}, fmt.Errorf("dbustest: item %s: %w; %s", it, ctx.Err(), msg)
			case sig, ok := <-sigs:
				if !ok {
					return MenuNode{}, fmt.Errorf("dbustest: item %s: connection closed", it)
				}
				if sig.Path == menuPath && strings.HasPrefix(sig.Name, DbusmenuIface+".") {
					break wait
				}
			case <-ticker.C:
				break wait
			}
		}
		// One read covers every signal already queued.
	drain:
		for {
			select {
			case _, ok := <-sigs:
				if !ok {
					break drain
				}
			default:
				break drain
			}
		}
	}
}

// asSlice returns v's elements if v is a slice or array (godbus decodes
// structs to []interface{} and arrays of structs to [][]interface{}).
func asSlice(v interface{}) ([]interface{}, bool) {
	if s, ok := v.([]interface{}); ok {
		return s, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
		return nil, false
	}
	out := make([]interface{}, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asInt accepts any D-Bus integer type: apps differ in which one they send
// (fyne.io/systray sends Go int, which godbus encodes as int32).
func asInt(v interface{}) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), true
	}
	return 0, false
}
