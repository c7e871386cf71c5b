package ui_test

// End-to-end tests of package ui and the patched fyne.io/systray on Linux:
// the demo app (internal/uidemo) runs on a private session bus where the
// test plays the panel (dbustest.Watcher) and the notification server, and
// reads and clicks the menu over D-Bus as a panel does. Each known systray
// defect has its regression test here; third_party/systray/PATCHES.md
// names them.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/systray"

	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

const demoPkg = "github.com/cairnlabs/cairn/tray/ui/internal/uidemo"

// helperEnv makes the test binary run the patched systray alone (no ui
// adapter in front of it) and quit at once: the way to test the systray
// patches that the adapter's own checks would otherwise hide.
const helperEnv = "CAIRN_UI_TEST_SYSTRAY_ALONE"

// Lines the demo prints, through ui or itself.
const (
	noBusLine  = "Cairn runs without a tray icon: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); the daemon is still supervised"
	noHostLine = "Cairn runs without a tray icon until a tray host (StatusNotifierWatcher) appears"
)

// wait bounds every wait on the demo; generous for -race on a slow CI box.
const wait = 60 * time.Second

var (
	demoBin     string
	demoBinDir  string
	raceDemo    string // a -race build of the demo, for the race test
	raceDemoErr error
	raceOnce    sync.Once
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		systray.Run(systray.Quit, nil)
		fmt.Println("systray alone: Run returned")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "uidemo")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := proctest.Build(dir, demoPkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	demoBin, demoBinDir = bins[demoPkg], dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startDemo runs bin with extra environment entries (KEY=VALUE).
func startDemo(t *testing.T, bin string, env []string, args ...string) (*proctest.Proc, *proctest.Env) {
	t.Helper()
	e := proctest.NewEnv(t)
	e.Extra = env
	return proctest.Start(t, e, bin, args...), e
}

func busEnv(bus *dbustest.Bus) []string {
	return []string{"DBUS_SESSION_BUS_ADDRESS=" + bus.Address()}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func waitOutput(t *testing.T, p *proctest.Proc, stream func() string, s string) {
	t.Helper()
	proctest.Eventually(t, wait, fmt.Sprintf("%q in the demo's output", s), func() bool {
		return strings.Contains(stream(), s) || p.Exited()
	})
	if !strings.Contains(stream(), s) {
		t.Fatalf("demo exited (code %d) without printing %q\nstdout: %s\nstderr: %s", p.Code(), s, p.Stdout(), p.Stderr())
	}
}

// stop sends SIGTERM and checks a clean exit: code 0, no panic, no race.
func stop(t *testing.T, p *proctest.Proc) {
	t.Helper()
	p.Signal(t, syscall.SIGTERM)
	exited(t, p)
}

func exited(t *testing.T, p *proctest.Proc) {
	t.Helper()
	code := p.Wait(t, wait)
	if code != 0 || strings.Contains(p.Stderr(), "panic") || strings.Contains(p.Stderr(), "DATA RACE") {
		t.Fatalf("demo exited with code %d\nstdout: %s\nstderr: %s", code, p.Stdout(), p.Stderr())
	}
}

func waitItem(t *testing.T, ctx context.Context, w *dbustest.Watcher) *dbustest.Item {
	t.Helper()
	item, err := w.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return item
}

func waitLabel(t *testing.T, ctx context.Context, item *dbustest.Item, prefix string) dbustest.MenuNode {
	t.Helper()
	n, err := item.WaitLabel(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitMenu(t *testing.T, ctx context.Context, item *dbustest.Item, cond func(dbustest.MenuNode) bool) dbustest.MenuNode {
	t.Helper()
	root, err := item.WaitMenu(ctx, cond)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func click(t *testing.T, ctx context.Context, item *dbustest.Item, prefix string) {
	t.Helper()
	if _, err := item.ClickLabel(ctx, prefix); err != nil {
		t.Fatal(err)
	}
}

// shape is the menu as "label" per entry and "-" per separator, hidden
// and disabled entries marked.
func shape(root dbustest.MenuNode) []string {
	var out []string
	for _, n := range root.Children {
		s := n.Label
		if n.Type == "separator" {
			s = "-"
		}
		if !n.Visible {
			s += " (hidden)"
		}
		if !n.Enabled {
			s += " (disabled)"
		}
		out = append(out, s)
	}
	return out
}

func TestMenuRenders(t *testing.T) {
	ctx := ctxFor(t)
	bus := dbustest.StartBus(t)
	w := dbustest.StartWatcher(t, bus)
	p, _ := startDemo(t, demoBin, busEnv(bus))
	item := waitItem(t, ctx, w)

	waitLabel(t, ctx, item, "About Cairn (0 clicks)")
	root, err := item.Layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Cairn is stopped (disabled)",
		"-",
		"Open dashboard (disabled)",
		"Start daemon",
		"Stop daemon (disabled)",
		"Restart daemon (disabled)",
		"Take over port 7070 from python3 (PID 4242) (hidden)",
		"-",
		"Start at login",
		"Open logs",
		"About Cairn (0 clicks)",
		"-",
		"Quit Cairn",
	}
	if got := shape(root); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("menu:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	login, _ := root.FindByLabel("Start at login")
	if login.ToggleType != "checkmark" || login.ToggleState != 0 {
		t.Errorf("login item: toggle %q state %d, want an unchecked checkmark", login.ToggleType, login.ToggleState)
	}
	if tip, err := item.Tooltip(ctx); err != nil || tip != "Cairn is stopped" {
		t.Errorf("tooltip %q (%v), want the status line", tip, err)
	}
	if id, err := item.Property(ctx, "Id"); err != nil || id.Value() != "Cairn" {
		t.Errorf("item Id %v (%v), want the app name", id.Value(), err)
	}
	if w, h, err := item.IconPixmapSize(ctx); err != nil || w != 22 || h != 22 {
		t.Errorf("icon %dx%d (%v), want 22x22", w, h, err)
	}

	// A click changes the state; Apply updates the items in place.
	click(t, ctx, item, "Start daemon")
	root = waitMenu(t, ctx, item, func(n dbustest.MenuNode) bool {
		s, _ := n.FindByLabel("Cairn is running")
		stopItem, _ := n.FindByLabel("Stop daemon")
		return s.Label != "" && stopItem.Enabled
	})
	if start, _ := root.FindByLabel("Start daemon"); start.Enabled {
		t.Errorf("start still enabled while running: %q", root.Labels())
	}
	proctest.Eventually(t, wait, "tooltip to follow the status", func() bool {
		tip, err := item.Tooltip(ctx)
		return err == nil && tip == "Cairn is running"
	})

	click(t, ctx, item, "Start at login")
	waitMenu(t, ctx, item, func(n dbustest.MenuNode) bool {
		l, _ := n.FindByLabel("Start at login")
		return l.ToggleState == 1
	})

	// The takeover item shows in a conflict.
	click(t, ctx, item, "Restart daemon")
	waitMenu(t, ctx, item, func(n dbustest.MenuNode) bool {
		tk, _ := n.FindByLabel("Take over port 7070")
		return tk.Visible && tk.Enabled
	})
	waitLabel(t, ctx, item, "About Cairn (3 clicks)")

	// The demo may exit before its reply to the Quit click goes out
	// (dbustest.IsNoReply); the exit is what counts.
	if _, err := item.ClickLabel(ctx, "Quit Cairn"); err != nil && !dbustest.IsNoReply(err) {
		t.Fatal(err)
	}
	exited(t, p)
	if err := w.WaitGone(ctx, item.BusName); err != nil {
		t.Error(err)
	}
}

// Defect 1: systray.Quit panicked in nativeEnd when there was no bus.
func TestQuitWithoutSessionBus(t *testing.T) {
	absent := "DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-bus")

	t.Run("systray alone", func(t *testing.T) {
		p, _ := startDemo(t, os.Args[0], []string{helperEnv + "=1", absent})
		exited(t, p)
		if !strings.Contains(p.Stdout(), "Run returned") {
			t.Fatalf("systray.Run did not return\nstdout: %s\nstderr: %s", p.Stdout(), p.Stderr())
		}
	})

	t.Run("absent bus", func(t *testing.T) {
		p, _ := startDemo(t, demoBin, []string{absent})
		waitOutput(t, p, p.Stdout, "ready headless=true")
		if !strings.Contains(p.Stderr(), "Cairn runs without a tray icon: no D-Bus session bus (cannot connect to") {
			t.Errorf("stderr does not say why there is no icon: %s", p.Stderr())
		}
		stop(t, p)
	})

	t.Run("bus killed", func(t *testing.T) {
		ctx := ctxFor(t)
		bus := dbustest.StartBus(t)
		w := dbustest.StartWatcher(t, bus)
		p, _ := startDemo(t, demoBin, busEnv(bus))
		item := waitItem(t, ctx, w)
		waitLabel(t, ctx, item, "Cairn is stopped")
		if err := syscall.Kill(bus.PID(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		proctest.Eventually(t, wait, "the bus to be gone", func() bool {
			_, err := os.Stat(fmt.Sprintf("/proc/%d", bus.PID()))
			return err != nil
		})
		stop(t, p)
	})
}

// Defect 2: upstream systray shared dbus.SessionBus() with the app, and its
// re-register loop returned on the first signal with fewer than 3 args,
// such as NotificationClosed; a restarted panel then never got the icon
// back.
func TestReregistersAfterNotificationOnSharedConnection(t *testing.T) {
	ctx := ctxFor(t)
	bus := dbustest.StartBus(t)
	n := dbustest.StartNotifier(t, bus, true)
	w := dbustest.StartWatcher(t, bus)
	p, _ := startDemo(t, demoBin, busEnv(bus))
	item := waitItem(t, ctx, w)

	click(t, ctx, item, "Open logs")
	note, err := n.Wait(ctx, func(n dbustest.Notification) bool { return n.Summary == "Cairn logs" })
	if err != nil {
		t.Fatal(err)
	}
	if note.Sender == item.BusName {
		t.Errorf("the notification came over the tray item's connection %s; the tray should have its own", note.Sender)
	}
	if err := n.Dismiss(note.ID); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, p, p.Stdout, "uidemo: notification closed")

	// The panel restarts.
	w.Stop()
	w2 := dbustest.StartWatcher(t, bus)
	item2 := waitItem(t, ctx, w2)
	waitLabel(t, ctx, item2, "About Cairn (1 clicks)")
	stop(t, p)
}

// Defect 3: menuVersion was read and written under two different locks; a
// -race build of the app reported DATA RACE and exited 66.
func TestNoRaceUnderRapidApply(t *testing.T) {
	ctx := ctxFor(t)
	bin := demoBin
	if !proctest.RaceEnabled {
		// The test means nothing without the race detector in the demo.
		raceOnce.Do(func() {
			raceDemo = filepath.Join(demoBinDir, "uidemo-race")
			out, err := exec.Command("go", "build", "-race", "-o", raceDemo, demoPkg).CombinedOutput()
			if err != nil {
				raceDemoErr = fmt.Errorf("go build -race %s: %v\n%s", demoPkg, err, out)
			}
		})
		if raceDemoErr != nil {
			t.Fatal(raceDemoErr)
		}
		bin = raceDemo
	}
	bus := dbustest.StartBus(t)
	w := dbustest.StartWatcher(t, bus)
	p, _ := startDemo(t, bin, busEnv(bus), "-churn")
	item := waitItem(t, ctx, w)
	waitLabel(t, ctx, item, "Cairn is")

	// Read the menu from several goroutines while the demo applies a new
	// model every millisecond, until each reader has seen the menu change
	// many times (so the reads span well over systray's 150ms delayed
	// refresh after the first GetLayout).
	const readers, changes = 4, 200
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last, seen := "", 0
			for seen < changes {
				root, err := item.Layout(ctx)
				if err != nil {
					errs <- err
					return
				}
				if s := strings.Join(shape(root), "|"); s != last {
					last, seen = s, seen+1
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("reading the menu: %v\nstderr: %s", err, p.Stderr())
	}
	stop(t, p)
}

// Defect 4: with DBUS_SESSION_BUS_ADDRESS unset, godbus runs dbus-launch,
// which leaves a bus daemon running after the app. A fake dbus-launch (and
// dbus-daemon) on PATH records any run; none may happen.
func TestHeadlessWithoutBusAddress(t *testing.T) {
	shim := t.TempDir()
	marker := filepath.Join(shim, "launched")
	for _, name := range []string{"dbus-launch", "dbus-daemon"} {
		script := fmt.Sprintf("#!/bin/sh\necho %s >> %s\nexit 1\n", name, marker)
		proctest.WriteExecutable(t, filepath.Join(shim, name), script, 0o755)
	}
	pathEnv := "PATH=" + shim + string(os.PathListSeparator) + os.Getenv("PATH")
	noLaunch := func(t *testing.T) {
		t.Helper()
		if b, err := os.ReadFile(marker); err == nil {
			t.Errorf("a session bus was launched: %s", b)
		}
	}

	t.Run("systray alone", func(t *testing.T) {
		p, _ := startDemo(t, os.Args[0], []string{helperEnv + "=1", pathEnv})
		exited(t, p)
		noLaunch(t)
	})

	t.Run("demo", func(t *testing.T) {
		p, env := startDemo(t, demoBin, []string{pathEnv})
		waitOutput(t, p, p.Stdout, "ready headless=true")
		if kids := descendants(p.PID()); len(kids) > 0 {
			t.Errorf("the headless demo started processes: %v", kids)
		}
		stop(t, p)
		if n := strings.Count(p.Stderr(), noBusLine); n != 1 {
			t.Errorf("stderr has the no-bus line %d times, want once:\n%s", n, p.Stderr())
		}
		noLaunch(t)
		// A real dbus-launch daemonizes its bus, which then belongs to init:
		// look for any bus process with the demo's environment.
		if strays := busProcsWithEnv("HOME=" + env.Home); len(strays) > 0 {
			t.Errorf("bus processes left by the demo: %v", strays)
		}
	})
}

// Defect 5: clicks were sent on ClickedCh without blocking, so a click
// that came while nobody was receiving was lost.
func TestAllRapidClicksCounted(t *testing.T) {
	ctx := ctxFor(t)
	bus := dbustest.StartBus(t)
	w := dbustest.StartWatcher(t, bus)
	p, _ := startDemo(t, demoBin, busEnv(bus))
	item := waitItem(t, ctx, w)
	about := waitLabel(t, ctx, item, "About Cairn (0 clicks)")

	const clicks = 50
	var wg sync.WaitGroup
	errs := make(chan error, clicks)
	for range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := item.Event(ctx, about.ID, "clicked"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitLabel(t, ctx, item, fmt.Sprintf("About Cairn (%d clicks)", clicks))
	stop(t, p)
	if n := strings.Count(p.Stdout(), "uidemo: clicked about"); n != clicks {
		t.Errorf("demo took %d clicks, want %d", n, clicks)
	}
}

func TestIconAppearsWhenHostStartsLater(t *testing.T) {
	ctx := ctxFor(t)
	bus := dbustest.StartBus(t)
	p, _ := startDemo(t, demoBin, busEnv(bus))
	waitOutput(t, p, p.Stderr, noHostLine)
	waitOutput(t, p, p.Stdout, "ready headless=false")

	w := dbustest.StartWatcher(t, bus)
	item := waitItem(t, ctx, w)
	waitLabel(t, ctx, item, "Cairn is stopped")
	waitOutput(t, p, p.Stdout, "tray host appeared; icon registered")
	stop(t, p)
	if n := strings.Count(p.Stderr(), noHostLine); n != 1 {
		t.Errorf("stderr has the no-host line %d times, want once:\n%s", n, p.Stderr())
	}
}

// proc is a process as /proc shows it.
type proc struct {
	pid, ppid int
	comm      string
}

func (p proc) String() string { return fmt.Sprintf("%s[%d]", p.comm, p.pid) }

func procs() []proc {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []proc
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(b[end+1:]))
		if len(fields) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:open])))
		ppid, _ := strconv.Atoi(fields[1])
		out = append(out, proc{pid: pid, ppid: ppid, comm: string(b[open+1 : end])})
	}
	return out
}

// descendants lists the live processes below pid.
func descendants(pid int) []proc {
	all := procs()
	below := map[int]bool{pid: true}
	var out []proc
	for grew := true; grew; {
		grew = false
		for _, p := range all {
			if below[p.ppid] && !below[p.pid] {
				below[p.pid] = true
				out = append(out, p)
				grew = true
			}
		}
	}
	return out
}

// busProcsWithEnv lists dbus-daemon and dbus-launch processes whose
// environment holds kv.
func busProcsWithEnv(kv string) []proc {
	var out []proc
	for _, p := range procs() {
		if p.comm != "dbus-daemon" && p.comm != "dbus-launch" {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.pid))
		if err != nil {
			continue
		}
		for _, e := range bytes.Split(env, []byte{0}) {
			if string(e) == kv {
				out = append(out, p)
			}
		}
	}
	return out
}
