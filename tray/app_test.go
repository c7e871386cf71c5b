package tray

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
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

func TestCrashNotifications(t *testing.T) {
	h := newApp(t)
	crash := "The daemon (PID 1) ended: exit status 2.\npanic: boom\ngoroutine 1"
	h.app.OnStatus(supervisor.Status{State: supervisor.Starting, Crashes: 1, Message: crash})
	// The supervisor carries the crash's message into the Running status.
	h.app.OnStatus(supervisor.Status{State: supervisor.Running, PID: 2, RestartedAfterCrash: true, Message: crash})
	if n := h.waitNote(t); n.Title != "Cairn restarted after a crash" || n.Body != "The daemon (PID 1) ended: exit status 2.\npanic: boom" {
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

func TestTakeoverFromNotificationButton(t *testing.T) {
	h := newApp(t)
	took := make(chan supervisor.Status, 1)
	h.app.Takeover = func(ctx context.Context, st supervisor.Status) (string, error) {
		took <- st
		return "Stopped python3 (PID 4242).", nil
	}
	h.app.OnStatus(conflict)
	n := h.waitNote(t)
	h.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionTakeover}
	select {
	case st := <-took:
		if st.HolderPID != 4242 {
			t.Errorf("took over from %+v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the %q button did nothing", n.Actions[0].Label)
	}
	if got := <-h.sup.cmds; got != supervisor.CmdStart {
		t.Errorf("after takeover: %v, want start", got)
	}
	if n := h.waitNote(t); !strings.Contains(n.Title, "took over") {
		t.Errorf("result notification %+v", n)
	}
}

// TestOneTakeoverPerConflict: the menu item and the notification's button
// (or a double click) start one take over, not two; a second engine run
// would find our own new daemon starting and stop it. A failed take over
// may be tried again, and so may a new conflict once the supervisor has
// acted on the last take over.
func TestOneTakeoverPerConflict(t *testing.T) {
	h := newApp(t)
	calls := make(chan supervisor.Status, 10)
	finish := make(chan error)
	h.app.Takeover = func(ctx context.Context, st supervisor.Status) (string, error) {
		calls <- st
		if err := <-finish; err != nil {
			return "", err
		}
		return "Stopped python3 (PID 4242).", nil
	}
	called := func() {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatal("no take over ran")
		}
	}
	// Run takes clicks and buttons one at a time on unbuffered channels:
	// once it has taken a Start click, it has handled everything before.
	handled := func() {
		t.Helper()
		h.ui.clicks <- menu.IDStart
		if got := <-h.sup.cmds; got != supervisor.CmdStart {
			t.Fatalf("got %v, want the Start click's command", got)
		}
	}
	noCall := func() {
		t.Helper()
		handled()
		select {
		case st := <-calls:
			t.Fatalf("a second take over ran for %+v", st)
		default:
		}
	}

	h.app.OnStatus(conflict)
	h.waitNote(t)
	h.ui.clicks <- menu.IDTakeover
	called()
	h.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionTakeover}
	h.ui.clicks <- menu.IDTakeover
	noCall()

	finish <- nil
	if got := <-h.sup.cmds; got != supervisor.CmdStart {
		t.Fatalf("after take over: %v, want start", got)
	}
	if n := h.waitNote(t); !strings.Contains(n.Title, "took over") {
		t.Fatalf("result notification %+v", n)
	}
	// Still the old conflict until the supervisor says what it did.
	h.ui.clicks <- menu.IDTakeover
	noCall()

	h.app.OnStatus(supervisor.Status{State: supervisor.Starting, Port: 7070})
	h.app.OnStatus(conflict)
	h.ui.clicks <- menu.IDTakeover
	called()
	finish <- errors.New("port 7070 is held by root's nginx")
	if n := h.waitNote(t); n.Title != "Take over failed" {
		t.Fatalf("failure notification %+v", n)
	}
	h.ui.clicks <- menu.IDTakeover // a retry is allowed
	called()
	finish <- nil
}

// fakeLogin is the OS setting behind the checkbox.
type fakeLogin struct {
	mu  sync.Mutex
	on  bool
	err error
}

func (l *fakeLogin) Enabled() (bool, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.on, l.err }
func (l *fakeLogin) Enable() error          { l.set(true); return nil }
func (l *fakeLogin) Disable() error         { l.set(false); return nil }
func (l *fakeLogin) set(on bool)            { l.mu.Lock(); l.on = on; l.mu.Unlock() }

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
	took := make(chan struct{}, 1)
	h.app.Takeover = func(context.Context, supervisor.Status) (string, error) { took <- struct{}{}; return "", nil }
	st := conflict
	st.NoTakeover = `port is held by nginx (PID 812) of user "www-data"; Cairn only stops your own processes; use --port to run Cairn on another port`
	h.app.OnStatus(st)
	n := h.waitNote(t)
	if len(n.Actions) != 0 || !strings.HasPrefix(n.Body, "Port is held by nginx") || !strings.Contains(n.Body, "--port") {
		t.Errorf("notification %+v, want the reason and no button", n)
	}
	h.ui.clicks <- menu.IDTakeover
	h.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionTakeover}
	h.ui.clicks <- menu.IDAbout // round-trips through Run after the two above
	h.waitNote(t)
	select {
	case <-took:
		t.Fatal("took over from a holder Cairn may not stop")
	default:
	}
}
