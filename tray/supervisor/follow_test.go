package supervisor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// A daemon started from a terminal while the tray shows Stopped is adopted
// when the data dir changes, without a click or a poll.
func TestWatcherAdoptsDaemonStartedElsewhere(t *testing.T) {
	h, p := startRunning(t, nil)
	h.sup.Do(CmdStop)
	h.want(Stopping)
	p.exit(0)
	h.want(Stopped)
	h.daemon.setDiag(runningDiag(4242))
	h.daemon.change()
	if st := h.want(Running); st.Owned || st.PID != 4242 {
		t.Errorf("adopted status %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// A daemon started elsewhere while the tray's own child is still stopping
// (what a writer's auto-start does the moment ours lets go of the lock):
// its file events come while the tray follows nothing, so the stop ends
// with a look, and the daemon is adopted (found by the soak: the tray
// showed Stopped for a minute and more while a daemon served).
func TestDaemonStartedElsewhereDuringOurStopIsAdopted(t *testing.T) {
	h, p := startRunning(t, nil)
	h.sup.Do(CmdStop)
	h.want(Stopping)
	h.daemon.setDiag(runningDiag(4242))
	h.sup.post(evChanged{}) // the watcher's event, while stopping: not followed
	h.settle()
	p.exit(0)
	if st := h.want(Running); st.Owned || st.PID != 4242 {
		t.Errorf("adopted status %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// The same while an adopted daemon is being stopped from the menu.
func TestDaemonStartedElsewhereDuringAnAdoptedStopIsAdopted(t *testing.T) {
	h := newHarness(t, runningDiag(4242), nil)
	h.want(Running)
	h.settle()
	h.daemon.setDiag(runningDiag(4343))
	gate := make(chan struct{})
	h.daemon.mu.Lock()
	h.daemon.stopGate = gate
	h.daemon.mu.Unlock()
	h.sup.Do(CmdStop)
	h.want(Stopping)
	h.sup.post(evChanged{}) // the watcher's event, while stopping: not followed
	h.settle()
	close(gate)
	if st := h.want(Running); st.Owned || st.PID != 4343 {
		t.Errorf("adopted status %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// An adopted daemon stopped from a terminal (it announced its shutdown on
// the stream) shows Stopped, and is not restarted.
func TestCleanStopElsewhereIsRespected(t *testing.T) {
	for name, draining := range map[string]instance.Diagnosis{
		// The lock is still held and nothing answers: no hang.
		"not answering": {State: instance.StateNotResponding, Lock: instance.LockReport{Held: true, PID: 4242}},
		// The lock's holder is on its way out and can no longer be
		// confirmed: no conflict.
		"lock held by a process on its way out": {State: instance.StateConflict, Lock: instance.LockReport{Held: true, Unconfirmed: "the kernel's lock table names no holder"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, runningDiag(4242), nil)
			h.want(Running)
			h.settle()
			h.daemon.setDiag(draining)
			h.daemon.endStream <- true
			h.waitTimer(100 * time.Millisecond)
			h.clock.Advance(100 * time.Millisecond)
			h.waitTimer(100 * time.Millisecond) // looked again, still draining
			h.daemon.setDiag(stopped())
			h.daemon.change()
			st := h.want(Stopped)
			if st.Message != "The daemon was stopped outside the tray." {
				t.Errorf("stopped status %+v", st)
			}
			h.clock.Advance(time.Minute)
			h.settle()
			h.noSpawn()
		})
	}
}

// An adopted daemon that dies (the stream just ends, its files stay) is
// treated like our own child's crash: noted, restarted as our child after
// the backoff, and the Running that follows says so, quoting its last
// lines but never its "is serving at" banner.
func TestAdoptedDaemonThatDiesIsRestarted(t *testing.T) {
	h := newHarness(t, runningDiag(4242), nil)
	h.want(Running)
	h.settle()
	h.daemon.mu.Lock()
	h.daemon.lastLines = []string{"Cairn 1.0 is serving at 127.0.0.1:7070 (PID 4242, data in /d).", "store: disk I/O error"}
	h.daemon.stale = true
	h.daemon.mu.Unlock()
	h.daemon.setDiag(stopped())
	h.daemon.endStream <- false
	st := h.wantCrash(1)
	if !strings.Contains(st.Message, "The daemon (PID 4242) ended without shutting down") ||
		!strings.Contains(st.Message, "Its last lines before that:\nstore: disk I/O error") || strings.Contains(st.Message, "is serving at") {
		t.Errorf("crash message %q", st.Message)
	}
	h.waitTimer(500 * time.Millisecond)
	h.clock.Advance(500 * time.Millisecond)
	p := h.spawned()
	h.daemon.readyCh(p.pid) <- nil
	run := h.want(Running)
	if !run.Owned || !run.RestartedAfterCrash || run.Message != st.Message {
		t.Errorf("running after the adopted daemon's death: %+v", run)
	}
}

// One that systemd runs is left to systemd: no child is spawned; the tray
// waits for the manager's restart and adopts the new daemon.
func TestServiceRunDaemonThatDiesIsLeftToItsManager(t *testing.T) {
	h := newHarness(t, runningDiag(4242), func(c *Config) { c.Daemon.(*fakeDaemon).managedBy = "systemd" })
	if st := h.want(Running); st.ManagedBy != "systemd" {
		t.Fatalf("adopted status %+v", st)
	}
	h.settle()
	h.daemon.mu.Lock()
	h.daemon.stale = true
	h.daemon.mu.Unlock()
	h.daemon.setDiag(stopped())
	h.daemon.endStream <- false
	if st := h.want(Starting); st.ManagedBy != "systemd" {
		t.Errorf("waiting status %+v", st)
	}
	h.daemon.setDiag(runningDiag(4343))
	run := h.want(Running)
	if run.PID != 4343 || !run.RestartedAfterCrash || !strings.Contains(run.Message, "PID 4242") {
		t.Errorf("running after systemd's restart: %+v", run)
	}
	h.noSpawn()
}

func conflictDiag() instance.Diagnosis {
	p := &proc.Process{PID: 4242, Name: "python3", CreateTime: 7}
	return instance.Diagnosis{State: instance.StateConflict,
		PortHolders: []proc.Listener{{Addr: "127.0.0.1:7070", PID: 4242, Process: p}},
		Holder:      instance.Holder{Kind: instance.HolderForeign, Processes: []*proc.Process{p}}}
}

// Take over is one supervisor command: a visible state while the engine
// runs with the holder that was shown, the recheck voided, a second
// request ignored, then Cairn started and the result on its Running.
func TestTakeoverCommand(t *testing.T) {
	h := newHarness(t, conflictDiag(), nil)
	h.want(Conflict)
	gate := make(chan struct{})
	h.daemon.mu.Lock()
	h.daemon.takeoverGate = gate
	h.daemon.onTakeover = func() { h.daemon.setDiag(stopped()) }
	h.daemon.mu.Unlock()
	h.sup.Do(CmdTakeover)
	if st := h.want(TakingOver); st.Holder != "python3 (PID 4242)" {
		t.Errorf("taking over status %+v", st)
	}
	h.sup.Do(CmdTakeover) // the notification's button as well
	h.clock.Advance(time.Minute)
	h.settle()
	h.noSpawn()
	close(gate)
	p := h.spawned()
	h.daemon.readyCh(p.pid) <- nil
	run := h.want(Running)
	if run.TookOver != "Stopped the holder." {
		t.Errorf("running after take over: %+v", run)
	}
	h.daemon.mu.Lock()
	defer h.daemon.mu.Unlock()
	if len(h.daemon.takeovers) != 1 || h.daemon.takeovers[0].Processes[0].CreateTime != 7 {
		t.Errorf("engine runs %+v, want one, with the holder shown", h.daemon.takeovers)
	}
}

func TestTakeoverThatFailsSaysWhy(t *testing.T) {
	h := newHarness(t, conflictDiag(), nil)
	h.want(Conflict)
	h.daemon.mu.Lock()
	h.daemon.takeoverErr = errors.New("the holder changed since it was confirmed")
	h.daemon.mu.Unlock()
	h.sup.Do(CmdTakeover)
	h.want(TakingOver)
	if st := h.want(Conflict); st.TakeoverFailed != "the holder changed since it was confirmed" {
		t.Errorf("conflict after a failed take over: %+v", st)
	}
	h.noSpawn()
}

func TestNoTakeoverOfAnUntouchableHolder(t *testing.T) {
	d := conflictDiag()
	d.Holder = instance.Holder{Kind: instance.HolderUntouchable, Reason: "another user's"}
	h := newHarness(t, d, nil)
	h.want(Conflict)
	h.sup.Do(CmdTakeover)
	h.settle()
	h.daemon.mu.Lock()
	defer h.daemon.mu.Unlock()
	if len(h.daemon.takeovers) != 0 {
		t.Error("took over from a holder Cairn may not stop")
	}
}

// Quit is handled at once while a diagnosis hangs (a service manager that
// does not answer): nothing blocking runs on the supervisor's goroutine.
func TestQuitWhileADiagnosisHangs(t *testing.T) {
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	h := newHarness(t, stopped(), func(c *Config) { c.Daemon.(*fakeDaemon).diagnoseGate = gate })
	h.sup.Do(CmdStart)
	h.sup.Do(CmdStop)
	h.sup.Quit()
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Quit was not handled while the diagnosis hangs")
	}
	h.noSpawn()
}

// A child that does not respond gets SIGTERM at once on Restart (it would
// not answer the API), and Force stop kills it.
func TestHungChildRestartAndForceStop(t *testing.T) {
	h, p := startRunning(t, func(c *Config) { c.MaxMisses = 1 })
	h.daemon.mu.Lock()
	h.daemon.healthy = func() (int, error) { return 0, context.DeadlineExceeded }
	h.daemon.mu.Unlock()
	h.waitTimer(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	if st := h.want(NotResponding); !st.Owned || st.PID != p.pid {
		t.Fatalf("not responding status %+v", st)
	}
	h.sup.Do(CmdRestart)
	if st := h.want(Stopping); !strings.Contains(st.Message, "SIGTERM") {
		t.Errorf("stopping status %+v", st)
	}
	p.mu.Lock()
	terminated := p.terminated
	p.mu.Unlock()
	if !terminated {
		t.Error("a hung child was not sent SIGTERM at once")
	}
	h.sup.Do(CmdForceStop)
	h.settle()
	p.mu.Lock()
	killed := p.killed
	p.mu.Unlock()
	if !killed {
		t.Error("Force stop did not kill the child")
	}
	// The restart goes on once it is gone.
	h.spawned()
}

// Stop while the engine takes over: once it is done, Cairn is not started.
func TestStopDuringTakeover(t *testing.T) {
	h := newHarness(t, conflictDiag(), nil)
	h.want(Conflict)
	gate := make(chan struct{})
	h.daemon.mu.Lock()
	h.daemon.takeoverGate = gate
	h.daemon.onTakeover = func() { h.daemon.setDiag(stopped()) }
	h.daemon.mu.Unlock()
	h.sup.Do(CmdTakeover)
	h.want(TakingOver)
	h.sup.Do(CmdStop)
	close(gate)
	if st := h.want(Stopped); st.Message != "Stopped the holder." {
		t.Errorf("stopped status %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// Start while the watcher's look is under way is not lost: its own look
// replaces that one, and starts Cairn.
func TestStartDuringAWatcherLook(t *testing.T) {
	h, p := startRunning(t, nil)
	h.sup.Do(CmdStop)
	h.want(Stopping)
	p.exit(0)
	h.want(Stopped)
	gate := make(chan struct{})
	h.daemon.mu.Lock()
	h.daemon.diagnoseGate = gate
	h.daemon.mu.Unlock()
	n := h.diagnosesSoFar()
	h.daemon.change()
	h.waitDiagnoses(n + 1)
	h.sup.Do(CmdStart)
	h.settle()
	h.daemon.mu.Lock()
	h.daemon.diagnoseGate = nil
	h.daemon.mu.Unlock()
	close(gate)
	h.daemon.readyCh(h.spawned().pid) <- nil
	h.want(Running)
	h.settle()
	h.noSpawn()
}

// A look voided by a decision that starts none (Stop while Stopped) does
// not leave the watcher deaf.
func TestWatcherAfterAVoidedLook(t *testing.T) {
	h, p := startRunning(t, nil)
	h.sup.Do(CmdStop)
	h.want(Stopping)
	p.exit(0)
	h.want(Stopped)
	gate := make(chan struct{})
	h.daemon.mu.Lock()
	h.daemon.diagnoseGate = gate
	h.daemon.mu.Unlock()
	n := h.diagnosesSoFar()
	h.daemon.change()
	h.waitDiagnoses(n + 1)
	h.sup.Do(CmdStop) // voids the look
	h.settle()
	h.daemon.mu.Lock()
	h.daemon.diagnoseGate = nil
	h.daemon.mu.Unlock()
	close(gate)
	h.settle()
	h.daemon.setDiag(runningDiag(4242))
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.daemon.change()
		h.settle()
		select {
		case st := <-h.statuses:
			if st.State == Running && st.PID == 4242 {
				return
			}
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher's change was never followed after a voided look")
		}
		time.Sleep(time.Millisecond)
	}
}

// A stream that breaks while the daemon still answers is opened again
// after a second, and the daemon stays adopted.
func TestBrokenStreamOfALiveDaemon(t *testing.T) {
	h := newHarness(t, runningDiag(4242), nil)
	h.want(Running)
	h.settle()
	n := h.diagnosesSoFar()
	h.daemon.endStream <- false
	h.waitDiagnoses(n + 1)
	h.waitTimer(time.Second)
	h.clock.Advance(time.Second)
	h.settle()
	h.daemon.endStream <- false // the new stream is open: it takes the end
	h.waitDiagnoses(n + 2)
	h.settle()
	select {
	case st := <-h.statuses:
		t.Fatalf("a broken stream changed the status: %+v", st)
	default:
	}
	h.noSpawn()
}

// After a crash loop gave up, a program that takes the port is shown as
// the conflict it is, not hidden behind the old crash (found by the soak:
// another user's squatter behind "Crashed 5 times — gave up"); when it
// leaves, the crash is what the tray shows again, and nothing starts.
func TestConflictAfterGivingUpIsShown(t *testing.T) {
	h, p := startRunning(t, func(c *Config) { c.CrashLimit = 1 })
	p.exit(2)
	if st := h.want(Crashed); st.Crashes != 1 {
		t.Fatalf("crashed status %+v", st)
	}
	h.settle()
	h.daemon.setDiag(conflictDiag())
	h.sup.post(evChanged{})
	if st := h.want(Conflict); st.HolderPID == 0 || !st.Parked {
		t.Errorf("conflict status %+v", st)
	}
	h.settle()
	h.daemon.setDiag(stopped())
	h.clock.Advance(5 * time.Second) // the conflict's recheck
	if st := h.want(Crashed); st.Crashes != 1 || st.Parked {
		t.Errorf("after the holder left: %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// After the user's Stop, a program that takes the port (which changes
// nothing in the data dir) is shown by the idle look as `cairn status`
// shows it, parked: when it leaves the tray shows Stopped again and does
// not start Cairn, which the user stopped (found by the soak: another
// user's squatter behind "Stopped").
func TestConflictWhileStoppedIsParked(t *testing.T) {
	h := stopByUser(t)
	if st := parkConflict(t, h, conflictDiag()); st.HolderPID != 4242 || st.Takeover == nil {
		t.Errorf("conflict while stopped: %+v", st)
	}
	h.settle()
	cleaned := h.daemon.cleaned
	h.daemon.setDiag(stopped())
	h.clock.Advance(5 * time.Second) // the conflict's recheck
	if st := h.want(Stopped); st.Parked || st.HolderPID != 0 {
		t.Errorf("after the holder left: %+v", st)
	}
	h.settle()
	h.noSpawn()
	if h.daemon.cleaned != cleaned {
		t.Errorf("a parked recheck cleaned the data dir: nothing was to start")
	}
	// Idle again, the looks go on: the next one finds the holder back.
	h.daemon.setDiag(conflictDiag())
	h.clock.Advance(7 * time.Second)
	h.want(Conflict)
}

// A take over from a parked conflict is the user asking for Cairn: it
// starts once the holder is gone.
func TestTakeoverFromAParkedConflictStartsCairn(t *testing.T) {
	h := stopByUser(t)
	parkConflict(t, h, conflictDiag())
	h.daemon.mu.Lock()
	h.daemon.onTakeover = func() { h.daemon.setDiag(stopped()) }
	h.daemon.mu.Unlock()
	h.sup.Do(CmdTakeover)
	h.want(TakingOver)
	p2 := h.spawned()
	h.daemon.readyCh(p2.pid) <- nil
	if run := h.want(Running); run.Parked || run.PID != p2.pid {
		t.Errorf("running after the take over: %+v", run)
	}
}

// The idle look is only for an idle tray: a running daemon is followed by
// its probes and stream, not by extra diagnoses.
func TestNoIdleLookWhileRunning(t *testing.T) {
	h, _ := startRunning(t, nil)
	h.settle()
	before := h.diagnosesSoFar()
	h.clock.Advance(7 * time.Second)
	h.settle()
	if got := h.diagnosesSoFar(); got != before {
		t.Errorf("%d diagnoses while running, want none", got-before)
	}
}

// stopByUser starts the harness's child and stops it from the menu.
func stopByUser(t *testing.T) *harness {
	t.Helper()
	h, p := startRunning(t, nil)
	h.sup.Do(CmdStop)
	h.want(Stopping)
	p.exit(0)
	h.want(Stopped)
	h.settle()
	return h
}

// parkConflict has the idle look find d's holder and returns the parked
// conflict the tray shows.
func parkConflict(t *testing.T, h *harness, d instance.Diagnosis) Status {
	t.Helper()
	h.daemon.setDiag(d)
	h.clock.Advance(7 * time.Second) // the idle look
	st := h.want(Conflict)
	if !st.Parked {
		t.Fatalf("a conflict found while stopped is not parked: %+v", st)
	}
	return st
}

func hungDiag(pid int) instance.Diagnosis {
	return instance.Diagnosis{State: instance.StateNotResponding,
		Lock: instance.LockReport{Held: true, PID: pid, Holder: &proc.Process{PID: pid, Name: "cairn", Cmdline: []string{"cairn", "serve"}}}}
}

// A daemon started from a terminal while the tray shows Stopped holds the
// lock a moment before it serves: that is not a hung daemon to show (or
// to offer to take over), and it is adopted once it serves.
func TestIdleLookLetsAStartingDaemonStart(t *testing.T) {
	h := stopByUser(t)
	h.daemon.setDiag(hungDiag(5555))
	h.sup.post(evChanged{}) // the lock file appeared
	h.settle()
	h.daemon.setDiag(runningDiag(5555))
	h.sup.post(evChanged{}) // its discovery file
	if st := h.want(Running); st.PID != 5555 || st.Parked {
		t.Errorf("adopted %+v", st)
	}
	select {
	case st := <-h.statuses:
		t.Errorf("a status after Running: %+v", st)
	default:
	}
}

// A Cairn daemon that holds the lock and stays silent across two idle
// looks is shown, parked; when it goes, the tray is back to Stopped, not
// "stopped outside the tray", and starts nothing (found by review: it
// counted as an adopted daemon that was stopped outside).
func TestParkedHungDaemonThatLeavesGoesBack(t *testing.T) {
	h := stopByUser(t)
	h.daemon.setDiag(hungDiag(5555))
	h.clock.Advance(7 * time.Second) // the idle look's first sighting: maybe still starting
	// A second look, by the watcher: queued after the first, or run once
	// it is back (lookAgain), so it is always a second sighting.
	h.sup.post(evChanged{})
	if st := h.want(NotResponding); !st.Parked || st.PID != 5555 {
		t.Errorf("hung while stopped: %+v", st)
	}
	h.settle()
	h.daemon.setDiag(stopped())
	h.sup.post(evChanged{}) // its lock went
	if st := h.want(Stopped); st.Parked || st.Message != "" {
		t.Errorf("after it left: %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// A take over refused (the holder may not be stopped) changes nothing: the
// conflict stays parked, and its end still starts nothing (found by
// review: any command unparked it).
func TestRefusedTakeoverKeepsTheConflictParked(t *testing.T) {
	h := stopByUser(t)
	d := conflictDiag()
	d.Holder = instance.Holder{Kind: instance.HolderUntouchable, Reason: "another user's"}
	if st := parkConflict(t, h, d); st.NoTakeover == "" {
		t.Fatalf("parked conflict %+v", st)
	}
	h.sup.Do(CmdTakeover)
	h.settle()
	h.daemon.setDiag(stopped())
	h.clock.Advance(5 * time.Second)
	h.want(Stopped)
	h.settle()
	h.noSpawn()
}

// Start from a parked conflict asks for Cairn: the conflict is then an
// ordinary one, and Cairn starts when the port is free.
func TestStartFromAParkedConflict(t *testing.T) {
	h := stopByUser(t)
	parkConflict(t, h, conflictDiag())
	h.sup.Do(CmdStart)
	if st := h.want(Conflict); st.Parked {
		t.Errorf("after Start the conflict is still parked: %+v", st)
	}
	h.settle()
	h.daemon.setDiag(stopped())
	h.clock.Advance(5 * time.Second)
	p := h.spawned()
	h.daemon.readyCh(p.pid) <- nil
	h.want(Running)
}
