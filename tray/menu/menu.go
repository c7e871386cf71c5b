// Package menu turns the tray's one state value into what the user sees:
// the icon, the tooltip and the menu items. It is pure (no GUI, no I/O), so
// every state's menu is table-tested on every OS; the systray adapter only
// renders a Model.
package menu

// Icon names one of the tray icons in assets/.
type Icon string

// The icons, one per state the user can tell apart.
const (
	IconRunning  Icon = "running"
	IconStarting Icon = "starting"
	IconStopped  Icon = "stopped"
	IconConflict Icon = "conflict"
	IconCrashed  Icon = "crashed"
)

// Icons lists every icon, for asset checks.
var Icons = []Icon{IconRunning, IconStarting, IconStopped, IconConflict, IconCrashed}

// Item IDs. The menu always holds these items in this order; a state only
// changes their labels, enabled, visible and checked flags, so the adapter
// creates the items once and updates them in place.
const (
	IDStatus    = "status"
	IDUpdate    = "update" // "Update available: v1.3.0…", shown only then
	IDDashboard = "dashboard"
	IDCopyAddr  = "copy_address"
	IDStart     = "start"
	IDRestart   = "restart"
	IDStop      = "stop"
	IDForceStop = "force_stop"
	IDTakeover  = "takeover"
	IDLogin     = "login"
	IDUpdates   = "check-updates" // the "Check for updates" checkbox
	IDLogs      = "logs"
	IDAbout     = "about"
	IDQuit      = "quit"
)

// IDs lists the items in their order; a new item is added here and in
// Build, nowhere else.
var IDs = []string{IDStatus, IDUpdate, IDDashboard, IDCopyAddr, IDStart, IDRestart, IDStop, IDForceStop, IDTakeover, IDLogin, IDUpdates, IDLogs, IDAbout, IDQuit}

// Item is one menu entry.
type Item struct {
	ID        string
	Label     string
	Enabled   bool
	Visible   bool
	Checkable bool
	Checked   bool
	// SeparatorBefore draws a separator above the item.
	SeparatorBefore bool
}

// Model is everything the tray shows.
type Model struct {
	Icon Icon
	// DarkScheme: the desktop prefers a dark colour scheme, so the icon
	// is drawn in its light-on-dark variant where the OS has one (Linux).
	DarkScheme bool
	Tooltip    string
	Items      []Item
}

// Item returns the item with id, and false when there is none.
func (m Model) Item(id string) (Item, bool) {
	for _, it := range m.Items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}
