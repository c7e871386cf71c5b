//go:build soak && linux

package soak

// TestSoak is `make soak`: one real cairn-tray on a private D-Bus (a test
// tray host reads and clicks its menu, a test notification server records
// and clicks its notifications), real daemons, writers through the API,
// the CLI and `cairn mcp` bridges, a reader, and random faults from a
// seeded generator for $SOAK (default 10m). Invariants are checked the
// whole time and at the end; the table is printed, and any violation
// fails the run with the seed and the last events.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/token"
	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/internal/rundump"
)

const (
	cairnPkg    = "github.com/cairnlabs/cairn/cmd/cairn"
	cairnMCPPkg = "github.com/cairnlabs/cairn/cmd/cairn-mcp"
	trayPkg     = "github.com/cairnlabs/cairn/cmd/cairn-tray"
	holdportPkg = "github.com/cairnlabs/cairn/internal/proctest/holdport"
	floodPkg    = "github.com/cairnlabs/cairn/internal/proctest/flood"
)

// soak is one run's world.
type soak struct {
	t       *testing.T
	rng     *mathrand.Rand
	rep     *Report
	prom    Promises
	env     *proctest.Env
	paths   paths.Paths
	port    int
	bin     map[string]string
	other   *proctest.User // another local user (root only)
	shared  map[string]string
	tmpfs   bool // the data dir is a size-limited tmpfs
	bus     *dbustest.Bus
	host    *dbustest.Watcher
	notes   *dbustest.Notifier
	tray    *proctest.Proc
	item    *dbustest.Item
	tok     string
	records []string // files where squatters recorded what they received

	ackMu sync.Mutex
	acked map[string]string // memory id → its unique word
	order []string          // ids in the order acknowledged
	ackAt map[string]time.Time
	word  atomic.Int64
}

func TestSoak(t *testing.T) {
	dur := 10 * time.Minute
	if s := os.Getenv("SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 10*time.Second {
			t.Fatalf("SOAK=%q: give a duration of at least 10s, e.g. SOAK=60s", s)
		}
		dur = d
	}
	seed := randomSeed()
	if s := os.Getenv("SOAK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: give a whole number", s)
		}
		seed = n
	}
	fmt.Printf("soak: SOAK_SEED=%d SOAK=%s (replay: SOAK_SEED=%d SOAK=%s make soak)\n", seed, dur, seed, dur)
	s := &soak{t: t, rng: mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rep: NewReport(seed), prom: TrayPromises,
		acked: map[string]string{}, ackAt: map[string]time.Time{}}
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-soak-%d.log", seed))
	if f, err := os.Create(logPath); err == nil {
		defer f.Close()
		s.rep.Log = f
		fmt.Printf("soak: every event goes to %s\n", logPath)
	}
	start := time.Now()
	defer func() {
		s.rep.Print(os.Stdout, time.Since(start))
		if v := s.rep.Violations(); len(v) > 0 || t.Failed() {
			fmt.Printf("\nsoak FAILED: SOAK_SEED=%d SOAK=%s; last events:\n  %s\n", seed, dur, strings.Join(s.rep.Events(), "\n  "))
			t.Errorf("%d invariant violations (seed %d)", len(v), seed)
		}
	}()
	s.setUp()
	s.run(dur)
}

func randomSeed() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 1
}

func (s *soak) setUp() {
	t := s.t
	dir := t.TempDir()
	// cairn-mcp beside cairn: the bridges run `cairn mcp`.
	bins, err := proctest.Build(dir, cairnPkg, cairnMCPPkg, trayPkg, holdportPkg, floodPkg)
	if err != nil {
		t.Fatal(err)
	}
	s.bin = map[string]string{"cairn": bins[cairnPkg], "tray": bins[trayPkg], "holdport": bins[holdportPkg], "flood": bins[floodPkg]}
	s.env = proctest.NewEnv(t)
	s.paths = s.env.Paths()
	s.port = s.env.Port
	if u, ok := proctest.OtherUser(t); ok {
		s.other = &u
		s.shared = map[string]string{"holdport": proctest.Share(t, s.bin["holdport"]), "flood": proctest.Share(t, s.bin["flood"])}
	} else {
		s.rep.Event("not root: no other user, so no squatter of another user and no flood from one")
	}
	s.mountTmpfs()
	s.bus = dbustest.StartBus(t)
	s.env.Extra = []string{"DBUS_SESSION_BUS_ADDRESS=" + s.bus.Address()}
	s.host = dbustest.StartWatcher(t, s.bus)
	s.notes = dbustest.StartNotifier(t, s.bus, true)
	t.Cleanup(s.killLeftovers)
	s.tray = proctest.Start(t, s.env, s.bin["tray"], "--daemon-bin", s.bin["cairn"], "--port", strconv.Itoa(s.port))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it, err := s.host.WaitItem(ctx)
	if err != nil {
		t.Fatalf("the tray registered no icon: %v\n%s", err, s.tray.Stderr())
	}
	s.item = it
	if !s.settle("launch", time.Now()) {
		t.Fatal("the tray never showed a running daemon at launch")
	}
	s.tok, err = token.Read(s.paths.Token)
	if err != nil {
		t.Fatal(err)
	}
}

// mountTmpfs puts the data dir on a 48 MiB tmpfs when root can mount one,
// so the disk can really fill up.
func (s *soak) mountTmpfs() {
	if os.Getuid() != 0 {
		return
	}
	if err := os.MkdirAll(s.env.CairnHome, 0o700); err != nil {
		s.t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", s.env.CairnHome).CombinedOutput()
	if err != nil {
		s.rep.Event("no tmpfs (%v: %s): the disk-full fault is left out", err, bytes.TrimSpace(out))
		return
	}
	s.tmpfs = true
	s.t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", s.env.CairnHome).CombinedOutput(); err != nil {
			s.t.Logf("umount %s: %v %s", s.env.CairnHome, err, out)
		}
	})
}

// run is the soak: warm-up, the fault loop with writers, reader and the
// invariant checker running, then the final checks.
func (s *soak) run(dur time.Duration) {
	ctx, stop := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	goBG := func(f func(context.Context)) {
		bg.Add(1)
		go func() { defer bg.Done(); f(ctx) }()
	}
	goBG(s.checkInvariants)
	for i := range 2 {
		goBG(func(ctx context.Context) { s.apiWriter(ctx, i) })
	}
	goBG(s.cliWriter)
	for i := range 3 {
		goBG(func(ctx context.Context) { s.mcpWriter(ctx, i) })
	}
	goBG(s.reader)

	end := time.Now().Add(dur)
	warm := min(dur/10, time.Minute)
	s.rep.Event("warm-up %s", warm)
	time.Sleep(warm)
	s.ensureRunning()
	daemonPID := s.world().Serving
	daemonStart := steadyUsage(daemonPID)
	daemonStart.Goroutines, daemonStart.HeapKiB = s.runtimeUsage(daemonPID, s.paths.DaemonDump)
	trayGoroutines, trayHeap := s.runtimeUsage(s.tray.PID(), s.paths.TrayDump)
	// The tray is the same process from start to end: its resources are
	// sampled every 2 s and compared as floors (the least in the first and
	// the last 30 s), so a collection cycle that has not run yet is not a
	// leak, and a leak, which raises the floor, still is.
	trayPID := s.tray.PID()
	var samplesMu sync.Mutex
	var samples []Usage
	sampling := make(chan struct{})
	go func() {
		defer close(sampling)
		for n := 0; ; n++ {
			u := usage(trayPID)
			samplesMu.Lock()
			samples = append(samples, u)
			samplesMu.Unlock()
			if n%15 == 0 {
				s.rep.Event("tray: %d fds, %d threads, %d KiB RSS (%d anonymous)", u.FDs, u.Threads, u.RSSKiB, u.AnonKiB)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()

	faults := s.faults()
	for time.Now().Before(end) {
		f := pick(s.rng, faults)
		s.ensureRunning()
		s.rep.Event("fault %s", f.name)
		f.run()
	}
	// The end's figures that the writers' load moves (the daemon's
	// connections, goroutines and heap; the tray's memory-count events)
	// are taken while they still write, as the start's were, so the load
	// neither hides a leak nor makes one.
	s.ensureRunning()
	daemonNow := s.serving()
	daemonEnd := steadyUsage(daemonNow)
	daemonEnd.Goroutines, daemonEnd.HeapKiB = s.runtimeUsage(daemonNow, s.paths.DaemonDump)
	trayGoroutinesEnd, trayHeapEnd := s.runtimeUsage(trayPID, s.paths.TrayDump)
	stop()
	bg.Wait()
	<-sampling
	s.ensureRunning()
	window := min(15, len(samples)/2)
	start := floor(samples[:window])
	start.Goroutines, start.HeapKiB = trayGoroutines, trayHeap
	// The quiet end, once the writers have stopped: a burst's freed heap
	// goes back to the OS within a minute or so (the scavenger), a leak's
	// never does. The end is the floor of up to 60 s, cut short once the
	// tray is back within bound.
	var quiet []Usage
	for range 30 {
		time.Sleep(2 * time.Second)
		quiet = append(quiet, usage(trayPID))
		if f := floor(quiet); len(quiet) >= 5 && !grewPast(start, f) {
			break
		}
	}
	quietEnd := floor(quiet)
	quietEnd.Goroutines, quietEnd.HeapKiB = trayGoroutinesEnd, trayHeapEnd
	s.final(start, quietEnd, daemonPID, daemonStart, daemonNow, daemonEnd)
}

// runtimeUsage is what pid's runtime says of itself (rundump, asked for
// with SIGUSR1): the least of three dumps a second apart, so a probe or a
// look in flight does not count as a leak. Zero when pid is 0.
func (s *soak) runtimeUsage(pid int, dump string) (goroutines, heapKiB int64) {
	if pid == 0 {
		return 0, 0
	}
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		os.Remove(dump)
		if err := syscall.Kill(pid, rundump.Signal); err != nil {
			s.rep.Violation("cannot ask PID %d for its runtime dump: %v", pid, err)
			return 0, 0
		}
		deadline := time.Now().Add(10 * time.Second)
		var fs map[string]int64
		for fs["goroutines"] == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			if b, err := os.ReadFile(dump); err == nil {
				fs = rundump.Figures(b)
			}
		}
		if fs["goroutines"] == 0 {
			s.rep.Violation("PID %d wrote no runtime dump to %s within 10 s of SIGUSR1", pid, dump)
			return 0, 0
		}
		g, h := fs["goroutines"], fs["heap_live_bytes"]>>10
		if i == 0 || g < goroutines {
			goroutines = g
		}
		if i == 0 || h < heapKiB {
			heapKiB = h
		}
	}
	return goroutines, heapKiB
}

// grewPast: end is past start by more than 10 % (and 2 descriptors or 1
// thread) in any figure.
func grewPast(start, end Usage) bool {
	return past(start.FDs, end.FDs, 2) || past(start.Threads, end.Threads, 1) || past(start.AnonKiB, end.AnonKiB, gcSlackKiB)
}

// past is the one growth rule: b is more than 10 % (plus slack) above a.
func past(a, b, slack int64) bool { return b > a+a/10+slack }

// gcSlackKiB is what a Go process's anonymous RSS may move by without a
// leak: the collector does not run below its minimum heap goal (4 MB), so
// a tray whose live heap stays under 1 MiB still swings its heap, and the
// pages it touched, by up to that much between collections. The tray's
// anonymous RSS is ~7 MiB, so 10 % alone (~0.7 MiB) is inside that swing:
// two 10-minute runs ended at +17 % and +1.9 MiB with the live heap flat.
const gcSlackKiB = 4 << 10

// liveSlackKiB is what the live heap may differ by between two moments
// without a leak: a D-Bus message or a crash's output being read just
// then (the least of three dumps is taken, so that is rare).
const liveSlackKiB = 256

// floor is the least of each figure over us.
func floor(us []Usage) Usage {
	f := us[0]
	for _, u := range us[1:] {
		f.FDs, f.Threads, f.RSSKiB, f.AnonKiB = min(f.FDs, u.FDs), min(f.Threads, u.Threads), min(f.RSSKiB, u.RSSKiB), min(f.AnonKiB, u.AnonKiB)
	}
	return f
}

type fault struct {
	name   string
	weight int
	run    func()
}

func pick(r *mathrand.Rand, fs []fault) fault {
	total := 0
	for _, f := range fs {
		total += f.weight
	}
	n := r.IntN(total)
	for _, f := range fs {
		if n < f.weight {
			return f
		}
		n -= f.weight
	}
	return fs[len(fs)-1]
}

func (s *soak) faults() []fault {
	fs := []fault{
		{"kill -9", 6, s.kill9},
		{"SIGHUP", 2, s.sighup},
		{"SIGSTOP short", 3, func() { s.stopCont(false) }},
		{"SIGSTOP long", 1, func() { s.stopCont(true) }},
		{"foreign listener", 3, s.foreignListener},
		{"respawn storm", 2, s.respawnStorm},
		{"concurrent commands", 4, s.concurrent},
		{"menu", 3, s.menuClick},
	}
	if s.other != nil {
		fs = append(fs, fault{"squatter (other user)", 2, s.squatter}, fault{"connection flood (other user)", 2, s.flood})
	}
	if s.tmpfs {
		fs = append(fs, fault{"disk full", 2, s.diskFull})
	}
	return fs
}

// --- observing ---

// world is what the outside sees now.
func (s *soak) world() World {
	w := World{Port: s.port}
	if pid, err := lock.ReadRecord(s.paths.Lock); err == nil && pid > 0 && stopped(pid) {
		w.Frozen = pid
		return w
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if pid, addr, ok := proctest.Healthy(ctx, s.paths); ok && int(addr.Port()) == s.port {
		w.Serving = pid
		return w
	}
	if socks, ok := proc.ListeningSockets(uint16(s.port)); ok && len(socks) > 0 {
		ours := false
		for _, d := range s.cairnProcs() {
			if slices.Contains(listeningPorts(d), s.port) {
				ours = true
			}
		}
		w.Foreign = !ours
	}
	return w
}

// line is the tray's status line, read over dbusmenu.
func (s *soak) line() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	root, err := s.item.Layout(ctx)
	if err != nil {
		return "", err
	}
	for _, c := range root.Children {
		if c.Type != "separator" {
			return c.Label, nil
		}
	}
	return "", errors.New("empty menu")
}

// settle waits until the tray tells the truth about the world (the same
// line before and after looking at the world), within the tray's
// promised bound, and records the time since since as kind's recovery.
// A stale tray that the tray does not promise to fix is a gap: recorded,
// and resynced with the menu's Start, as a user would.
func (s *soak) settle(kind string, since time.Time) bool {
	return s.settleTo(kind, since, false)
}

// settleTo is settle that, with serving, also waits for a daemon to serve
// (after a Start the tray shows Stopped truthfully until it acts).
func (s *soak) settleTo(kind string, since time.Time, serving bool) bool {
	deadline := time.Now().Add(s.prom.Bound())
	gapped := false
	var last string
	var lastW World
	for time.Now().Before(deadline) {
		l1, err1 := s.line()
		w := s.world()
		l2, err2 := s.line()
		if err1 == nil && err2 == nil && l1 == l2 {
			last, lastW = l1, w
			switch s.prom.Judge(w, l1) {
			case Right:
				if serving && w.Serving == 0 {
					break
				}
				s.rep.Fault(kind, time.Since(since))
				s.rep.Event("%s: settled in %s: %s, tray %q", kind, time.Since(since).Round(time.Millisecond), w, l1)
				return true
			case Gap:
				if !gapped {
					gapped = true
					s.rep.Gap("after %s: %s, the tray shows %q", kind, w, l1)
					s.clickIf("Start")
					deadline = time.Now().Add(s.prom.Bound())
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.rep.Violation("after %s the tray still shows %q while the world is: %s (bound %s)", kind, last, lastW, s.prom.Bound())
	s.dumpTray()
	return false
}

// ensureRunning brings the world back to a tray showing a serving daemon:
// Start or Restart from the menu when it is idle.
func (s *soak) ensureRunning() {
	for range 3 {
		l, err := s.line()
		w := s.world()
		if err == nil && w.Serving != 0 && RunningPID(l, s.port) == w.Serving {
			return
		}
		t0 := time.Now()
		switch {
		case err == nil && strings.HasPrefix(l, "Crashed"):
			s.clickIf("Restart")
		case err == nil && (l == "Stopped" || strings.HasPrefix(l, "Cannot start")):
			s.clickIf("Start")
		}
		s.settleTo("(resync)", t0, true)
	}
}

// clickIf clicks the menu item labelled exactly label ("Start" is not
// "Start at login") when it is shown and enabled.
func (s *soak) clickIf(label string) bool {
	return s.click(func(l string) bool { return l == label })
}

// clickPrefix clicks the first shown, enabled item whose label starts
// with prefix ("Take over from").
func (s *soak) clickPrefix(prefix string) bool {
	return s.click(func(l string) bool { return strings.HasPrefix(l, prefix) })
}

func (s *soak) click(match func(string) bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	root, err := s.item.Layout(ctx)
	if err != nil {
		return false
	}
	n, ok := root.Find(func(m dbustest.MenuNode) bool {
		return m.Visible && m.Enabled && match(m.Label)
	})
	if !ok {
		return false
	}
	if err := s.item.Click(ctx, n.ID); err != nil && !dbustest.IsNoReply(err) {
		s.rep.Event("click %q: %v", n.Label, err)
		return false
	}
	s.rep.Event("clicked %q", n.Label)
	return true
}

// --- faults ---

func (s *soak) serving() int {
	return s.world().Serving
}

func (s *soak) kill9() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t0 := time.Now()
	s.waitDead(pid, "kill -9", 10*time.Second)
	s.settle("kill -9", t0)
}

// sighup: a clean stop, as SIGTERM (the daemon drains, removes its files
// and exits 0).
func (s *soak) sighup() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGHUP)
	t0 := time.Now()
	s.waitDead(pid, "SIGHUP", 2*s.prom.StopGrace+5*time.Second)
	s.settle("SIGHUP", t0)
}

// waitDead waits until pid has exited (a signal is delivered when the
// kernel gets to it, and a drain takes its time), so the next look at the
// world is after the fault, not before it.
func (s *soak) waitDead(pid int, what string, d time.Duration) {
	deadline := time.Now().Add(d)
	for st := procState(pid); st != 0 && st != 'Z'; st = procState(pid) {
		if time.Now().After(deadline) {
			s.rep.Violation("PID %d still runs %s after %s", pid, d, what)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stopCont freezes the daemon for less than the probes' deadline, or for
// longer (then the tray must say "Not responding" within its bound).
func (s *soak) stopCont(long bool) {
	pid := s.serving()
	if pid == 0 {
		return
	}
	kind := "SIGSTOP short"
	pause := time.Duration(500+s.rng.IntN(2500)) * time.Millisecond
	if long {
		kind = "SIGSTOP long"
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	t0 := time.Now()
	if long {
		deadline := t0.Add(s.prom.NotRespondingBound() + 5*time.Second)
		for {
			if l, err := s.line(); err == nil && strings.HasPrefix(l, "Not responding") {
				s.rep.Fault("SIGSTOP long: shown not responding", time.Since(t0))
				break
			}
			if time.Now().After(deadline) {
				s.rep.Violation("PID %d frozen for %s and the tray never said \"Not responding\" (bound %s)", pid, time.Since(t0).Round(time.Second), s.prom.NotRespondingBound())
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	} else {
		time.Sleep(pause)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	s.settle(kind, time.Now())
}

// foreignListener kills the daemon and has another program grab the port
// in the window before the restart; the conflict is then resolved by the
// menu's Take over, the notification's button, or the program leaving.
func (s *soak) foreignListener() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	hp := s.grabPort(pid, func() *proctest.Proc {
		return proctest.Start(s.t, s.env, s.bin["holdport"], "-addr", fmt.Sprintf("127.0.0.1:%d", s.port))
	})
	if hp == nil {
		s.rep.Event("foreign listener lost the race to the restart")
		s.settle("foreign listener (lost the race)", time.Now())
		return
	}
	t0 := time.Now()
	s.settle("foreign listener: conflict shown", t0)
	t1 := time.Now()
	switch s.rng.IntN(3) {
	case 0:
		if !s.clickPrefix("Take over from") {
			syscall.Kill(hp.PID(), syscall.SIGKILL)
		}
	case 1:
		if !s.pressTakeoverButton() {
			syscall.Kill(hp.PID(), syscall.SIGKILL)
		}
	default:
		syscall.Kill(hp.PID(), syscall.SIGKILL)
	}
	s.waitExit(hp)
	s.settle("foreign listener: resolved", t1)
}

// grabPort starts a listener on the port (retrying while the dying
// daemon still holds it) and returns it once it listens, or nil when the
// tray's restart (or a writer's start) got there first.
func (s *soak) grabPort(dead int, start func() *proctest.Proc) *proctest.Proc {
	// The port is free once the killed daemon has died (a zombie holds no
	// sockets); the writers' and the tray's restarts race from then on.
	for st := procState(dead); st != 0 && st != 'Z'; st = procState(dead) {
		time.Sleep(time.Millisecond)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		p := start()
		for !p.Exited() && !strings.Contains(p.Stdout(), "ready") {
			time.Sleep(5 * time.Millisecond)
		}
		if strings.Contains(p.Stdout(), "ready") {
			return p
		}
		if s.world().Serving != 0 {
			return nil
		}
	}
	return nil
}

// waitExit waits for p to exit; one that does not within 30 s is a
// violation, and is then killed so the run can go on.
func (s *soak) waitExit(p *proctest.Proc) {
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		s.rep.Violation("%s (PID %d) did not exit within 30 s", filepath.Base(p.Cmd.Path), p.PID())
		s.dumpTray()
		syscall.Kill(p.PID(), syscall.SIGKILL)
		<-p.Done()
	}
}

// dumpTray puts the tray's own story into the events: the end of its log
// and the notifications it sent.
func (s *soak) dumpTray() {
	b, _ := os.ReadFile(s.paths.TrayLog)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines[max(0, len(lines)-40):] {
		s.rep.Event("tray.log: %s", l)
	}
	ns := s.notes.Notifications()
	for _, n := range ns[max(0, len(ns)-8):] {
		s.rep.Event("notification %d %q: %q actions %v closed %t", n.ID, n.Summary, n.Body, n.ActionKeys(), n.Closed)
	}
}

// pressTakeoverButton presses "Take over" on the newest open conflict
// notification.
func (s *soak) pressTakeoverButton() bool {
	ns := s.notes.Notifications()
	for i := len(ns) - 1; i >= 0; i-- {
		if !ns[i].Closed && ns[i].HasAction("takeover") {
			if err := s.notes.Invoke(ns[i].ID, "takeover"); err == nil {
				s.rep.Event("pressed Take over on %q", ns[i].Summary)
				return true
			}
		}
	}
	return false
}

// squatter: after a kill -9, another user binds the port and answers like
// Cairn; no client may send it the token.
func (s *soak) squatter() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	record := filepath.Join(s.other.Home, fmt.Sprintf("received-%d", len(s.records)))
	s.records = append(s.records, record)
	syscall.Kill(pid, syscall.SIGKILL)
	sq := s.grabPort(pid, func() *proctest.Proc {
		return proctest.StartWith(s.t, s.env, s.other.Credential, s.shared["holdport"], "-squat", "-record", record, "-addr", fmt.Sprintf("127.0.0.1:%d", s.port))
	})
	if sq == nil {
		s.settle("squatter (lost the race)", time.Now())
		return
	}
	s.settle("squatter: conflict shown", time.Now())
	time.Sleep(time.Duration(1+s.rng.IntN(3)) * time.Second) // the writers try it meanwhile
	t1 := time.Now()
	syscall.Kill(sq.PID(), syscall.SIGKILL)
	s.waitExit(sq)
	s.checkSquatters()
	s.settle("squatter: left", t1)
}

// checkSquatters: no squatter ever received a byte of the token.
func (s *soak) checkSquatters() {
	for _, r := range s.records {
		b, _ := os.ReadFile(r)
		if s.tok != "" && bytes.Contains(b, []byte(s.tok[:16])) {
			s.rep.Violation("the squatter received the token (%s)", r)
		}
	}
}

// respawnStorm: `cairn serve --foreground` every 20 ms for 2 s while a
// daemon serves, as a misconfigured KeepAlive would; none may bind.
func (s *soak) respawnStorm() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	var ps []*proctest.Proc
	end := time.Now().Add(2 * time.Second)
	for time.Now().Before(end) {
		ps = append(ps, proctest.Start(s.t, s.env, s.bin["cairn"], "serve", "--foreground"))
		time.Sleep(20 * time.Millisecond)
	}
	codes := map[int]int{}
	for _, p := range ps {
		s.waitExit(p)
		codes[p.Code()]++
	}
	s.rep.Event("respawn storm: %d starts, exit codes %v", len(ps), codes)
	if now := s.serving(); now != pid && now != 0 {
		s.rep.Violation("the respawn storm replaced the serving daemon %d with %d", pid, now)
	}
	s.settle("respawn storm", end)
}

// concurrent: cairn start, stop and takeover --yes, menu clicks and a
// notification button, all at once.
func (s *soak) concurrent() {
	actions := []func(){
		func() { s.cairn(30*time.Second, "start") },
		func() { s.cairn(30*time.Second, "stop") },
		func() { s.cairn(30*time.Second, "takeover", "--yes") },
		func() { s.clickIf("Start") },
		func() { s.clickIf("Stop") },
		func() { s.clickIf("Restart") },
		func() { s.clickPrefix("Take over from") },
		func() { s.pressTakeoverButton() },
	}
	n := 2 + s.rng.IntN(4)
	var wg sync.WaitGroup
	for range n {
		a := actions[s.rng.IntN(len(actions))]
		wg.Go(a)
	}
	wg.Wait()
	s.settle("concurrent commands", time.Now())
}

// menuClick: Stop, Restart, or Stop then Start, from the menu.
func (s *soak) menuClick() {
	switch s.rng.IntN(3) {
	case 0:
		s.clickIf("Restart")
		s.settle("menu Restart", time.Now())
	case 1:
		s.clickIf("Stop")
		s.settle("menu Stop", time.Now())
	default:
		s.clickIf("Stop")
		s.settle("menu Stop", time.Now())
		t0 := time.Now()
		s.clickIf("Start")
		s.settle("menu Start", t0)
	}
}

// diskFull fills the data dir's tmpfs, holds it full while the writers
// try, then frees it; the daemon stays up and writes succeed again.
func (s *soak) diskFull() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	filler := filepath.Join(s.env.CairnHome, "soak-filler")
	f, err := os.OpenFile(filler, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		s.rep.Event("disk full: %v", err)
		return
	}
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	time.Sleep(time.Duration(2+s.rng.IntN(3)) * time.Second)
	if now := s.serving(); now != pid {
		s.rep.Event("disk full: PID %d serving, was %d", now, pid)
	}
	os.Remove(filler)
	t0 := time.Now()
	// A write goes through again within the bound.
	deadline := t0.Add(s.prom.Bound())
	for {
		if _, err := s.rememberAPI(fmt.Sprintf("after the disk was full %d", s.word.Add(1))); err == nil {
			s.rep.Fault("disk full: writes again", time.Since(t0))
			break
		}
		if time.Now().After(deadline) {
			s.rep.Violation("no write succeeded within %s of freeing the disk", s.prom.Bound())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.settle("disk full", t0)
}

// flood: another user holds hundreds of idle connections; the owner's
// probe still answers at once and the tray stays on the same daemon.
func (s *soak) flood() {
	pid := s.serving()
	if pid == 0 {
		return
	}
	fl := proctest.StartWith(s.t, s.env, s.other.Credential, s.shared["flood"], "-addr", fmt.Sprintf("127.0.0.1:%d", s.port), "-n", "900", "-mode", "silent")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(fl.Stdout(), "holding") && !fl.Exited() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, _, ok := proctest.Healthy(ctx, s.paths)
	cancel()
	if !ok {
		s.rep.Violation("under a flood of %s the owner's proven probe did not answer within 5 s", strings.TrimSpace(fl.Stdout()))
	} else {
		s.rep.Fault("flood: owner's probe", time.Since(t0))
	}
	time.Sleep(time.Duration(1+s.rng.IntN(3)) * time.Second)
	syscall.Kill(fl.PID(), syscall.SIGKILL)
	s.waitExit(fl)
	s.settle("connection flood (other user)", time.Now())
}

// cairn runs the CLI with a deadline and returns its exit code and output.
func (s *soak) cairn(d time.Duration, args ...string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin["cairn"], args...)
	cmd.Env = s.env.Environ()
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	s.rep.Event("cairn %s: exit %d %s", strings.Join(args, " "), code, firstLine(string(out)))
	return code, string(out)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(l) > 160 {
		l = l[:160] + "…"
	}
	return l
}

// --- writers and reader ---

func (s *soak) nextText(who string) (text, word string) {
	n := s.word.Add(1)
	word = fmt.Sprintf("soak%dw%d", s.rep.Seed%1000000, n)
	return fmt.Sprintf("%s wrote %s during the soak", who, word), word
}

func (s *soak) ack(id, word string) {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	if _, ok := s.acked[id]; !ok {
		s.acked[id] = word
		s.order = append(s.order, id)
		s.ackAt[id] = time.Now()
	}
}

func (s *soak) rememberAPI(text string) (api.PutResult, error) {
	c, err := client.Discover(s.paths)
	if err != nil {
		return api.PutResult{}, err
	}
	defer c.CloseIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Remember(ctx, client.RememberRequest{Text: text, Tags: []string{"soak"}, Source: "soak-api"}, "")
}

func (s *soak) apiWriter(ctx context.Context, i int) {
	for ctx.Err() == nil {
		text, word := s.nextText(fmt.Sprintf("api writer %d", i))
		res, err := s.rememberAPI(text)
		if err == nil && res.ID != "" {
			s.ack(res.ID, word)
			sleep(ctx, 20*time.Millisecond)
			continue
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

func (s *soak) cliWriter(ctx context.Context) {
	for ctx.Err() == nil {
		text, word := s.nextText("cli writer")
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(cctx, s.bin["cairn"], "remember", "--json", "-t", "soak", text)
		cmd.Env = s.env.Environ()
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.Output()
		cancel()
		var res api.PutResult
		if err == nil && json.Unmarshal(out, &res) == nil && res.ID != "" {
			s.ack(res.ID, word)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		sleep(ctx, 300*time.Millisecond)
	}
}

// mcpWriter runs one `cairn mcp` bridge and calls remember through it,
// starting a new bridge when one ends.
func (s *soak) mcpWriter(ctx context.Context, i int) {
	for ctx.Err() == nil {
		cmd := exec.Command(s.bin["cairn"], "mcp")
		cmd.Env = s.env.Environ()
		c := sdk.NewClient(&sdk.Implementation{Name: fmt.Sprintf("soak-mcp-%d", i)}, nil)
		cs, err := c.Connect(ctx, &sdk.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		for ctx.Err() == nil {
			text, word := s.nextText(fmt.Sprintf("mcp bridge %d", i))
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			res, err := cs.CallTool(cctx, &sdk.CallToolParams{Name: "remember", Arguments: map[string]any{"text": text, "tags": []string{"soak"}}})
			cancel()
			if err != nil {
				break // the bridge is gone: start another
			}
			var out struct{ ID, Status string }
			if b, _ := json.Marshal(res.StructuredContent); !res.IsError && json.Unmarshal(b, &out) == nil && out.ID != "" {
				s.ack(out.ID, word)
				sleep(ctx, 50*time.Millisecond)
				continue
			}
			sleep(ctx, 300*time.Millisecond)
		}
		cs.Close()
	}
}

// reader recalls acknowledged memories by their word: a recall that
// answers must find them.
func (s *soak) reader(ctx context.Context) {
	for ctx.Err() == nil {
		sleep(ctx, 100*time.Millisecond)
		s.ackMu.Lock()
		var id, word string
		if n := len(s.order); n > 0 {
			id = s.order[mathrand.IntN(n)] // not s.rng: the fault sequence alone is replayed
			word = s.acked[id]
		}
		s.ackMu.Unlock()
		if id == "" {
			continue
		}
		c, err := client.Discover(s.paths)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		page, err := c.Memories(cctx, map[string][]string{"q": {word}, "limit": {"5"}})
		cancel()
		c.CloseIdle()
		if err != nil {
			continue
		}
		if !slices.ContainsFunc(page.Memories, func(m api.Memory) bool { return m.ID == id }) {
			s.rep.Violation("acknowledged memory %s (%s) not found by recall", id, word)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// --- invariants ---

// checkInvariants runs until ctx ends: never two Cairn daemons listening,
// none on another port, and whenever /health answers for one of ours,
// both discovery files name it and the lock holder is its PID.
func (s *soak) checkInvariants(ctx context.Context) {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	for ctx.Err() == nil {
		sleep(ctx, 300*time.Millisecond)
		var listening []string
		ours := map[int]bool{}
		for _, pid := range s.cairnProcs() {
			ours[pid] = true
			ports := listeningPorts(pid)
			if len(ports) == 0 {
				continue
			}
			listening = append(listening, fmt.Sprintf("PID %d on %v", pid, ports))
			for _, p := range ports {
				if p != s.port {
					s.rep.Violation("a Cairn daemon (PID %d) listens on port %d, not %d", pid, p, s.port)
				}
			}
		}
		if len(listening) > 1 {
			s.rep.Violation("more than one Cairn daemon listening: %s", strings.Join(listening, ", "))
		}
		h1, ok := health(hc, s.port)
		if !ok || !ours[h1.PID] {
			continue
		}
		addrs := make([]string, 2)
		for i, f := range []string{s.paths.AddrFile, s.paths.DotAddrFile} {
			if a, err := discovery.Read(f); err == nil {
				addrs[i] = a.String()
			} else {
				addrs[i] = err.Error()
			}
		}
		rec, recErr := lock.ReadRecord(s.paths.Lock)
		h2, ok := health(hc, s.port)
		if !ok || h2.PID != h1.PID {
			continue // it went away meanwhile: nothing to hold it to
		}
		want := fmt.Sprintf("127.0.0.1:%d", s.port)
		if addrs[0] != want || addrs[1] != want {
			s.rep.Violation("PID %d answers /health but the discovery files say %q and %q", h1.PID, addrs[0], addrs[1])
		}
		if recErr != nil || rec != h1.PID {
			s.rep.Violation("PID %d answers /health but the lock record says %d (%v)", h1.PID, rec, recErr)
		}
	}
}

func health(hc *http.Client, port int) (api.Health, bool) {
	resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
	if err != nil {
		return api.Health{}, false
	}
	defer resp.Body.Close()
	var h api.Health
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&h) != nil || h.Service != api.Service {
		return api.Health{}, false
	}
	return h, true
}

// cairnProcs are the live cairn processes of this run (daemons, CLI
// commands, bridges): comm "cairn" with this run's CAIRN_HOME.
func (s *soak) cairnProcs() []int {
	var out []int
	for _, pid := range s.marked() {
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "cairn" {
			out = append(out, pid)
		}
	}
	return out
}

// marked are the live processes that carry this run's CAIRN_HOME: every
// process the soak started, and everything they started.
func (s *soak) marked() []int {
	mark := []byte("CAIRN_HOME=" + s.env.CairnHome)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !slices.ContainsFunc(bytes.Split(env, []byte{0}), func(kv []byte) bool { return bytes.Equal(kv, mark) }) {
			continue
		}
		if st := procState(pid); st != 0 && st != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// procState is the state letter of /proc/pid/stat (R, S, T, Z, …), 0 when gone.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

func stopped(pid int) bool { st := procState(pid); return st == 'T' || st == 't' }

// listeningPorts are the TCP ports pid listens on: its socket inodes
// matched against the kernel's listening sockets.
func listeningPorts(pid int) []int {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	if len(inodes) == 0 {
		return nil
	}
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && !slices.Contains(ports, int(p)) {
				ports = append(ports, int(p))
			}
		}
	}
	return ports
}

// Usage is one process's resources.
// RSSKiB is all resident memory; AnonKiB only the anonymous part (heap,
// stacks), without the pages of the binary's own code that running more
// of it brings in, which stay resident and are no leak.
type Usage struct {
	FDs, Threads, RSSKiB, AnonKiB int64
	// What the runtime says (rundump): goroutines, and the live heap (after
	// a collection), which unlike RSS holds no freed memory the scavenger
	// has not returned yet: a leak grows it, a burst does not.
	Goroutines, HeapKiB int64
}

// steadyUsage is the median of five looks half a second apart, so one
// collection cycle does not decide a leak.
func steadyUsage(pid int) Usage {
	var fds, threads, rss []int64
	for i := range 5 {
		if i > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		u := usage(pid)
		fds, threads, rss = append(fds, u.FDs), append(threads, u.Threads), append(rss, u.RSSKiB)
	}
	med := func(v []int64) int64 { slices.Sort(v); return v[len(v)/2] }
	return Usage{FDs: med(fds), Threads: med(threads), RSSKiB: med(rss)}
}

func usage(pid int) Usage {
	if pid == 0 {
		return Usage{}
	}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	u := Usage{FDs: int64(len(fds))}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "Threads":
			u.Threads = n
		case "VmRSS":
			u.RSSKiB = n
		case "RssAnon":
			u.AnonKiB = n
		}
	}
	return u
}

// --- the end ---

// final: a last kill -9 and restart, then every acknowledged memory must
// be there with both integrity checks passing; resources against the
// end of the warm-up; then Quit, and nothing of the run may be left running.
func (s *soak) final(trayStart, trayEnd Usage, daemonPID int, daemonStart Usage, daemonNow int, daemonEnd Usage) {
	same := ""
	if daemonNow != daemonPID {
		same = fmt.Sprintf(" (PID %d then %d)", daemonPID, daemonNow)
	}
	s.rep.Resources = []Resource{
		{"tray goroutines", trayStart.Goroutines, trayEnd.Goroutines}, {"tray live heap KiB", trayStart.HeapKiB, trayEnd.HeapKiB},
		{"tray fds", trayStart.FDs, trayEnd.FDs}, {"tray threads", trayStart.Threads, trayEnd.Threads}, {"tray RSS KiB", trayStart.RSSKiB, trayEnd.RSSKiB}, {"tray anonymous RSS KiB", trayStart.AnonKiB, trayEnd.AnonKiB},
		{"daemon goroutines" + same, daemonStart.Goroutines, daemonEnd.Goroutines}, {"daemon live heap KiB" + same, daemonStart.HeapKiB, daemonEnd.HeapKiB},
		{"daemon fds" + same, daemonStart.FDs, daemonEnd.FDs}, {"daemon threads" + same, daemonStart.Threads, daemonEnd.Threads}, {"daemon RSS KiB" + same, daemonStart.RSSKiB, daemonEnd.RSSKiB},
	}
	grown := false
	grew := func(what string, a, b, slack int64) {
		if past(a, b, slack) {
			s.rep.Violation("%s grew from %d to %d (more than 10 %%)", what, a, b)
			grown = true
		}
	}
	// A goroutine or two in flight (a look, a probe, a D-Bus call) is no
	// leak; a leak grows with the run, past any such slack.
	grew("the tray's goroutines", trayStart.Goroutines, trayEnd.Goroutines, 2)
	grew("the tray's live heap (KiB)", trayStart.HeapKiB, trayEnd.HeapKiB, liveSlackKiB)
	grew("the tray's descriptors", trayStart.FDs, trayEnd.FDs, 2)
	grew("the tray's threads", trayStart.Threads, trayEnd.Threads, 1)
	grew("the tray's anonymous RSS (KiB)", trayStart.AnonKiB, trayEnd.AnonKiB, gcSlackKiB)
	if grown {
		// What the tray was doing at the end: its figures and goroutines.
		b, _ := os.ReadFile(s.paths.TrayDump)
		lines := strings.Split(string(b), "\n")
		for _, l := range lines[:min(len(lines), 120)] {
			s.rep.Event("tray-dump.txt: %s", l)
		}
	}
	if daemonNow == daemonPID {
		grew("the daemon's goroutines", daemonStart.Goroutines, daemonEnd.Goroutines, 2)
		// Its live heap is reported, not judged: the store's caches (the
		// common-terms list, prepared statements) grow with what was
		// written, which a leak check would call a leak.
		grew("the daemon's descriptors", daemonStart.FDs, daemonEnd.FDs, 2)
		grew("the daemon's threads", daemonStart.Threads, daemonEnd.Threads, 1)
		grew("the daemon's RSS (KiB)", daemonStart.RSSKiB, daemonEnd.RSSKiB, 0)
	}

	if pid := s.serving(); pid != 0 {
		syscall.Kill(pid, syscall.SIGKILL)
		t0 := time.Now()
		s.waitDead(pid, "the final kill -9", 10*time.Second)
		s.settle("final kill -9", t0)
	}
	s.ensureRunning()
	s.checkAcked()
	s.checkSquatters()

	// Quit, stop whatever a writer started outside the tray, and then
	// nothing of this run may be left.
	if _, err := s.item.ClickLabel(context.Background(), "Quit Cairn"); err != nil && !dbustest.IsNoReply(err) {
		s.rep.Violation("clicking Quit: %v", err)
	}
	s.waitExit(s.tray)
	if code := s.tray.Code(); code != 0 {
		s.rep.Violation("the tray exited %d on Quit: %s", code, firstLine(s.tray.Stderr()))
	}
	s.cairn(30*time.Second, "stop")
	deadline := time.Now().Add(30 * time.Second)
	for len(s.marked()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if left := s.marked(); len(left) > 0 {
		var names []string
		for _, pid := range left {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			names = append(names, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
		s.rep.Violation("left running after the soak: %s", strings.Join(names, "; "))
	}
}

// checkAcked exports the store and finds every acknowledged id in it,
// then runs the store's integrity checks.
func (s *soak) checkAcked() {
	c, err := client.Discover(s.paths)
	if err != nil {
		s.rep.Violation("no daemon to check the memories with: %v", err)
		return
	}
	defer c.CloseIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if _, err := c.Export(ctx, &buf); err != nil {
		s.rep.Violation("export: %v", err)
		return
	}
	have := map[string]bool{}
	for _, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
		var m struct{ ID string }
		if json.Unmarshal(line, &m) == nil && m.ID != "" {
			have[m.ID] = true
		}
	}
	s.ackMu.Lock()
	s.rep.Acked = len(s.order)
	for _, id := range s.order {
		if !have[id] {
			s.rep.Lost++
			if s.rep.Lost <= 5 {
				s.rep.Violation("acknowledged memory %s (%s, acked at %s) is missing after the final restart", id, s.acked[id], s.ackAt[id].Format(time.TimeOnly))
			}
		}
	}
	s.ackMu.Unlock()
	chk, err := c.CheckStore(ctx)
	if err != nil || !chk.OK {
		s.rep.Violation("integrity checks after the final restart: %+v %v", chk, err)
	}
}

// killLeftovers ends, by PID, whatever of this run is still running when
// the test ends (after a failure): the daemons and commands it started.
func (s *soak) killLeftovers() {
	for _, pid := range s.marked() {
		syscall.Kill(pid, syscall.SIGCONT)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
