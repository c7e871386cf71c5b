package menu

import (
	"testing"
	"time"

	"github.com/cairnlabs/cairn/tray/supervisor"
)

func TestBuild(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	running := supervisor.Status{State: supervisor.Running, Port: 7070, PID: 1234, Addr: "127.0.0.1:7070", Owned: true,
		StartedAt: now.Add(-(2*time.Hour + 3*time.Minute + 20*time.Second))}
	cases := []struct {
		name    string
		st      supervisor.Status
		line    string
		icon    Icon
		enabled []string // among dashboard, copy address, start, restart, stop, force stop, takeover
	}{
		{"running", running, "Running · 127.0.0.1:7070 · PID 1234 · up 2 h 3 min", IconRunning, []string{IDDashboard, IDCopyAddr, IDStop, IDRestart}},
		{"starting", supervisor.Status{State: supervisor.Starting, Port: 7070}, "Starting…", IconStarting, []string{IDStop}},
		{"restarting", supervisor.Status{State: supervisor.Starting, Port: 7070, Crashes: 2}, "Restarting after a crash (2)…", IconStarting, []string{IDStop}},
		{"stopping", supervisor.Status{State: supervisor.Stopping, Port: 7070}, "Stopping…", IconStarting, nil},
		{"stopped", supervisor.Status{State: supervisor.Stopped, Port: 7070}, "Stopped", IconStopped, []string{IDStart}},
		{"conflict", supervisor.Status{State: supervisor.Conflict, Port: 7070, Holder: "python3 (PID 4242)", HolderPID: 4242},
			"Port 7070 in use by python3 (PID 4242)", IconConflict, []string{IDTakeover}},
		{"parked conflict", supervisor.Status{State: supervisor.Conflict, Port: 7070, Holder: "python3 (PID 4242)", HolderPID: 4242, Parked: true},
			"Port 7070 in use by python3 (PID 4242)", IconConflict, []string{IDStart, IDTakeover}},
		{"not responding", supervisor.Status{State: supervisor.NotResponding, Port: 7070, PID: 9, Holder: "cairn (PID 9)"},
			"Not responding · PID 9", IconConflict, []string{IDStop, IDRestart, IDTakeover}},
		{"own child not responding", supervisor.Status{State: supervisor.NotResponding, Port: 7070, PID: 9, Owned: true},
			"Not responding · PID 9", IconConflict, []string{IDStop, IDRestart, IDForceStop}},
		{"stopping own child", supervisor.Status{State: supervisor.Stopping, Port: 7070, PID: 9, Owned: true},
			"Stopping…", IconStarting, []string{IDForceStop}},
		{"taking over", supervisor.Status{State: supervisor.TakingOver, Port: 7070, Holder: "python3 (PID 4242)", HolderPID: 4242},
			"Taking over python3 (PID 4242)…", IconStarting, nil},
		{"crashed", supervisor.Status{State: supervisor.Crashed, Port: 7070, Crashes: 5}, "Crashed 5 times — gave up", IconCrashed, []string{IDStart, IDRestart}},
		{"failed", supervisor.Status{State: supervisor.Failed, Port: 7070, Message: "the data dir /x is unusable\nmore"},
			"Cannot start: the data dir /x is unusable", IconCrashed, []string{IDStart}},
		{"with memories", func() supervisor.Status { s := running; s.Memories = 1204; return s }(),
			"Running · 1,204 memories · 127.0.0.1:7070 · PID 1234 · up 2 h 3 min", IconRunning, []string{IDDashboard, IDCopyAddr, IDStop, IDRestart}},
		{"one memory", func() supervisor.Status { s := running; s.Memories = 1; return s }(),
			"Running · 1 memory · 127.0.0.1:7070 · PID 1234 · up 2 h 3 min", IconRunning, []string{IDDashboard, IDCopyAddr, IDStop, IDRestart}},
		{"managed", func() supervisor.Status { s := running; s.ManagedBy = "systemd"; return s }(),
			"Running · 127.0.0.1:7070 · PID 1234 · up 2 h 3 min · managed by systemd", IconRunning, []string{IDDashboard, IDCopyAddr, IDStop, IDRestart}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Build(tc.st, Extras{Version: "1.2.3"}, now)
			if m.Icon != tc.icon {
				t.Errorf("icon %s, want %s", m.Icon, tc.icon)
			}
			status, _ := m.Item(IDStatus)
			if status.Label != tc.line || status.Enabled {
				t.Errorf("status item %+v, want disabled %q", status, tc.line)
			}
			if m.Tooltip != "Cairn — "+tc.line {
				t.Errorf("tooltip %q", m.Tooltip)
			}
			want := map[string]bool{}
			for _, id := range tc.enabled {
				want[id] = true
			}
			for _, id := range []string{IDDashboard, IDCopyAddr, IDStart, IDStop, IDRestart, IDForceStop, IDTakeover} {
				it, _ := m.Item(id)
				if it.Enabled != want[id] {
					t.Errorf("%s enabled = %v, want %v", id, it.Enabled, want[id])
				}
			}
			to, _ := m.Item(IDTakeover)
			if taking := tc.st.State == supervisor.TakingOver; to.Visible != (want[IDTakeover] || taking) {
				t.Errorf("take over visible = %v", to.Visible)
			} else if taking && to.Label != "Taking over "+tc.st.Holder+"…" {
				t.Errorf("taking over label %q", to.Label)
			}
			if to.Enabled && to.Label != "Take over from "+tc.st.Holder {
				t.Errorf("take over label %q", to.Label)
			}
			if fs, _ := m.Item(IDForceStop); fs.Visible != want[IDForceStop] || fs.Visible && fs.Label != "Force stop (kill PID 9)" {
				t.Errorf("force stop %+v", fs)
			}
			if start, _ := m.Item(IDStart); start.Visible == (tc.st.State == supervisor.Conflict && !tc.st.Parked) {
				t.Errorf("start visible = %v in %s (hidden only in a conflict the tray resolves by itself)", start.Visible, tc.st.State)
			}
			// The same items in the same order, whatever the state.
			ids := IDs
			if len(m.Items) != len(ids) {
				t.Fatalf("%d items", len(m.Items))
			}
			for i, id := range ids {
				if m.Items[i].ID != id {
					t.Errorf("item %d is %s, want %s", i, m.Items[i].ID, id)
				}
			}
			if about, _ := m.Item(IDAbout); about.Label != "About Cairn 1.2.3" {
				t.Errorf("about %q", about.Label)
			}
		})
	}
}

func TestUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:               "less than a minute",
		5*time.Minute + 59*time.Second: "5 min",
		2*time.Hour + 3*time.Minute:    "2 h 3 min",
		50*time.Hour + 10*time.Minute:  "2 days 2 h",
	} {
		if got := Uptime(d); got != want {
			t.Errorf("Uptime(%s) = %q, want %q", d, got, want)
		}
	}
}

// A holder Cairn may not stop (another user's, the system's) keeps the
// item visible, disabled, saying why, so the missing fix is explained.
func TestNoTakeoverSaysWhy(t *testing.T) {
	st := supervisor.Status{State: supervisor.Conflict, Port: 7070, Holder: "nginx (PID 812)", HolderPID: 812,
		NoTakeover: `port is held by nginx (PID 812) of user "www-data"; Cairn only stops your own processes; use --port to run Cairn on another port`}
	m := Build(st, Extras{}, time.Now())
	it, _ := m.Item(IDTakeover)
	if !it.Visible || it.Enabled || it.Label != `Can't take over: port is held by nginx (PID 812) of user "www-data"` {
		t.Errorf("take over item %+v", it)
	}
	if start, _ := m.Item(IDStart); start.Enabled || start.Visible {
		t.Error("Start is offered in a conflict, where it cannot act (the tray looks again by itself)")
	}
}

func TestBrokenLoginItemSaysSo(t *testing.T) {
	m := Build(supervisor.Status{State: supervisor.Stopped}, Extras{LoginItem: true, LoginItemSet: true, LoginBroken: "it starts /gone, which no longer exists"}, time.Now())
	it, _ := m.Item(IDLogin)
	if !it.Checked || !it.Enabled || it.Label != "Start at login (broken: click to repair)" {
		t.Errorf("login item %+v", it)
	}
}

func TestMemoryCount(t *testing.T) {
	for n, want := range map[int64]string{2: "2 memories", 999: "999 memories", 1000: "1,000 memories", 1234567: "1,234,567 memories"} {
		if got := memoryCount(n); got != want {
			t.Errorf("memoryCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestUpdateItems(t *testing.T) {
	st := supervisor.Status{State: supervisor.Stopped}
	for _, tc := range []struct {
		name          string
		u             Updates
		update        string // label of a visible update item, "" for hidden
		toggleVisible bool
		toggleEnabled bool
	}{
		{"no feed in this build", Updates{}, "", false, false},
		{"on, up to date", Updates{Offered: true, On: true, Set: true}, "", true, true},
		{"on, newer", Updates{Offered: true, On: true, Set: true, Newer: "v1.3.0"}, "Update available: v1.3.0…", true, true},
		{"off hides what was found", Updates{Offered: true, Set: true, Newer: "v1.3.0"}, "", true, true},
		{"config unreadable", Updates{Offered: true}, "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Build(st, Extras{Updates: tc.u}, time.Now())
			up, _ := m.Item(IDUpdate)
			if up.Visible != (tc.update != "") || up.Enabled != (tc.update != "") || tc.update != "" && up.Label != tc.update {
				t.Errorf("update item %+v, want %q", up, tc.update)
			}
			tog, _ := m.Item(IDUpdates)
			if tog.Label != "Check for updates" || !tog.Checkable || tog.Visible != tc.toggleVisible || tog.Enabled != tc.toggleEnabled || tog.Checked != tc.u.On {
				t.Errorf("toggle %+v", tog)
			}
		})
	}
}

func TestDarkSchemeReachesTheModel(t *testing.T) {
	if m := Build(supervisor.Status{}, Extras{DarkScheme: true}, time.Now()); !m.DarkScheme {
		t.Error("DarkScheme lost")
	}
	if m := Build(supervisor.Status{}, Extras{}, time.Now()); m.DarkScheme {
		t.Error("DarkScheme without a dark desktop")
	}
}
