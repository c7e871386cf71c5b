package main

// End-to-end tests of the real cairn-tray on Linux (issue 3's "Tests" and
// issue 4's tray path). Each test launches the built tray with its own
// bus, tray host, notification server, data dir and port, and asserts over
// D-Bus what a user would see, and through the daemon's files and API what
// a client would find. The harness is in harness_linux_test.go.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

func TestRunningAfterStart(t *testing.T) {
	w := newWorld(t, options{})
	tray := w.startTray()
	item := w.itemOf(tray)

	pid := w.waitRunning(item, anyPID)
	w.mustServe(pid)
	root := w.waitMenu(item, "the running menu", func(root dbustest.MenuNode) bool {
		return offered(root, "Open dashboard") && offered(root, "Stop") && offered(root, "Restart") && !offered(root, "Start")
	})
	line := statusLine(root)
	if want := fmt.Sprintf("Running · 127.0.0.1:%d · PID %d · up less than a minute", w.env.Port, pid); line != want {
		t.Errorf("status line %q, want %q", line, want)
	}
	if status, _ := root.FindByLabel(line); status.Enabled {
		t.Errorf("the status line is clickable; it should be disabled")
	}
	if n, _ := root.FindByLabel("Take over"); n.Visible {
		t.Errorf("%q shows while nothing is in the way", n.Label)
	}
	// The tooltip follows the menu, which was drawn first.
	proctest.Eventually(t, wait, "the tooltip to repeat the status line", func() bool {
		tip, err := item.Tooltip(w.deadline())
		return err == nil && strings.Contains(tip, line)
	})
	if wd, ht, err := item.IconPixmapSize(w.deadline()); err != nil || wd == 0 || ht == 0 {
		t.Errorf("icon %dx%d (%v), want a pixmap", wd, ht, err)
	}

	w.sigterm(tray)
	w.assertStoppedClean(pid)
}

func TestRestartsCrashedDaemon(t *testing.T) {
	w := newWorld(t, options{})
	tray := w.startTray()
	item := w.itemOf(tray)
	first := w.waitRunning(item, anyPID)
	w.mustServe(first)

	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := w.waitRunning(item, func(pid int) bool { return pid != first })
	w.waitGone(first)
	w.mustServe(second)
	note := w.waitNote("Cairn restarted after a crash")
	if strings.Contains(note.Body, "DATA RACE") {
		t.Errorf("crash notification quotes a race report: %s", note.Body)
	}
	// kill -9 leaves no last words: the notification says how it ended,
	// and never quotes the daemon's start-up banner as its last words.
	if want := fmt.Sprintf("The daemon (PID %d) ended without a word (signal: killed).", first); !strings.HasPrefix(note.Body, want) {
		t.Errorf("crash notification %q does not say %q", note.Body, want)
	}
	assertNoBanner(t, note)

	w.sigterm(tray)
	w.assertStoppedClean(second)
}

// TestTakeOverForeignListener covers issue 4's tray path: a foreign
// program holds the port when the tray starts; the user takes over from
// the menu, or from the notification's button where the server has them,
// or from both at once, which must still take over only once.
func TestTakeOverForeignListener(t *testing.T) {
	for _, tc := range []struct {
		name         string
		menu, button bool
	}{
		{"menu", true, false},
		{"notification button", false, true},
		{"menu and button at once", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, options{actions: tc.button})
			holder := w.holdPort()
			name := fmt.Sprintf("holdport (PID %d)", holder.PID())
			tray := w.startTray()
			item := w.itemOf(tray)

			conflict := w.waitNote(fmt.Sprintf("port %d is in use", w.env.Port))
			if !strings.Contains(conflict.Body, name) {
				t.Errorf("conflict notification %q does not name %s", conflict.Body, name)
			}
			if got := conflict.HasAction("takeover"); got != tc.button {
				t.Errorf("conflict notification offers take over: %v, want %v (actions %q)", got, tc.button, conflict.Actions)
			}
			if root := w.waitStatus(item, fmt.Sprintf("Port %d in use by %s", w.env.Port, name)); offered(root, "Start") {
				t.Errorf("Start is offered in a conflict, where it cannot act")
			}
			// The items change one D-Bus update at a time: wait for the
			// take over item to be shown, not only for the status line.
			if _, err := item.WaitLabel(w.deadline(), "Take over from "+name); err != nil {
				t.Fatalf("no visible take over item naming %s: %v", name, err)
			}
			conflictIcon, err := item.Property(w.deadline(), "IconPixmap")
			if err != nil {
				t.Fatal(err)
			}

			if tc.menu {
				w.click(item, "Take over")
			}
			if tc.button {
				if err := w.notes.Invoke(conflict.ID, "takeover"); err != nil {
					t.Fatal(err)
				}
			}

			holder.Wait(t, wait)
			gone := time.Now()
			pid := w.waitRunning(item, anyPID)
			t.Logf("Running %s after the holder exited", time.Since(gone).Round(time.Millisecond))
			w.mustServe(pid)
			if pid == holder.PID() {
				t.Fatalf("the holder's PID %d serves", pid)
			}
			// The result comes with Running, not before: it quotes the
			// running status line.
			took := w.waitNote(fmt.Sprintf("took over port %d", w.env.Port))
			if !strings.Contains(took.Body, fmt.Sprintf("Running · 127.0.0.1:%d · PID %d", w.env.Port, pid)) {
				t.Errorf("took over notification %q was not sent with Running (PID %d)", took.Body, pid)
			}
			runningIcon, err := item.Property(w.deadline(), "IconPixmap")
			if err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(conflictIcon.Value(), runningIcon.Value()) {
				t.Errorf("the icon did not change from conflict to running")
			}

			w.sigterm(tray)
			w.assertStoppedClean(pid)
			// The tray has sent all it will: one take over, one result.
			var results []string
			for _, n := range w.notes.Notifications() {
				if strings.Contains(n.Summary, "took over") || strings.Contains(n.Summary, "Take over failed") {
					results = append(results, n.Summary+": "+n.Body)
				}
			}
			if len(results) != 1 {
				t.Errorf("take over results notified: %q, want one", results)
			}
		})
	}
}

func TestQuitStopsOwnDaemon(t *testing.T) {
	for _, tc := range []struct {
		name string
		quit func(w *world, tray *proctest.Proc)
	}{
		{"menu", func(w *world, tray *proctest.Proc) { w.clickQuit(w.itemOf(tray)) }},
		{"SIGTERM", func(w *world, tray *proctest.Proc) { tray.Signal(w.t, syscall.SIGTERM) }},
		{"SIGINT", func(w *world, tray *proctest.Proc) { tray.Signal(w.t, syscall.SIGINT) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, options{})
			tray := w.startTray()
			item := w.itemOf(tray)
			pid := w.waitRunning(item, anyPID)
			w.mustServe(pid)

			tc.quit(w, tray)
			w.cleanExit(tray)
			w.assertStoppedClean(pid)
			if err := w.host.WaitGone(w.deadline(), item.BusName); err != nil {
				t.Error(err)
			}
			// The tray's own single-instance lock is free for the next one.
			if held, err := lock.Probe(w.paths.DataDir + "/tray.lock"); err != nil || held {
				t.Errorf("tray.lock still held (%v)", err)
			}
		})
	}
}

// TestQuitWhileStarting quits while the child is still starting: the tray
// waits for it to come up and stops it through the API, rather than fail
// the API call at once and sit out the 5 s grace period before SIGTERM.
func TestQuitWhileStarting(t *testing.T) {
	w := newWorld(t, options{})
	bin, release := w.gatedDaemon()
	tray := w.startTrayWith(bin)
	item := w.itemOf(tray)
	w.waitStatus(item, "Starting…")

	tray.Signal(t, syscall.SIGTERM)
	w.waitTrayLog(tray, "state=stopping")
	release() // the daemon comes up only now
	w.cleanExit(tray)
	log, _ := os.ReadFile(w.paths.TrayLog)
	if strings.Contains(string(log), "sending SIGTERM") {
		t.Errorf("the daemon was signalled instead of shut down through the API:\n%s", log)
	}
	if !strings.Contains(string(log), `msg="daemon exited"`) || !strings.Contains(string(log), "code=0 requested=true") {
		t.Errorf("the tray did not see its daemon exit cleanly:\n%s", log)
	}
	for _, f := range []string{w.paths.AddrFile, w.paths.DotAddrFile, w.paths.Lock} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (stat: %v)", f, err)
		}
	}
	if d := w.daemons(); len(d) > 0 {
		t.Errorf("daemons still running: %v", d)
	}
}

func TestKilledTrayLeavesDaemonForNextTray(t *testing.T) {
	w := newWorld(t, options{})
	first := w.startTray()
	pid := w.waitRunning(w.itemOf(first), anyPID)

	first.Signal(t, syscall.SIGKILL)
	first.Wait(t, wait)
	w.mustServe(pid) // the child outlives its tray

	second := w.startTray()
	item := w.itemOf(second)
	if got := w.waitRunning(item, anyPID); got != pid {
		t.Fatalf("the new tray shows PID %d, want the running daemon's %d", got, pid)
	}
	w.mustServe(pid) // adopted, not restarted
	if daemons := w.daemons(); len(daemons) != 1 || daemons[0] != pid {
		t.Errorf("daemons running: %v, want only the adopted %d", daemons, pid)
	}

	// Quitting never stops a daemon the tray adopted.
	w.clickQuit(item)
	w.cleanExit(second)
	w.mustServe(pid)

	code, stdout, stderr := proctest.Run(t, w.env, w.bins.cairn, "stop")
	if code != 0 {
		t.Fatalf("cairn stop: code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	w.assertStoppedClean(pid)
}

func TestSecondTrayLeaves(t *testing.T) {
	w := newWorld(t, options{})
	first := w.startTray()
	item := w.itemOf(first)
	pid := w.waitRunning(item, anyPID)

	second := w.startTray()
	if code := second.Wait(t, wait); code != 0 {
		t.Fatalf("second tray exited with code %d\nstderr: %s", code, second.Stderr())
	}
	if !strings.Contains(second.Stderr(), "Cairn is already in the system tray") {
		t.Errorf("second tray did not say why it left:\nstderr: %s", second.Stderr())
	}
	w.waitNote("Cairn is already in the system tray")

	if first.Exited() {
		t.Fatalf("the first tray exited: %s", first.Stderr())
	}
	w.mustServe(pid)
	if daemons := w.daemons(); len(daemons) != 1 {
		t.Errorf("daemons running: %v, want only %d", daemons, pid)
	}
	w.sigterm(first)
	w.assertStoppedClean(pid)
}

func TestSupervisesWithoutTrayHost(t *testing.T) {
	w := newWorld(t, options{noHost: true})
	tray := w.startTray()
	proctest.Eventually(t, wait, "the tray to say it has no icon", func() bool {
		return strings.Contains(tray.Stderr(), noHostLine) || tray.Exited()
	})
	if tray.Exited() {
		t.Fatalf("the tray exited (code %d)\nstderr: %s", tray.Code(), tray.Stderr())
	}
	pid := w.waitServing()
	// Until the icon is shown, the status goes to stderr, in the tray's
	// own words, and no raw line of the systray library does.
	running := fmt.Sprintf("Cairn: Running · 127.0.0.1:%d · PID %d", w.env.Port, pid)
	proctest.Eventually(t, wait, "the status line on stderr", func() bool { return strings.Contains(tray.Stderr(), running) })

	w.startHost()
	item := w.itemOf(tray)
	if got := w.waitRunning(item, anyPID); got != pid {
		t.Errorf("the icon shows PID %d, want %d", got, pid)
	}
	proctest.Eventually(t, wait, "stderr to say the icon is shown", func() bool {
		return strings.Contains(tray.Stderr(), "the icon is in the system tray now")
	})
	if strings.Contains(tray.Stderr(), "systray") {
		t.Errorf("a raw library line on stderr:\n%s", tray.Stderr())
	}
	w.sigterm(tray)
	w.assertStoppedClean(pid)
	if n := strings.Count(tray.Stderr(), "without a tray icon"); n != 1 {
		t.Errorf("stderr says %d times that there is no icon, want once:\n%s", n, tray.Stderr())
	}
	if log, _ := os.ReadFile(w.paths.TrayLog); !strings.Contains(string(log), noHostLine) {
		t.Errorf("the tray log does not say there was no icon")
	}
}

// TestIconReturnsAfterHostRestartFollowingNotification is the regression
// test of the systray defect whose re-register loop exited on any signal
// with fewer than 3 args, such as NotificationClosed: a tray host that
// restarted after a notification never got the icon back.
func TestIconReturnsAfterHostRestartFollowingNotification(t *testing.T) {
	w := newWorld(t, options{actions: true})
	tray := w.startTray()
	item := w.itemOf(tray)
	pid := w.waitRunning(item, anyPID)

	w.click(item, "About Cairn")
	about := w.waitNote("Cairn ")
	if err := w.notes.Dismiss(about.ID); err != nil { // emits NotificationClosed
		t.Fatal(err)
	}

	w.host.Stop()
	w.startHost()
	item = w.itemOf(tray)
	if got := w.waitRunning(item, anyPID); got != pid {
		t.Errorf("after the host restart the icon shows PID %d, want %d", got, pid)
	}
	w.sigterm(tray)
	w.assertStoppedClean(pid)
}

// TestStaleFilesCleanedAndDaemonStarted: a daemon that died by kill -9
// with no tray around left its lock and discovery files; the tray cleans
// them and starts its own.
func TestStaleFilesCleanedAndDaemonStarted(t *testing.T) {
	w := newWorld(t, options{})
	old := proctest.Start(t, w.env, w.bins.cairn, "serve", "--foreground", "--port", fmt.Sprint(w.env.Port))
	oldPID := w.waitServing()
	if oldPID != old.PID() {
		t.Fatalf("PID %d serves, want the terminal's daemon %d", oldPID, old.PID())
	}
	old.Signal(t, syscall.SIGKILL)
	old.Wait(t, wait)
	if _, err := os.Stat(w.paths.AddrFile); err != nil {
		t.Fatalf("kill -9 left no discovery file to clean: %v", err)
	}

	tray := w.startTray()
	pid := w.waitRunning(w.itemOf(tray), func(pid int) bool { return pid != oldPID })
	w.mustServe(pid)
	w.sigterm(tray)
	w.assertStoppedClean(pid)
}

// TestAdoptsTerminalDaemon: a daemon started from a terminal is adopted,
// not restarted, and Quit leaves it serving.
func TestAdoptsTerminalDaemon(t *testing.T) {
	w := newWorld(t, options{})
	daemon := proctest.Start(t, w.env, w.bins.cairn, "serve", "--foreground", "--port", fmt.Sprint(w.env.Port))
	pid := w.waitServing()

	tray := w.startTray()
	item := w.itemOf(tray)
	if got := w.waitRunning(item, anyPID); got != pid {
		t.Fatalf("the tray shows PID %d, want the terminal's daemon %d", got, pid)
	}
	w.sigterm(tray)
	w.mustServe(pid)
	if daemon.Exited() {
		t.Fatalf("the terminal's daemon exited: %s", daemon.Stderr())
	}
	w.sigterm(daemon) // this test started it from "a terminal": it's to stop
	w.assertStoppedClean(pid)
}

// TestCrashLoopGivesUp: a daemon that crashes at once is restarted with
// backoff and, after five crashes, given up on: the status says so, the
// user is told why (its last output), and Restart tries again.
func TestCrashLoopGivesUp(t *testing.T) {
	w := newWorld(t, options{})
	bin := filepath.Join(t.TempDir(), "cairn")
	script := "#!/bin/sh\necho 'panic: the store is corrupt' >&2\nexit 2\n"
	proctest.WriteExecutable(t, bin, script, 0o700)
	tray := w.startTrayWith(bin)
	item := w.itemOf(tray)
	// crashes counts the runs of the crashing daemon by their output.
	crashes := func() int {
		out, _ := os.ReadFile(w.paths.DaemonOut)
		return strings.Count(string(out), "panic: the store is corrupt")
	}

	// Backoff 0.5 + 1 + 2 + 4 s between the five crashes.
	w.waitStatus(item, "Crashed 5 times — gave up")
	note := w.waitNote("Cairn crashed 5 times and gave up")
	if !strings.Contains(note.Body, "panic: the store is corrupt") {
		t.Errorf("crash loop notification does not say why: %q", note.Body)
	}
	assertNoBanner(t, note)
	w.waitMenu(item, "Restart offered after the crash loop", func(root dbustest.MenuNode) bool { return offered(root, "Restart") })
	if n := crashes(); n != 5 {
		t.Errorf("the daemon ran %d times, want 5", n)
	}

	w.click(item, "Restart")
	proctest.Eventually(t, wait, "a sixth run after Restart", func() bool { return crashes() == 6 })
	w.sigterm(tray)
}

// TestStatusLineCountsMemoriesLive: a memory written from a terminal shows
// in the tray's status line (the event stream carries the count; the
// supervisor's unit test shows the event alone sets it).
func TestStatusLineCountsMemoriesLive(t *testing.T) {
	w := newWorld(t, options{})
	tray := w.startTray()
	item := w.itemOf(tray)
	pid := w.waitRunning(item, anyPID)
	p := proctest.Start(t, w.env, w.bins.cairn, "remember", "the heron came back to the pond")
	if code := p.Wait(t, wait); code != 0 {
		t.Fatalf("cairn remember: exit %d %s", code, p.Stderr())
	}
	w.waitMenu(item, "the status line to count the memory", func(root dbustest.MenuNode) bool {
		return strings.HasPrefix(statusLine(root), fmt.Sprintf("Running · 1 memory · 127.0.0.1:%d · PID %d", w.env.Port, pid))
	})
	w.sigterm(tray)
	w.assertStoppedClean(pid)
}
