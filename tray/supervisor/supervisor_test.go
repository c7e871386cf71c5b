package supervisor

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
)

func stopped() instance.Diagnosis { return instance.Diagnosis{State: instance.StateStopped} }

// start brings a fresh harness to Running with its own child.
func startRunning(t *testing.T, tweak func(*Config)) (*harness, *fakeProc) {
	h := newHarness(t, stopped(), tweak)
	p := h.spawned()
	h.want(Starting)
	h.daemon.readyCh(p.pid) <- nil
	st := h.want(Running)
	if !st.Owned || st.PID != p.pid || st.Addr != "127.0.0.1:7070" || st.ManagedBy != "tray" {
		t.Fatalf("running status = %+v", st)
	}
	return h, p
}

func TestSpawnsWhenNothingRuns(t *testing.T) {
	h, _ := startRunning(t, nil)
	if h.daemon.cleaned != 1 {
		t.Errorf("stale files not cleaned before spawning")
	}
}

func TestAdoptsHealthyDaemon(t *testing.T) {
	h := newHarness(t, runningDiag(4242), nil)
	st := h.want(Running)
	if st.Owned || st.PID != 4242 || st.ManagedBy != "terminal" {
		t.Errorf("adopted status = %+v", st)
	}
	if uptime := h.clock.Now().Sub(st.StartedAt); uptime != time.Minute {
		t.Errorf("uptime = %s, want 1m from the daemon's uptime_s", uptime)
	}
	h.settle()
	h.noSpawn()
	// Quit leaves an adopted daemon alone.
	h.sup.Quit()
	<-h.done
	if len(h.daemon.shutdowns) != 0 || h.daemon.stops != 0 {
		t.Error("quit stopped a daemon the tray did not start")
	}
}

func TestConflictShowsHolder(t *testing.T) {
	diag := instance.Diagnosis{State: instance.StateConflict, PortHolders: []proc.Listener{
		{Addr: "127.0.0.1:7070", PID: 4242, Process: &proc.Process{PID: 4242, Name: "python3"}},
	}}
	h := newHarness(t, diag, nil)
	st := h.want(Conflict)
	if st.Holder != "python3 (PID 4242)" || st.HolderPID != 4242 {
		t.Errorf("conflict status = %+v", st)
	}
	h.settle()
	h.noSpawn()
}

func TestCrashBackoffAndCrashLoop(t *testing.T) {
	h, p := startRunning(t, nil)
	wantDelays := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for i, want := range wantDelays {
		p.exit(2)
		st := h.wantCrash(i + 1)
		if st.Crashes != i+1 || !strings.Contains(st.Message, "panic: boom") || st.LogFile == "" {
			t.Fatalf("crash %d status = %+v", i+1, st)
		}
		// The restart timer is armed just after the status goes out.
		h.waitTimer(want)
		h.clock.Advance(want - time.Millisecond)
		h.settle()
		h.noSpawn()
		h.clock.Advance(time.Millisecond)
		p = h.spawned()
		h.daemon.readyCh(p.pid) <- nil
		if st := h.want(Running); !st.RestartedAfterCrash {
			t.Errorf("running after crash %d does not say it restarted", i+1)
		}
	}
	// The fifth crash within two minutes: give up.
	p.exit(2)
	st := h.want(Crashed)
	if st.Crashes != 5 || !strings.Contains(st.Message, "panic") {
		t.Errorf("crashed status = %+v", st)
	}
	h.clock.Advance(time.Hour)
	h.settle()
	h.noSpawn()

	// Start from the menu tries again with a clean slate.
	h.sup.Do(CmdStart)
	p = h.spawned()
	h.daemon.readyCh(p.pid) <- nil
	if st := h.want(Running); st.RestartedAfterCrash || st.Crashes != 0 {
		t.Errorf("manual start status = %+v", st)
	}
}

func TestBackoffDoublesToCap(t *testing.T) {
	h, p := startRunning(t, func(c *Config) { c.CrashLimit = 100 })
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, d := range want {
		p.exit(1)
		h.wantCrash(i + 1)
		h.waitTimer(d)
		h.clock.Advance(d)
		p = h.spawned()
	}
}

func TestStableRunResetsBackoff(t *testing.T) {
	h, p := startRunning(t, nil)
	p.exit(1)
	h.wantCrash(1)
	h.waitTimer(500 * time.Millisecond)
	h.clock.Advance(500 * time.Millisecond)
	p = h.spawned()
	h.daemon.readyCh(p.pid) <- nil
	h.want(Running)
	// It then runs for longer than the crash window before crashing.
	h.clock.Advance(3 * time.Minute)
	p.exit(1)
	h.wantCrash(1)
	h.waitTimer(500 * time.Millisecond) // the backoff was reset by the stable run
}

func TestExitCodes(t *testing.T) {
	t.Run("3 is a conflict", func(t *testing.T) {
		h, p := startRunning(t, nil)
		h.daemon.setDiag(instance.Diagnosis{State: instance.StateConflict, PortHolders: []proc.Listener{{PID: 99, Process: &proc.Process{PID: 99, Name: "nc"}}}})
		p.exit(3)
		if st := h.want(Conflict); st.Holder != "nc (PID 99)" {
			t.Errorf("status = %+v", st)
		}
		h.settle()
		h.noSpawn()
	})
	t.Run("4 beside a wedged daemon", func(t *testing.T) {
		h, p := startRunning(t, nil)
		h.daemon.setDiag(instance.Diagnosis{State: instance.StateNotResponding, Lock: instance.LockReport{Held: true, PID: 77, Holder: &proc.Process{PID: 77, Name: "cairn", Cmdline: []string{"cairn", "serve"}}}})
		p.exit(4)
		if st := h.want(NotResponding); st.HolderPID != 77 {
			t.Errorf("status = %+v", st)
		}
	})
	t.Run("0 with another healthy daemon adopts it", func(t *testing.T) {
		h, p := startRunning(t, nil)
		h.daemon.setDiag(runningDiag(5555))
		p.exit(0)
		if st := h.want(Running); st.Owned || st.PID != 5555 {
			t.Errorf("status = %+v", st)
		}
	})
	t.Run("0 alone means stopped elsewhere", func(t *testing.T) {
		h, p := startRunning(t, nil)
		p.exit(0)
		h.want(Stopped)
		h.settle()
		h.noSpawn()
	})
	t.Run("5 fails with the daemon's message", func(t *testing.T) {
		h, p := startRunning(t, nil)
		p.lastLine = "the data dir /x is unusable: permission denied."
		p.exit(5)
		if st := h.want(Failed); st.Message != p.lastLine {
			t.Errorf("status = %+v", st)
		}
		h.settle()
		h.noSpawn()
	})
}

func TestHealthProbeMisses(t *testing.T) {
	h, p := startRunning(t, nil)
	h.daemon.mu.Lock()
	h.daemon.healthy = func() (int, error) { return 0, errors.New("timeout") }
	h.daemon.mu.Unlock()
	// The first miss comes at the regular probe; the next two follow a
	// second apart.
	for _, d := range []time.Duration{5 * time.Second, time.Second, time.Second} {
		h.waitTimer(d)
		h.clock.Advance(d)
	}
	h.want(NotResponding)
	h.daemon.mu.Lock()
	h.daemon.healthy = func() (int, error) { return p.pid, nil }
	h.daemon.mu.Unlock()
	h.waitTimer(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	h.want(Running)
}

func TestStopEscalates(t *testing.T) {
	h, p := startRunning(t, nil)
	h.sup.Do(CmdStop)
	h.want(Stopping)
	h.settle()
	// The API shutdown went to our child; it ignores it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.daemon.mu.Lock()
		n := len(h.daemon.shutdowns)
		h.daemon.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	h.clock.Advance(5 * time.Second)
	h.settle()
	p.mu.Lock()
	terminated := p.terminated
	p.mu.Unlock()
	if !terminated {
		t.Fatal("no SIGTERM after the grace period")
	}
	h.clock.Advance(5 * time.Second)
	h.want(Stopped)
	if !p.killed {
		t.Error("no SIGKILL after the second grace period")
	}
	h.settle()
	h.noSpawn()
}

func TestStopGracefulAndRestart(t *testing.T) {
	h, p := startRunning(t, nil)
	h.daemon.mu.Lock()
	h.daemon.exitOnShutdown[p.pid] = p
	h.daemon.mu.Unlock()
	h.sup.Do(CmdRestart)
	h.want(Stopping)
	h.want(Stopped)
	p2 := h.spawned()
	h.daemon.readyCh(p2.pid) <- nil
	if st := h.want(Running); st.PID != p2.pid || st.RestartedAfterCrash {
		t.Errorf("after restart: %+v", st)
	}
	if p.terminated || p.killed {
		t.Error("a graceful stop was escalated")
	}
}

func TestQuitStopsOwnChild(t *testing.T) {
	h, p := startRunning(t, nil)
	h.daemon.mu.Lock()
	h.daemon.exitOnShutdown[p.pid] = p
	h.daemon.mu.Unlock()
	h.sup.Quit()
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Quit")
	}
	if len(h.daemon.shutdowns) != 1 || h.daemon.shutdowns[0] != p.pid {
		t.Errorf("shutdowns = %v", h.daemon.shutdowns)
	}
}

// TestStopWhileStartingIsGraceful: a stop (or Quit) asked before the child
// serves waits for it to come up and stops it through the API, instead of
// failing the API call at once and sitting out the grace period.
func TestStopWhileStartingIsGraceful(t *testing.T) {
	for _, quit := range []bool{false, true} {
		t.Run(map[bool]string{false: "stop", true: "quit"}[quit], func(t *testing.T) {
			h := newHarness(t, stopped(), nil)
			p := h.spawned()
			h.want(Starting)
			h.daemon.mu.Lock()
			h.daemon.exitOnShutdown[p.pid] = p
			h.daemon.mu.Unlock()
			if quit {
				h.cancel() // SIGTERM to the tray: also ends the child's own start wait
			} else {
				h.sup.Do(CmdStop)
			}
			h.want(Stopping)
			// The stop waits for the child to come up (a second WaitReady,
			// beside the spawn's own), and only then asks the API.
			h.waitWaiters(p.pid, 2)
			h.daemon.readyCh(p.pid) <- nil
			if quit {
				select {
				case <-h.done:
				case <-time.After(5 * time.Second):
					t.Fatal("Run did not return")
				}
			} else {
				h.want(Stopped) // with no grace period passed on the clock
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.terminated || p.killed {
				t.Errorf("the stop was escalated: terminated=%v killed=%v", p.terminated, p.killed)
			}
		})
	}
}

func TestNotReadyInTimeIsACrash(t *testing.T) {
	h := newHarness(t, stopped(), nil)
	p := h.spawned()
	h.daemon.readyCh(p.pid) <- errors.New("deadline exceeded")
	st := h.want(Starting)
	for st.Crashes == 0 {
		st = h.want(Starting)
	}
	if !p.killed || !strings.Contains(st.Message, "did not become ready") {
		t.Errorf("wedged child: killed=%v status=%+v", p.killed, st)
	}
}

func TestStopWhileWaitingForRestart(t *testing.T) {
	h, p := startRunning(t, nil)
	p.exit(1)
	h.want(Starting)
	h.sup.Do(CmdStop)
	h.want(Stopped)
	h.clock.Advance(time.Minute)
	h.settle()
	h.noSpawn()
}

func TestAdoptedDaemonStoppedElsewhere(t *testing.T) {
	h := newHarness(t, runningDiag(4242), nil)
	h.want(Running)
	h.daemon.setDiag(stopped())
	// The probe timer is armed after the Running status goes out: advance
	// only once it is there, or the advance passes it by.
	h.waitTimer(5 * time.Second)
	h.clock.Advance(5 * time.Second) // probe fails: connection refused
	if st := h.want(Stopped); !strings.Contains(st.Message, "outside the tray") {
		t.Errorf("status = %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// withService makes the fake daemon's machine have an installed systemd
// service that starts (or restarts) a daemon serving as PID pid.
func withService(pid int) func(*Config) {
	return func(c *Config) {
		d := c.Daemon.(*fakeDaemon)
		d.installed, d.managedBy = "systemd", "systemd"
		d.onService = func(string) { d.setDiag(runningDiag(pid)) }
	}
}

// An installed service is started through its manager, at launch and on
// Start, so the daemon has one owner: a child of ours would fight the unit
// for the port.
func TestInstalledServiceIsStartedThroughItsManager(t *testing.T) {
	h := newHarness(t, stopped(), withService(777))
	st := h.want(Starting)
	if st.ManagedBy != "systemd" || st.Owned {
		t.Errorf("starting status = %+v", st)
	}
	st = h.want(Running)
	if st.PID != 777 || st.Owned || st.ManagedBy != "systemd" {
		t.Errorf("running status = %+v", st)
	}
	if got := h.daemon.calls(); !slices.Equal(got, []string{"start"}) {
		t.Errorf("service calls %v, want [start]", got)
	}
	h.settle()
	h.noSpawn()

	// Stop goes through `cairn stop`'s engine (which asks the manager);
	// Start then asks the manager again.
	h.sup.Do(CmdStop)
	h.want(Stopped)
	h.daemon.setDiag(stopped())
	h.sup.Do(CmdStart)
	h.want(Running)
	if got := h.daemon.calls(); !slices.Equal(got, []string{"start", "start"}) {
		t.Errorf("service calls %v, want [start start]", got)
	}
	h.settle()
	h.noSpawn()
}

func TestServiceManagedDaemonIsRestartedByItsManager(t *testing.T) {
	h := newHarness(t, runningDiag(4242), withService(4343))
	if st := h.want(Running); st.PID != 4242 || st.ManagedBy != "systemd" {
		t.Fatalf("adopted status = %+v", st)
	}
	h.sup.Do(CmdRestart)
	if st := h.want(Running); st.PID != 4343 {
		t.Errorf("after restart: %+v, want the PID the manager started", st)
	}
	if got := h.daemon.calls(); !slices.Equal(got, []string{"restart"}) {
		t.Errorf("service calls %v, want [restart]", got)
	}
	h.daemon.mu.Lock()
	stops := h.daemon.stops
	h.daemon.mu.Unlock()
	if stops != 0 {
		t.Errorf("restart stopped the daemon behind the manager's back (%d stops)", stops)
	}
	h.settle()
	h.noSpawn()
}

func TestServiceThatDoesNotStartFails(t *testing.T) {
	h := newHarness(t, stopped(), func(c *Config) {
		withService(0)(c)
		c.Daemon.(*fakeDaemon).serviceErr = errors.New("Job for cairn.service failed")
	})
	st := h.want(Failed)
	if !strings.Contains(st.Message, "systemd could not start Cairn") || !strings.Contains(st.Message, "cairn service status") {
		t.Errorf("failed status = %+v", st)
	}
	h.settle()
	h.noSpawn()
}

// When the program holding the port goes away by itself, the tray notices
// at its next look and starts Cairn.
func TestConflictClearsByItself(t *testing.T) {
	diag := instance.Diagnosis{State: instance.StateConflict, PortHolders: []proc.Listener{
		{Addr: "127.0.0.1:7070", PID: 4242, Process: &proc.Process{PID: 4242, Name: "python3"}},
	}}
	h := newHarness(t, diag, nil)
	h.want(Conflict)
	// Still held: no new status, no spawn.
	h.waitTimer(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	h.waitTimer(5 * time.Second) // the look is back, and the recheck re-armed
	h.settle()
	h.noSpawn()
	select {
	case st := <-h.statuses:
		t.Fatalf("unchanged conflict sent a status: %+v", st)
	default:
	}
	h.daemon.setDiag(stopped())
	h.clock.Advance(5 * time.Second)
	p := h.spawned()
	h.daemon.readyCh(p.pid) <- nil
	h.want(Running)
}

func TestConflictWithUntouchableHolder(t *testing.T) {
	diag := instance.Diagnosis{State: instance.StateConflict, PortHolders: []proc.Listener{
		{Addr: "127.0.0.1:7070", PID: 812, Process: &proc.Process{PID: 812, Name: "nginx", User: "www-data"}},
	}, Holder: instance.Holder{Kind: instance.HolderUntouchable, Reason: "port is held by nginx (PID 812) of user \"www-data\"; use --port"}}
	h := newHarness(t, diag, nil)
	if st := h.want(Conflict); st.NoTakeover != diag.Holder.Reason {
		t.Errorf("status %+v, want NoTakeover = the engine's reason", st)
	}
}

// Stop while the service manager is still starting the daemon: it is
// stopped once it serves, not left running behind a "Stopped" menu.
func TestStopWhileServiceStarts(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, stopped(), func(c *Config) {
		withService(777)(c)
		d := c.Daemon.(*fakeDaemon)
		d.onService = func(string) { <-release; d.setDiag(runningDiag(777)) }
	})
	if st := h.want(Starting); st.ManagedBy != "systemd" {
		t.Fatalf("starting status = %+v", st)
	}
	h.sup.Do(CmdStop)
	h.want(Stopping)
	close(release)
	h.want(Running) // adopted for the moment it takes to stop it
	h.want(Stopping)
	h.want(Stopped)
	h.daemon.mu.Lock()
	stops := h.daemon.stops
	h.daemon.mu.Unlock()
	if stops != 1 {
		t.Errorf("%d stops of the service-run daemon, want 1", stops)
	}
	h.settle()
	h.noSpawn()
}

// The conflict status carries the holder it shows, so a take over stops
// that one; the same description with a new process is a new status.
func TestConflictCarriesTheHolderItShows(t *testing.T) {
	python := func(created int64) instance.Diagnosis {
		p := &proc.Process{PID: 4242, Name: "python3", CreateTime: created}
		return instance.Diagnosis{State: instance.StateConflict,
			PortHolders: []proc.Listener{{Addr: "127.0.0.1:7070", PID: 4242, Process: p}},
			Holder:      instance.Holder{Kind: instance.HolderForeign, Processes: []*proc.Process{p}, Reason: "port 7070 is in use by python3 (PID 4242)"}}
	}
	h := newHarness(t, python(1000), nil)
	st := h.want(Conflict)
	if st.Takeover == nil || st.Takeover.Kind != instance.HolderForeign || st.Takeover.Processes[0].CreateTime != 1000 {
		t.Fatalf("conflict status carries %+v, want the diagnosis's holder", st.Takeover)
	}
	// PID 4242 reused by another python3: same words, another process.
	h.daemon.setDiag(python(2000))
	h.waitTimer(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	if st := h.want(Conflict); st.Takeover == nil || st.Takeover.Processes[0].CreateTime != 2000 {
		t.Fatalf("after the holder was replaced the status carries %+v, want the new one", st.Takeover)
	}
}

// The event stream's memory count reaches the status at once, without a
// probe (the fake clock never fires one here).
func TestMemoryEventsUpdateTheCount(t *testing.T) {
	h := newHarness(t, runningDiag(4242), nil)
	h.want(Running)
	h.daemon.memories <- 1204
	for {
		select {
		case st := <-h.statuses:
			if st.Memories == 1204 && st.State == Running {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the count from the event stream never reached the status")
		}
	}
}
