package desktoptest

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// updateEnv names the variable that makes the test write its screenshots
// to docs/ for the README: CAIRN_UPDATE_SCREENSHOTS=1 go test -run TestRealDesktop ./tray/internal/desktoptest
const updateEnv = "CAIRN_UPDATE_SCREENSHOTS"

// menuButton opens the tray menu. Cairn's item sets ItemIsMenu (it has no
// left-click action), and xfce's systray plugin answers a left click on such
// an item by showing its dbusmenu, as a user would click it.
const menuButton = 1

// bins are the real binaries; cairn sits beside cairn-tray, where the tray
// looks for it first.
var bins struct{ cairn, tray string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-desktoptest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	built, err := proctest.Build(dir, "github.com/cairnlabs/cairn/cmd/cairn", "github.com/cairnlabs/cairn/cmd/cairn-tray")
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.cairn = built["github.com/cairnlabs/cairn/cmd/cairn"]
	bins.tray = built["github.com/cairnlabs/cairn/cmd/cairn-tray"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestRealDesktop runs the real cairn-tray on a real panel and notification
// server: the icon shows in xfce4-panel's systray, a click opens its menu,
// a crash of the daemon becomes a dunst notification, and Quit chosen in
// that menu ends the tray and its daemon.
func TestRealDesktop(t *testing.T) {
	bus := dbustest.StartBus(t)
	d := Start(t, bus)
	away := image.Pt(d.Screen.Max.X-1, d.Screen.Max.Y-1)
	d.MovePointer(t, away)

	panel := d.PanelRect(t)
	empty := d.Screenshot(t)
	if r, ok := FindIcon(empty, panel); ok {
		t.Fatalf("the panel shows something at %v before the tray started; the icon check below would prove nothing", r)
	}

	env := proctest.NewEnv(t)
	env.Extra = d.AppEnv()
	tray := proctest.Start(t, env, bins.tray)
	daemons := stopTrayAtCleanup(t, tray)
	api := client.New(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(env.Port)), "")

	// Running: the tray's child answers, and the panel's own watcher (not a
	// test double) has the item registered.
	first := waitHealthy(t, d.Poll, api, tray, 0)
	daemons.add(first)
	conn := bus.Conn(t)
	d.Poll(t, "the tray's item in the panel's RegisteredStatusNotifierItems", func() bool {
		return len(registeredItems(conn)) > 0
	})

	// The icon: something the panel did not show before, inside the panel.
	var icon image.Rectangle
	var shown *image.RGBA
	d.Poll(t, "the tray icon in the panel screenshot", func() bool {
		shot := d.Screenshot(t)
		r, ok := FindIcon(shot, panel)
		// The same box twice in a row: the icon is fully drawn.
		if ok && r == icon && shown != nil {
			return true
		}
		icon, shown = r, shot
		return false
	})
	if icon.Dx() < 8 || icon.Dy() < 8 || icon.Dx() > panel.Dy() || icon.Dy() > panel.Dy() {
		t.Fatalf("the region that stands out in the panel is %v, not an icon-sized square in the %v panel", icon, panel)
	}
	t.Logf("panel %v, icon at %v", panel, icon)

	// The tooltip: hovering the icon shows the status line below the panel.
	below := image.Rect(d.Screen.Min.X, panel.Max.Y, d.Screen.Max.X, d.Screen.Max.Y)
	d.MovePointer(t, Center(icon))
	tip, tipShot := waitWindow(t, d, shown, below, "the tooltip to show below the panel")
	t.Logf("tooltip at %v", tip)
	d.MovePointer(t, away)
	waitClosed(t, d, shown, below)

	// The menu: the click opens a window below the panel that was not there.
	menu, menuShot := openMenu(t, d, icon, shown, below)
	t.Logf("menu at %v", menu)
	if menu.Dx() < 120 || menu.Dy() < 120 {
		t.Fatalf("after clicking the icon, only %v of the screen changed; want a menu of nine items", menu)
	}
	if os.Getenv(updateEnv) != "" {
		writeScreenshots(t, panel, icon, tip, menu, tipShot, menuShot)
	}
	d.Key(t, "Escape")
	waitClosed(t, d, shown, below)

	// A crash: kill -9 of the daemon, restarted by the tray, which tells the
	// user through the real notification server.
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the daemon (PID %d): %v", first, err)
	}
	second := waitHealthy(t, d.Poll, api, tray, first)
	daemons.add(second)
	const title = "Cairn restarted after a crash"
	var seen []Notification
	d.Poll(t, fmt.Sprintf("%q in dunstctl history", title), func() bool {
		seen = d.Notifications(t)
		for _, n := range seen {
			if n.Summary == title && n.AppName == "Cairn" {
				return true
			}
		}
		return false
	})
	t.Logf("dunst history: %+v", seen)
	// The icon went starting → running again; the panel must still show it.
	d.Poll(t, "the tray icon in the panel after the restart", func() bool {
		_, ok := FindIcon(d.Screenshot(t), panel)
		return ok
	})

	// Quit from the real menu: Up from the top of a GTK menu wraps to its
	// last item, "Quit Cairn".
	d.MovePointer(t, away)
	openMenu(t, d, icon, d.Screenshot(t), below)
	d.Key(t, "Up", "Return")
	if code := tray.Wait(t, WaitTimeout); code != 0 {
		t.Fatalf("the tray exited %d after Quit, want 0\nstderr: %s", code, tray.Stderr())
	}
	if alive(second) {
		t.Fatalf("the tray's daemon (PID %d) still runs after Quit", second)
	}
	p := env.Paths()
	for _, f := range append(p.AddrFiles(), p.Lock) {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after Quit (stat: %v)", f, err)
		}
	}
}

// openMenu clicks the icon and waits for its menu to show below the panel.
func openMenu(t *testing.T, d *Desktop, icon image.Rectangle, before *image.RGBA, below image.Rectangle) (image.Rectangle, *image.RGBA) {
	t.Helper()
	d.Click(t, Center(icon), menuButton)
	return waitWindow(t, d, before, below, "the tray menu to open below the panel")
}

// waitWindow waits until something has appeared in area that was not in
// before and has stopped changing (GTK maps a window, then draws it), and
// returns where it is and the screenshot that shows it.
func waitWindow(t *testing.T, d *Desktop, before *image.RGBA, area image.Rectangle, what string) (image.Rectangle, *image.RGBA) {
	t.Helper()
	var box image.Rectangle
	var last *image.RGBA
	d.Poll(t, what, func() bool {
		shot := d.Screenshot(t)
		r := Diff(before, shot, area)
		stable := last != nil && r == box && !r.Empty() && Diff(last, shot, r).Empty()
		box, last = r, shot
		return stable
	})
	return box, last
}

// waitClosed waits until the screen below the panel is as it was before
// the menu opened.
func waitClosed(t *testing.T, d *Desktop, before *image.RGBA, below image.Rectangle) {
	t.Helper()
	d.Poll(t, "the tray menu to close", func() bool {
		return Diff(before, d.Screenshot(t), below).Empty()
	})
}

// writeScreenshots saves the README's pictures: the panel around the icon
// with its tooltip, and the open menu with the icon it hangs from.
func writeScreenshots(t *testing.T, panel, icon, tip, menu image.Rectangle, tipShot, menuShot *image.RGBA) {
	t.Helper()
	docs := filepath.Join("..", "..", "..", "docs")
	const pad = 8
	// A strip of panel, as wide as what hangs below it.
	strip := func(below image.Rectangle) image.Rectangle {
		return image.Rect(panel.Min.X, panel.Min.Y, min(panel.Max.X, max(icon.Max.X, below.Max.X)+pad), panel.Max.Y)
	}
	for _, s := range []struct {
		name  string
		shot  *image.RGBA
		below image.Rectangle
	}{{"tray-panel.png", tipShot, tip}, {"tray-menu.png", menuShot, menu}} {
		area := strip(s.below).Union(s.below.Inset(-pad))
		path := filepath.Join(docs, s.name)
		WritePNG(t, path, Crop(s.shot, area))
		t.Logf("wrote %s", path)
	}
}

// waitHealthy waits, through poll, until /health answers with a PID other
// than not (0: any) from a child of the tray, and returns that PID.
func waitHealthy(t *testing.T, poll func(testing.TB, string, func() bool), api *client.Client, tray *proctest.Proc, not int) int {
	t.Helper()
	var pid int
	poll(t, fmt.Sprintf("the tray's daemon to answer /health (not PID %d)", not), func() bool {
		if tray.Exited() {
			t.Fatalf("cairn-tray exited %d\nstderr: %s", tray.Code(), tray.Stderr())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h, err := api.Health(ctx)
		if err != nil || h.PID == 0 || h.PID == not {
			return false
		}
		pid = h.PID
		return true
	})
	if ppid := parentOf(pid); ppid != tray.PID() {
		t.Fatalf("the daemon answering /health (PID %d) is a child of PID %d, not of the tray (PID %d)", pid, ppid, tray.PID())
	}
	return pid
}

// registeredItems reads the panel's StatusNotifierWatcher property.
func registeredItems(conn *dbus.Conn) []string {
	v, err := conn.Object(dbustest.WatcherName, dbustest.WatcherPath).GetProperty(dbustest.WatcherIface + ".RegisteredStatusNotifierItems")
	if err != nil {
		return nil
	}
	items, _ := v.Value().([]string)
	return items
}

// daemonPIDs are the daemons a test saw; cleanup kills any still running,
// because the tray's child lives in its own session and outlives a tray
// that was killed.
type daemonPIDs struct{ pids []int }

func (d *daemonPIDs) add(pid int) { d.pids = append(d.pids, pid) }

// stopTrayAtCleanup registers, after proctest's own cleanup (so it runs
// first), a graceful stop of the tray: SIGTERM makes it stop the daemon it
// owns. Daemons still alive after that are killed by PID.
func stopTrayAtCleanup(t *testing.T, tray *proctest.Proc) *daemonPIDs {
	ds := &daemonPIDs{}
	t.Cleanup(func() {
		if !tray.Exited() {
			tray.Cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-tray.Done():
			case <-time.After(WaitTimeout):
			}
		}
		for _, pid := range ds.pids {
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return ds
}

// alive reports whether pid names a live, not zombie, process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// parentOf returns pid's parent PID, or 0 when pid is gone.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	var state string
	var ppid int
	fmt.Sscan(rest, &state, &ppid)
	return ppid
}
