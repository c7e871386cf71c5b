package menu

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/tray/supervisor"
)

// Extras is what the menu shows beyond the supervisor's status. Each
// field is one thing another part of the tray knows; a new one (an update
// notice, say) is a field here and an item in Build.
type Extras struct {
	Version      string
	LoginItem    bool   // start at login is on
	LoginItemSet bool   // the login item can be changed here
	LoginBroken  string // on, but broken (loginitem.State.Broken): a click repairs it
	Updates      Updates
	DarkScheme   bool // the desktop prefers dark (see Model.DarkScheme)
}

// Updates is what the menu shows of the update notice.
type Updates struct {
	Offered bool   // this build has a release feed: the checkbox shows
	On      bool   // "Check for updates" is on
	Set     bool   // the setting can be changed here (config.json is readable)
	Newer   string // a newer release's tag ("v1.3.0"), or ""
}

// Build is the one place that turns state into what the tray shows.
func Build(st supervisor.Status, x Extras, now time.Time) Model {
	line := StatusLine(st, now)
	running := st.State == supervisor.Running
	hung := st.State == supervisor.NotResponding
	// Start acts only where nothing runs and nothing is in the way: in a
	// conflict the tray already looks again every few seconds, and
	// "Take over" is the action. A parked conflict (found while Cairn was
	// stopped) starts nothing when it clears, so there Start stays: it
	// asks for Cairn as soon as the port is free.
	idle := st.Idle() || st.Parked
	takeover := Item{ID: IDTakeover, Label: "Take over"}
	if (st.State == supervisor.Conflict || hung) && !st.Owned {
		takeover = Item{ID: IDTakeover, Label: "Take over from " + holder(st), Enabled: true, Visible: true}
		if st.NoTakeover != "" {
			// Shown, not hidden, so the user learns why the one-click fix
			// is not there; the reason's first clause fits a menu.
			reason, _, _ := strings.Cut(st.NoTakeover, ";")
			takeover = Item{ID: IDTakeover, Label: "Can't take over: " + clip(reason, 70), Visible: true}
		}
	}
	if st.State == supervisor.TakingOver {
		takeover = Item{ID: IDTakeover, Label: "Taking over " + st.TakingOverWhom() + "…", Visible: true}
	}
	// Cairn's own child that hangs is Cairn's to end: no "take over", but
	// a force stop, also while a stop of it is under way.
	forceStop := Item{ID: IDForceStop, Label: "Force stop", Visible: st.Owned && (hung || st.State == supervisor.Stopping)}
	forceStop.Enabled = forceStop.Visible
	if forceStop.Visible && st.PID > 0 {
		forceStop.Label = fmt.Sprintf("Force stop (kill PID %d)", st.PID)
	}
	login := Item{ID: IDLogin, Label: "Start at login", Enabled: x.LoginItemSet, Visible: true, Checkable: true, Checked: x.LoginItem, SeparatorBefore: true}
	if x.LoginBroken != "" {
		login.Label = "Start at login (broken: click to repair)"
	}
	update := Item{ID: IDUpdate, Label: "Update available"}
	if x.Updates.On && x.Updates.Newer != "" {
		update = Item{ID: IDUpdate, Label: "Update available: " + clip(x.Updates.Newer, 40) + "…", Enabled: true, Visible: true}
	}
	items := []Item{
		{ID: IDStatus, Label: line, Visible: true},
		update,
		{ID: IDDashboard, Label: "Open dashboard", Enabled: running, Visible: true, SeparatorBefore: true},
		{ID: IDCopyAddr, Label: "Copy address", Enabled: running && st.Addr != "", Visible: true},
		{ID: IDStart, Label: "Start", Enabled: idle, Visible: st.State != supervisor.Conflict || st.Parked, SeparatorBefore: true},
		{ID: IDRestart, Label: "Restart", Enabled: running || hung || st.State == supervisor.Crashed, Visible: true},
		{ID: IDStop, Label: "Stop", Enabled: running || st.State == supervisor.Starting || hung, Visible: true},
		forceStop,
		takeover,
		login,
		{ID: IDUpdates, Label: "Check for updates", Enabled: x.Updates.Set, Visible: x.Updates.Offered, Checkable: true, Checked: x.Updates.On},
		{ID: IDLogs, Label: "Open logs", Enabled: true, Visible: true},
		{ID: IDAbout, Label: "About Cairn " + x.Version, Enabled: true, Visible: true},
		{ID: IDQuit, Label: "Quit Cairn", Enabled: true, Visible: true, SeparatorBefore: true},
	}
	return Model{Icon: IconFor(st.State), DarkScheme: x.DarkScheme, Tooltip: "Cairn — " + line, Items: items}
}

func holder(st supervisor.Status) string {
	if st.Holder != "" {
		return st.Holder
	}
	return "the other process"
}

// IconFor picks the icon of a state.
func IconFor(s supervisor.State) Icon {
	switch s {
	case supervisor.Running:
		return IconRunning
	case supervisor.Starting, supervisor.Stopping, supervisor.TakingOver:
		return IconStarting
	case supervisor.Conflict, supervisor.NotResponding:
		return IconConflict
	case supervisor.Crashed, supervisor.Failed:
		return IconCrashed
	default:
		return IconStopped
	}
}

// StatusLine is the disabled first item and the tooltip, e.g.
// "Running · 127.0.0.1:7070 · PID 1234 · up 2 h 3 min".
func StatusLine(st supervisor.Status, now time.Time) string {
	switch st.State {
	case supervisor.Running:
		line := fmt.Sprintf("Running · %s · PID %d · up %s", st.Addr, st.PID, Uptime(now.Sub(st.StartedAt)))
		if st.Memories > 0 {
			line = fmt.Sprintf("Running · %s · %s · PID %d · up %s", memoryCount(st.Memories), st.Addr, st.PID, Uptime(now.Sub(st.StartedAt)))
		}
		switch st.ManagedBy {
		case "systemd", "launchd":
			line += " · managed by " + st.ManagedBy
		}
		return line
	case supervisor.Starting:
		if st.Crashes > 0 {
			return fmt.Sprintf("Restarting after a crash (%d)…", st.Crashes)
		}
		return "Starting…"
	case supervisor.Stopping:
		return "Stopping…"
	case supervisor.Conflict:
		return fmt.Sprintf("Port %d in use by %s", st.Port, holder(st))
	case supervisor.NotResponding:
		if st.PID > 0 {
			return fmt.Sprintf("Not responding · PID %d", st.PID)
		}
		return "Not responding"
	case supervisor.TakingOver:
		return "Taking over " + st.TakingOverWhom() + "…"
	case supervisor.Crashed:
		return fmt.Sprintf("Crashed %d times — gave up", st.Crashes)
	case supervisor.Failed:
		return "Cannot start: " + clip(firstLine(st.Message), 80)
	default:
		return "Stopped"
	}
}

// Uptime prints "2 h 3 min", "5 min" or "less than a minute": a menu
// refreshed twice a minute should not show seconds.
func Uptime(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days %d h", int(d.Hours())/24, int(d.Hours())%24)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// memoryCount reads "1 memory", "1,204 memories".
func memoryCount(n int64) string {
	if n == 1 {
		return "1 memory"
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " memories"
}
