package main

// The harness of the end-to-end tests of the real cairn-tray: every test
// gets its own private session bus with a test tray host and a test
// notification server on it (internal/dbustest), its own HOME,
// CAIRN_HOME and port (internal/proctest), and launches the built binaries
// as real processes. It then sees and drives the tray only the way a
// desktop does, over D-Bus, and checks the daemon the way clients do,
// through its files and its API.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

const (
	cairnPkg    = "github.com/cairnlabs/cairn/cmd/cairn"
	trayPkg     = "github.com/cairnlabs/cairn/cmd/cairn-tray"
	holdportPkg = "github.com/cairnlabs/cairn/internal/proctest/holdport"
)

// wait bounds each wait on the tray or the daemon: generous, because the
// binaries are -race builds on a 2-core machine that other test suites
// share, and only a failing test ever waits that long.
const wait = 60 * time.Second

// noHostLine is what the tray says, once, when no tray host is on the bus.
const noHostLine = "Cairn runs without a tray icon until a tray host (StatusNotifierWatcher) appears"

// binaries are the programs under test, built once per test binary.
type binaries struct {
	dir      string
	cairn    string // cmd/cairn, the daemon the tray supervises
	tray     string // cmd/cairn-tray
	holdport string // another program on the port
}

// built builds the binaries on first use (with -race when the tests run
// with it, so the tray's and daemon's own races fail the suite); TestMain
// calls it first so that a build error stops the run at once.
var built = sync.OnceValues(func() (binaries, error) {
	dir, err := os.MkdirTemp("", "cairn-tray-e2e")
	if err != nil {
		return binaries{}, err
	}
	out, err := proctest.Build(dir, cairnPkg, trayPkg, holdportPkg)
	if err != nil {
		os.RemoveAll(dir)
		return binaries{}, err
	}
	return binaries{dir: dir, cairn: out[cairnPkg], tray: out[trayPkg], holdport: out[holdportPkg]}, nil
})

func TestMain(m *testing.M) {
	b, err := built()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(b.dir)
	os.Exit(code)
}

// world is one test's desktop and machine.
type world struct {
	t     *testing.T
	bins  binaries
	bus   *dbustest.Bus
	conn  *dbus.Conn         // the test's own connection, to ask the bus who is who
	host  *dbustest.Watcher  // the panel; nil while there is none
	notes *dbustest.Notifier // the notification server
	env   *proctest.Env
	paths paths.Paths
}

// options vary the desktop.
type options struct {
	noHost  bool // start without a tray host (startHost adds one later)
	actions bool // the notification server shows action buttons
}

func newWorld(t *testing.T, o options) *world {
	t.Helper()
	bins, err := built()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, bins: bins, env: proctest.NewEnv(t)}
	w.paths = w.env.Paths()
	// Registered first, so it runs last: after proctest has killed any
	// tray still running, sweep the daemons the trays left behind.
	t.Cleanup(w.killDaemons)
	t.Cleanup(w.dumpOnFailure)
	w.bus = dbustest.StartBus(t)
	w.env.Extra = []string{"DBUS_SESSION_BUS_ADDRESS=" + w.bus.Address()}
	w.conn = w.bus.Conn(t)
	w.notes = dbustest.StartNotifier(t, w.bus, o.actions)
	if !o.noHost {
		w.startHost()
	}
	return w
}

// startHost starts a tray host (again, after host.Stop: a panel restart).
func (w *world) startHost() { w.host = dbustest.StartWatcher(w.t, w.bus) }

// deadline returns a context for one wait.
func (w *world) deadline() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	w.t.Cleanup(cancel)
	return ctx
}

// startTray launches cairn-tray on the test's bus, data dir and port.
func (w *world) startTray() *proctest.Proc {
	w.t.Helper()
	return w.startTrayWith(w.bins.cairn)
}

// startTrayWith launches cairn-tray with daemonBin as its cairn.
func (w *world) startTrayWith(daemonBin string) *proctest.Proc {
	w.t.Helper()
	return proctest.Start(w.t, w.env, w.bins.tray, "--daemon-bin", daemonBin, "--port", strconv.Itoa(w.env.Port))
}

// gatedDaemon returns a daemon binary for the tray that does not start
// until release is called: a shell script that waits on a FIFO, then
// execs the real cairn (same PID, so the tray's child is the daemon). It
// lets a test act while the daemon is certainly still starting.
func (w *world) gatedDaemon() (bin string, release func()) {
	w.t.Helper()
	dir := w.t.TempDir()
	gate := filepath.Join(dir, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		w.t.Fatal(err)
	}
	bin = filepath.Join(dir, "cairn")
	script := fmt.Sprintf("#!/bin/sh\nread _ < '%s'\nexec '%s' \"$@\"\n", gate, w.bins.cairn)
	proctest.WriteExecutable(w.t, bin, script, 0o700)
	// Opened read-write, the FIFO never blocks the test, and what is
	// written waits in it for the script to read, whenever that is.
	f, err := os.OpenFile(gate, os.O_RDWR, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { f.Close() })
	return bin, func() {
		if _, err := f.WriteString("go\n"); err != nil {
			w.t.Fatal(err)
		}
	}
}

// waitTrayLog waits until the tray log holds s.
func (w *world) waitTrayLog(p *proctest.Proc, s string) {
	w.t.Helper()
	proctest.Eventually(w.t, wait, fmt.Sprintf("%q in the tray log", s), func() bool {
		log, _ := os.ReadFile(w.paths.TrayLog)
		return strings.Contains(string(log), s) || p.Exited()
	})
	if p.Exited() {
		w.t.Fatalf("the tray exited (code %d)\nstderr: %s", p.Code(), p.Stderr())
	}
}

// itemOf waits until the tray process p has registered its icon with the
// tray host and returns the item. It matches by the PID behind the item's
// bus connection, so an item of an earlier tray never passes for p's.
func (w *world) itemOf(p *proctest.Proc) *dbustest.Item {
	w.t.Helper()
	ctx := w.deadline()
	for n := 1; ; n = w.host.Registrations() + 1 {
		if err := w.host.WaitRegistrations(ctx, n); err != nil {
			w.t.Fatalf("no icon of the tray (PID %d) registered: %v\nstderr: %s", p.PID(), err, p.Stderr())
		}
		for _, it := range w.host.Items() {
			var pid uint32
			err := w.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetConnectionUnixProcessID", 0, it.BusName).Store(&pid)
			if err == nil && int(pid) == p.PID() {
				return it
			}
		}
	}
}

// statusRE matches the running status line and captures port and PID.
var statusRE = regexp.MustCompile(`^Running · 127\.0\.0\.1:(\d+) · PID (\d+) · up (.+)$`)

// waitRunning waits until the status line says running with a PID for
// which ok returns true, and returns that PID.
func (w *world) waitRunning(item *dbustest.Item, ok func(pid int) bool) int {
	w.t.Helper()
	pid := 0
	_, err := item.WaitMenu(w.deadline(), func(root dbustest.MenuNode) bool {
		m := statusRE.FindStringSubmatch(statusLine(root))
		if m == nil || m[1] != strconv.Itoa(w.env.Port) {
			return false
		}
		pid, _ = strconv.Atoi(m[2])
		return ok(pid)
	})
	if err != nil {
		w.t.Fatalf("the tray never said it runs on port %d: %v", w.env.Port, err)
	}
	return pid
}

// anyPID accepts every PID, for waitRunning.
func anyPID(int) bool { return true }

// statusLine is the menu's first entry: the disabled status line.
func statusLine(root dbustest.MenuNode) string {
	for _, c := range root.Children {
		if c.Type != "separator" {
			return c.Label
		}
	}
	return ""
}

// waitStatus waits until the status line is want.
func (w *world) waitStatus(item *dbustest.Item, want string) dbustest.MenuNode {
	w.t.Helper()
	root, err := item.WaitMenu(w.deadline(), func(root dbustest.MenuNode) bool { return statusLine(root) == want })
	if err != nil {
		w.t.Fatalf("status line never became %q: %v", want, err)
	}
	return root
}

// waitMenu waits until cond holds for the menu. The tray changes the
// items one D-Bus update at a time, so a test that checks more than one
// item waits for all of them rather than read once after the first.
func (w *world) waitMenu(item *dbustest.Item, what string, cond func(dbustest.MenuNode) bool) dbustest.MenuNode {
	w.t.Helper()
	root, err := item.WaitMenu(w.deadline(), cond)
	if err != nil {
		w.t.Fatalf("the menu never showed %s: %v", what, err)
	}
	return root
}

// offered reports whether the menu has a visible, enabled entry labelled
// label (exactly: "Start" must not match "Start at login").
func offered(root dbustest.MenuNode, label string) bool {
	n, ok := root.Find(func(m dbustest.MenuNode) bool { return m.Visible && m.Label == label })
	return ok && n.Enabled
}

func (w *world) click(item *dbustest.Item, prefix string) {
	w.t.Helper()
	if _, err := item.ClickLabel(w.deadline(), prefix); err != nil {
		w.t.Fatal(err)
	}
}

// clickQuit clicks "Quit Cairn". The tray may be gone before its D-Bus
// reply to the click is: it hands the click on and answers afterwards,
// and with no daemon of its own to stop it exits at once. A panel ignores
// that NoReply, and so does the test; the exit is checked on its own.
func (w *world) clickQuit(item *dbustest.Item) {
	w.t.Helper()
	if _, err := item.ClickLabel(w.deadline(), "Quit Cairn"); err != nil && !dbustest.IsNoReply(err) {
		w.t.Fatal(err)
	}
}

// waitNote waits for a notification whose summary contains s.
func (w *world) waitNote(s string) dbustest.Notification {
	w.t.Helper()
	n, err := w.notes.Wait(w.deadline(), func(n dbustest.Notification) bool { return strings.Contains(n.Summary, s) })
	if err != nil {
		w.t.Fatalf("no notification %q: %v", s, err)
	}
	if n.AppName != "Cairn" {
		w.t.Errorf("notification %q came from app %q, want Cairn", n.Summary, n.AppName)
	}
	return n
}

// serving checks the daemon's contract from the outside and returns its
// PID: the discovery files name 127.0.0.1:port, /health there answers,
// and the lock record names the same PID.
func (w *world) serving() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	want := fmt.Sprintf("127.0.0.1:%d", w.env.Port)
	for _, f := range []string{w.paths.AddrFile, w.paths.DotAddrFile} {
		addr, err := discovery.Read(f)
		if err != nil {
			return 0, err
		}
		if addr.String() != want {
			return 0, fmt.Errorf("%s names %s, want %s", f, addr, want)
		}
	}
	pid, addr, ok := proctest.Healthy(ctx, w.paths)
	if !ok {
		return 0, errors.New("no healthy daemon at the discovered address")
	}
	if addr.String() != want {
		return 0, fmt.Errorf("the daemon serves at %s, want %s", addr, want)
	}
	rec, err := lock.ReadRecord(w.paths.Lock)
	if err != nil {
		return 0, err
	}
	if rec != pid {
		return 0, fmt.Errorf("the lock names PID %d, /health PID %d", rec, pid)
	}
	return pid, nil
}

// mustServe checks that the daemon with pid serves on the port.
func (w *world) mustServe(pid int) {
	w.t.Helper()
	got, err := w.serving()
	if err != nil {
		w.t.Fatalf("no daemon serves on port %d: %v", w.env.Port, err)
	}
	if got != pid {
		w.t.Fatalf("PID %d serves on port %d, want PID %d", got, w.env.Port, pid)
	}
}

// waitServing waits until some daemon serves by the contract.
func (w *world) waitServing() int {
	w.t.Helper()
	var pid int
	var last error
	proctest.Eventually(w.t, wait, "a daemon serving on the port", func() bool {
		pid, last = w.serving()
		return last == nil
	})
	return pid
}

// waitGone waits until pid names no live process (a zombie counts as
// gone: the tray reaps its child, init reaps an orphan).
func (w *world) waitGone(pid int) {
	w.t.Helper()
	proctest.Eventually(w.t, wait, fmt.Sprintf("PID %d to exit", pid), func() bool {
		return !proc.Alive(context.Background(), pid)
	})
}

// cleanExit waits for p (a tray, or a daemon the test started) to exit
// and checks it did so cleanly:
// code 0, no panic, and no race report from the -race build (which would
// make it exit 66 too, but the report is what says where).
func (w *world) cleanExit(p *proctest.Proc) {
	w.t.Helper()
	code := p.Wait(w.t, wait)
	if code != 0 || strings.Contains(p.Stderr(), "panic:") || strings.Contains(p.Stderr(), "DATA RACE") {
		w.t.Fatalf("%s exited with code %d\nstderr: %s", filepath.Base(p.Cmd.Path), code, p.Stderr())
	}
}

// sigterm sends SIGTERM to a tray (or a daemon the test started) and
// checks that it exits cleanly.
func (w *world) sigterm(p *proctest.Proc) {
	w.t.Helper()
	p.Signal(w.t, syscall.SIGTERM)
	w.cleanExit(p)
}

// assertStoppedClean checks what a quit leaves: the daemon gone and its
// discovery files and lock removed.
func (w *world) assertStoppedClean(pid int) {
	w.t.Helper()
	w.waitGone(pid)
	for _, f := range []string{w.paths.AddrFile, w.paths.DotAddrFile, w.paths.Lock} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			w.t.Errorf("%s left behind (stat: %v)", f, err)
		}
	}
	if out, _ := os.ReadFile(w.paths.DaemonOut); bytes.Contains(out, []byte("DATA RACE")) {
		w.t.Errorf("the daemon reported a data race:\n%s", out)
	}
}

// holdPort starts another program listening on 127.0.0.1:port, a separate
// process so that it has a name and a PID to show.
func (w *world) holdPort() *proctest.Proc {
	w.t.Helper()
	p := proctest.Start(w.t, w.env, w.bins.holdport, "-addr", fmt.Sprintf("127.0.0.1:%d", w.env.Port))
	proctest.Eventually(w.t, wait, "holdport to listen", func() bool {
		return strings.Contains(p.Stdout(), "ready") || p.Exited()
	})
	if p.Exited() {
		w.t.Fatalf("holdport exited: %s", p.Stderr())
	}
	return p
}

// daemons lists the live cairn processes that run with this test's
// CAIRN_HOME: the daemons its trays spawned. Nothing else on the machine
// has that environment.
func (w *world) daemons() []int {
	mark := []byte("CAIRN_HOME=" + w.env.CairnHome)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(filepath.Join(d, "comm")); err != nil || strings.TrimSpace(string(comm)) != "cairn" {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !slices.ContainsFunc(bytes.Split(env, []byte{0}), func(kv []byte) bool { return bytes.Equal(kv, mark) }) {
			continue
		}
		if proc.Alive(context.Background(), pid) {
			out = append(out, pid)
		}
	}
	return out
}

// killDaemons ends the daemons this test's trays left running (a tray
// killed on purpose leaves its child serving, by design), by PID, so none
// outlives the test.
func (w *world) killDaemons() {
	for _, pid := range w.daemons() {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			w.t.Logf("kill leftover daemon %d: %v", pid, err)
			continue
		}
		w.waitGone(pid)
	}
}

// dumpOnFailure logs the tray's and the daemon's own logs when a test
// failed: the D-Bus view says what went wrong, these say why.
func (w *world) dumpOnFailure() {
	if !w.t.Failed() {
		return
	}
	for _, f := range []string{w.paths.TrayLog, w.paths.DaemonOut} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(b) > 16<<10 {
			b = b[len(b)-16<<10:]
		}
		w.t.Logf("%s:\n%s", f, b)
	}
}
