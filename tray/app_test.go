package tray

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/tray/loginitem"
	"github.com/cairnlabs/cairn/tray/menu"
	"github.com/cairnlabs/cairn/tray/notify"
	"github.com/cairnlabs/cairn/tray/supervisor"
)

type fakeUI struct {
	mu     sync.Mutex
	models []menu.Model
	clicks chan string
	drawn  chan menu.Model
}

func (u *fakeUI) Apply(m menu.Model) {
	u.mu.Lock()
	u.models = append(u.models, m)
	u.mu.Unlock()
	select {
	case u.drawn <- m:
	default:
	}
}
func (u *fakeUI) Clicks() <-chan string { return u.clicks }

type fakeNotifier struct {
	mu      sync.Mutex
	sent    []notify.Notification
	actions chan notify.ActionEvent
	got     chan notify.Notification
}

func (n *fakeNotifier) Notify(x notify.Notification) (uint32, error) {
	n.mu.Lock()
	n.sent = append(n.sent, x)
	id := uint32(len(n.sent))
	n.mu.Unlock()
	n.got <- x
	return id, nil
}
func (n *fakeNotifier) Actions() <-chan notify.ActionEvent { return n.actions }
func (n *fakeNotifier) SupportsActions() bool              { return true }

type fakeSup struct {
	cmds chan supervisor.Command
	quit chan struct{}
	once sync.Once
}

func (s *fakeSup) Run(ctx context.Context) {
	select {
	case <-s.quit:
	case <-ctx.Done():
	}
}
func (s *fakeSup) Do(c supervisor.Command) { s.cmds <- c }
func (s *fakeSup) Quit()                   { s.once.Do(func() { close(s.quit) }) }

type appHarness struct {
	app    *App
	ui     *fakeUI
	notes  *fakeNotifier
	sup    *fakeSup
	now    time.Time
	nowMu  sync.Mutex
	opened chan string
	done   chan struct{}
}

func newApp(t *testing.T, configure ...func(*App)) *appHarness {
	h := &appHarness{
		ui:     &fakeUI{clicks: make(chan string), drawn: make(chan menu.Model, 100)},
		notes:  &fakeNotifier{actions: make(chan notify.ActionEvent), got: make(chan notify.Notification, 100)},
		sup:    &fakeSup{cmds: make(chan supervisor.Command, 10), quit: make(chan struct{})},
		now:    time.Unix(1_700_000_000, 0),
		opened: make(chan string, 10),
		done:   make(chan struct{}),
	}
	h.app = New(h.sup)
	h.app.UI, h.app.Notifier, h.app.Version, h.app.LogDir = h.ui, h.notes, "9.9.9", "/logs"
	h.app.Now = func() time.Time { h.nowMu.Lock(); defer h.nowMu.Unlock(); return h.now }
	h.app.Open = func(target string) error { h.opened <- target; return nil }
	for _, c := range configure {
		c(h.app)
	}
	go func() { h.app.Run(context.Background()); close(h.done) }()
	t.Cleanup(func() { h.sup.Quit(); <-h.done })
	return h
}

func (h *appHarness) advance(d time.Duration) {
	h.nowMu.Lock()
	h.now = h.now.Add(d)
	h.nowMu.Unlock()
}

func (h *appHarness) waitDrawn(t *testing.T, status string) menu.Model {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-h.ui.drawn:
			if it, _ := m.Item(menu.IDStatus); it.Label == status {
				return m
			}
		case <-deadline:
			t.Fatalf("menu never showed %q", status)
		}
	}
}

func (h *appHarness) waitNote(t *testing.T) notify.Notification {
	t.Helper()
	select {
	case n := <-h.notes.got:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
		return notify.Notification{}
	}
}

func (h *appHarness) noNote(t *testing.T) {
	t.Helper()
	// Notifications are sent from a goroutine; a redraw request that
	// round-trips through Run shows the status was handled, and the
	// notification (if any) was decided in OnStatus before that.
	select {
	case n := <-h.notes.got:
		t.Fatalf("unexpected notification %q", n.Title)
	case <-time.After(50 * time.Millisecond):
	}
}

var conflict = supervisor.Status{State: supervisor.Conflict, Port: 7070, Holder: "python3 (PID 4242)", HolderPID: 4242}

func TestMenuFollowsStatus(t *testing.T) {
	h := newApp(t)
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, Port: 7070, PID: 1, Addr: "127.0.0.1:7070", StartedAt: h.now})
	m := h.waitDrawn(t, "Running · 127.0.0.1:7070 · PID 1 · up less than a minute")
	if m.Icon != menu.IconRunning {
		t.Errorf("icon %s", m.Icon)
	}
	h.app.OnStatus(conflict)
	m = h.waitDrawn(t, "Port 7070 in use by python3 (PID 4242)")
	if to, _ := m.Item(menu.IDTakeover); !to.Visible || to.Label != "Take over from python3 (PID 4242)" {
		t.Errorf("take over item %+v", to)
	}
}

func TestConflictNotifiesOncePerTenMinutes(t *testing.T) {
	h := newApp(t)
	h.app.OnStatus(conflict)
	n := h.waitNote(t)
	if !strings.Contains(n.Title, "port 7070 is in use") || !strings.Contains(n.Body, "python3 (PID 4242)") ||
		len(n.Actions) != 1 || n.Actions[0].Key != ActionTakeover || n.Icon == nil {
		t.Errorf("conflict notification %+v", n)
	}
	h.app.OnStatus(supervisor.Status{State: supervisor.Stopped})
	h.app.OnStatus(conflict)
	h.noNote(t)
	h.advance(NotifyEvery)
	h.app.OnStatus(supervisor.Status{State: supervisor.Stopped})
	h.app.OnStatus(conflict)
	h.waitNote(t)
}

// A conflict found while Cairn was stopped is shown, not notified:
// nothing was asked to start, so "Cairn can't start" would not be true.
func TestParkedConflictIsShownNotNotified(t *testing.T) {
	h := newApp(t)
	parked := conflict
	parked.Parked = true
	h.app.OnStatus(parked)
	h.waitDrawn(t, "Port 7070 in use by python3 (PID 4242)")
	h.noNote(t)
}

func TestCrashNotifications(t *testing.T) {
	h := newApp(t)
	crash := "The daemon (PID 1) ended: exit status 2.\npanic: boom\ngoroutine 1"
	h.app.OnStatus(supervisor.Status{State: supervisor.Starting, Crashes: 1, Message: crash})
	// The supervisor carries the crash's message into the Running status.
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, PID: 2, RestartedAfterCrash: true, Message: crash})
	if n := h.waitNote(t); n.Title != "Cairn restarted after a crash" || n.Body != crash {
		t.Errorf("restart notification %+v", n)
	}
	h.app.OnStatus(supervisor.Status{State: supervisor.Crashed, Crashes: 5, Message: "panic: boom", LogFile: "/logs/crash.log"})
	if n := h.waitNote(t); !strings.Contains(n.Title, "crashed 5 times") || !strings.Contains(n.Body, "/logs/crash.log") {
		t.Errorf("crash loop notification %+v", n)
	}
	h.app.OnStatus(supervisor.Status{State: supervisor.NotResponding, PID: 3})
	if n := h.waitNote(t); n.Title != "Cairn is not responding" {
		t.Errorf("not responding notification %+v", n)
	}
}

// "Open dashboard" opens the one-time link the daemon gives, and the bare
// address (which says how to get in) when it gives none.
func TestOpenDashboardWithALink(t *testing.T) {
	fail := make(chan bool, 1)
	h := newApp(t, func(a *App) {
		a.DashboardURL = func(context.Context) (string, error) {
			if <-fail {
				return "", errors.New("daemon said no")
			}
			return "http://127.0.0.1:7070/open?code=abc", nil
		}
	})
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, PID: 1, Addr: "127.0.0.1:7070", StartedAt: h.now})
	fail <- false
	h.ui.clicks <- menu.IDDashboard
	if got := <-h.opened; got != "http://127.0.0.1:7070/open?code=abc" {
		t.Errorf("dashboard opened %q, want the one-time link", got)
	}
	fail <- true
	h.ui.clicks <- menu.IDDashboard
	if got := <-h.opened; got != "http://127.0.0.1:7070/" {
		t.Errorf("dashboard without a link opened %q, want the bare address", got)
	}
}

func TestClicks(t *testing.T) {
	h := newApp(t)
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, PID: 1, Addr: "127.0.0.1:7070", StartedAt: h.now})
	for id, want := range map[string]supervisor.Command{menu.IDStart: supervisor.CmdStart, menu.IDStop: supervisor.CmdStop, menu.IDRestart: supervisor.CmdRestart} {
		h.ui.clicks <- id
		if got := <-h.sup.cmds; got != want {
			t.Errorf("%s → %v, want %v", id, got, want)
		}
	}
	h.ui.clicks <- menu.IDDashboard
	if got := <-h.opened; got != "http://127.0.0.1:7070/" {
		t.Errorf("dashboard without a link source opened %q", got)
	}
	h.ui.clicks <- menu.IDLogs
	if got := <-h.opened; got != "/logs" {
		t.Errorf("logs opened %q", got)
	}
	h.ui.clicks <- menu.IDAbout
	if n := h.waitNote(t); n.Title != "Cairn 9.9.9" {
		t.Errorf("about %+v", n)
	}
	h.ui.clicks <- menu.IDQuit
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		t.Fatal("quit did not end Run")
	}
}

// The menu item and the notification's button take the same path: one
// command to the supervisor, which takes over once per conflict.
func TestTakeoverIsASupervisorCommand(t *testing.T) {
	h := newApp(t)
	h.app.OnStatus(conflict)
	n := h.waitNote(t)
	if !hasAction(n, ActionTakeover) {
		t.Fatalf("conflict notification without a take over button: %+v", n)
	}
	h.ui.clicks <- menu.IDTakeover
	if got := <-h.sup.cmds; got != supervisor.CmdTakeover {
		t.Errorf("menu take over → %v", got)
	}
	h.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionTakeover}
	if got := <-h.sup.cmds; got != supervisor.CmdTakeover {
		t.Errorf("button take over → %v", got)
	}
	// The result is told with the Running that follows, not before.
	h.app.OnStatus(supervisor.Status{State: supervisor.TakingOver, Port: 7070, Holder: "python3 (PID 4242)"})
	h.app.OnStatus(supervisor.Status{State: supervisor.Starting, Port: 7070, PID: 5})
	h.noNote(t)
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, Port: 7070, PID: 5, Addr: "127.0.0.1:7070", StartedAt: h.now, TookOver: "Stopped python3 (PID 4242)."})
	if n := h.waitNote(t); n.Title != "Cairn took over port 7070" || !strings.HasPrefix(n.Body, "Stopped python3 (PID 4242).") {
		t.Errorf("took over notification %+v", n)
	}
	h.app.OnStatus(supervisor.Status{State: supervisor.Conflict, Port: 7070, Holder: "x", TakeoverFailed: "port 7070 is held by root's nginx"})
	for {
		n := h.waitNote(t)
		if n.Title == "Take over failed" {
			if n.Body != "port 7070 is held by root's nginx" {
				t.Errorf("failure notification %+v", n)
			}
			break
		}
	}
}

// Cairn's own child that hangs gets Restart first, and Force stop in the
// menu: no "take over" from itself.
func TestNotRespondingOwnChild(t *testing.T) {
	h := newApp(t)
	h.app.OnStatus(supervisor.Status{State: supervisor.NotResponding, Port: 7070, PID: 77, Owned: true})
	n := h.waitNote(t)
	if len(n.Actions) != 1 || n.Actions[0].Key != ActionRestart || !strings.Contains(n.Body, "PID 77") || !strings.Contains(n.Body, "Force stop") {
		t.Errorf("not responding notification %+v", n)
	}
	h.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionRestart}
	if got := <-h.sup.cmds; got != supervisor.CmdRestart {
		t.Errorf("restart button → %v", got)
	}
	h.ui.clicks <- menu.IDForceStop
	if got := <-h.sup.cmds; got != supervisor.CmdForceStop {
		t.Errorf("force stop → %v", got)
	}
}

// An Open that fails says so with the target and a Copy button, and the
// button copies it.
func TestOpenFailureIsShownWithCopy(t *testing.T) {
	copied := make(chan string, 2)
	h := newApp(t, func(a *App) {
		a.Open = func(string) error { return errors.New("xdg-open exit status 3: no method available for opening") }
		a.Copy = func(s string) error { copied <- s; return nil }
	})
	h.ui.clicks <- menu.IDLogs
	n := h.waitNote(t)
	if n.Title != "Cairn could not open the log folder" || !strings.HasPrefix(n.Body, "/logs\n") || !strings.Contains(n.Body, "no method available") || !hasAction(n, ActionCopy) {
		t.Fatalf("open failure notification %+v", n)
	}
	h.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionCopy}
	if got := <-copied; got != "/logs" {
		t.Errorf("copied %q", got)
	}
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, PID: 1, Addr: "127.0.0.1:7070", StartedAt: h.now})
	h.waitDrawn(t, "Running · 127.0.0.1:7070 · PID 1 · up less than a minute")
	h.ui.clicks <- menu.IDCopyAddr
	if got := <-copied; got != "http://127.0.0.1:7070/" {
		t.Errorf("copy address copied %q", got)
	}
}

// fakeLogin is the OS setting behind the checkbox.
type fakeLogin struct {
	mu     sync.Mutex
	on     bool
	broken string
	err    error
}

func (l *fakeLogin) Status() (loginitem.State, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return loginitem.State{Enabled: l.on, Broken: l.broken}, l.err
}
func (l *fakeLogin) Enabled() (bool, error) { st, err := l.Status(); return st.Enabled, err }
func (l *fakeLogin) Enable() error          { l.set(true); return nil }
func (l *fakeLogin) Disable() error         { l.set(false); return nil }
func (l *fakeLogin) set(on bool)            { l.mu.Lock(); l.on, l.broken = on, ""; l.mu.Unlock() }

// waitLogin waits for a drawn menu whose checkbox is as wanted.
func (h *appHarness) waitLogin(t *testing.T, enabled, checked bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-h.ui.drawn:
			if it, _ := m.Item(menu.IDLogin); it.Enabled == enabled && it.Checked == checked {
				return
			}
		case <-deadline:
			t.Fatalf("no menu with the login item enabled=%v checked=%v", enabled, checked)
		}
	}
}

func TestLoginCheckboxFollowsTheOSSetting(t *testing.T) {
	login := &fakeLogin{}
	h := newApp(t, func(a *App) { a.LoginItem = login; a.Refresh = 10 * time.Millisecond })
	h.waitLogin(t, true, false)

	h.ui.clicks <- menu.IDLogin
	h.waitLogin(t, true, true)
	if on, _ := login.Enabled(); !on {
		t.Fatal("the click did not enable start at login")
	}
	// Switched off elsewhere: the next redraw shows it.
	login.set(false)
	h.waitLogin(t, true, false)

	// A setting that cannot be read cannot be toggled.
	login.mu.Lock()
	login.err = errors.New("permission denied")
	login.mu.Unlock()
	h.waitLogin(t, false, false)
	h.ui.clicks <- menu.IDLogin
	if n := h.waitNote(t); !strings.Contains(n.Body, "permission denied") {
		t.Errorf("notification %+v, want the reason", n)
	}
}

// On but broken (the entry starts a binary that is gone): shown ticked,
// saying so; a click repairs it rather than turning it off.
func TestBrokenLoginItemIsRepairedByAClick(t *testing.T) {
	login := &fakeLogin{on: true, broken: "it starts /gone/cairn-tray, which no longer exists"}
	h := newApp(t, func(a *App) { a.LoginItem = login; a.Refresh = 10 * time.Millisecond })
	deadline := time.After(5 * time.Second)
	for drawn := false; !drawn; {
		select {
		case m := <-h.ui.drawn:
			it, _ := m.Item(menu.IDLogin)
			drawn = it.Checked && it.Label == "Start at login (broken: click to repair)"
		case <-deadline:
			t.Fatal("the broken login item was never drawn as such")
		}
	}
	h.ui.clicks <- menu.IDLogin
	h.waitLogin(t, true, true)
	if st, _ := login.Status(); !st.Enabled || st.Broken != "" {
		t.Errorf("after the click: %+v, want on and repaired", st)
	}
}

func TestEchoWritesEachNewStatusLineOnce(t *testing.T) {
	var buf proctest.SyncBuffer
	h := newApp(t, func(a *App) { a.Echo = &buf })
	running := supervisor.Status{State: supervisor.Running, PID: 7, Addr: "127.0.0.1:7070", StartedAt: h.now}
	h.app.OnStatus(supervisor.Status{State: supervisor.Starting})
	h.app.OnStatus(running)
	h.app.OnStatus(running)
	want := "Cairn: Starting…\nCairn: Running · 127.0.0.1:7070 · PID 7 · up less than a minute\n"
	if got := buf.String(); got != want {
		t.Errorf("echo:\n%s\nwant:\n%s", got, want)
	}
}

func TestConflictWithUntouchableHolderOffersNoTakeover(t *testing.T) {
	h := newApp(t)
	st := conflict
	st.NoTakeover = `port is held by nginx (PID 812) of user "www-data"; Cairn only stops your own processes; use --port to run Cairn on another port`
	h.app.OnStatus(st)
	n := h.waitNote(t)
	if len(n.Actions) != 0 || !strings.HasPrefix(n.Body, "Port is held by nginx") || !strings.Contains(n.Body, "--port") {
		t.Errorf("notification %+v, want the reason and no button", n)
	}
	m := h.waitDrawn(t, "Port 7070 in use by python3 (PID 4242)")
	if it, _ := m.Item(menu.IDTakeover); it.Enabled {
		t.Errorf("take over offered for a holder Cairn may not stop: %+v", it)
	}
}

func hasAction(n notify.Notification, key string) bool {
	for _, a := range n.Actions {
		if a.Key == key {
			return true
		}
	}
	return false
}
