package supervisor

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The child's life: spawn, ready, exit, crash, stop.

type child struct {
	proc      Process
	startedAt time.Time
	ready     bool // it has served: the API can take a shutdown
	stopping  bool
	readyErr  error
}

type (
	evChildExit struct{ proc Process }
	evReady     struct {
		proc Process
		addr string
		err  error
	}
	evRestart  struct{ gen int }
	evEscalate struct {
		proc Process
		kill bool
	}
)

func (s *Supervisor) spawn(ctx context.Context) {
	s.stopGen()
	if s.then == thenStop {
		// Stop came while Cairn was about to start (a take over): stay stopped.
		s.then = thenNothing
		s.setState(Stopped, "")
		return
	}
	proc, err := s.cfg.Spawner.Spawn(s.cfg.Port)
	if err != nil {
		s.cfg.Log.Error("spawn failed", "err", err)
		s.set(func(st *Status) { *st = Status{State: Failed, Message: err.Error()} })
		return
	}
	now := s.cfg.Clock.Now()
	s.child = &child{proc: proc, startedAt: now}
	s.cfg.Log.Info("spawned daemon", "pid", proc.PID())
	crashes, msg := s.status.Crashes, s.status.Message
	if s.crashes.consecutive == 0 {
		crashes, msg = 0, ""
	}
	// After a crash the message keeps saying what happened to the last
	// run, until this one is ready (the restart notification quotes it).
	s.set(func(st *Status) {
		*st = Status{State: Starting, PID: proc.PID(), Owned: true, Crashes: crashes, Message: msg}
	})
	go func() {
		<-proc.Done()
		s.post(evChildExit{proc})
	}()
	go func() {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
		defer cancel()
		addr, err := s.cfg.Daemon.WaitReady(rctx, proc.PID(), proc.Done())
		s.post(evReady{proc, addr, err})
	}()
}

func (s *Supervisor) ready(ctx context.Context, ev evReady) {
	c := s.child
	if c == nil || c.proc != ev.proc || c.stopping {
		return
	}
	if ev.err != nil {
		select {
		case <-ev.proc.Done():
			return // the exit event explains it
		default:
		}
		if ctx.Err() != nil {
			// The tray is quitting: the wait was cut short, it did not
			// time out. Run stops the child gracefully; taking it for
			// wedged here (this event can come before ctx.Done is seen)
			// would SIGKILL it and leave its lock and discovery files.
			return
		}
		// Alive but never ready: wedged. Kill it; the exit counts as a crash.
		c.readyErr = fmt.Errorf("the daemon did not become ready within %s", s.cfg.ReadyTimeout)
		s.cfg.Log.Error("daemon not ready; killing it", "pid", ev.proc.PID(), "err", ev.err)
		ev.proc.Kill()
		return
	}
	c.ready = true
	restarted, msg := s.crashes.consecutive > 0 && s.status.Crashes > 0, s.status.Message
	tookOver := s.tookOver
	s.tookOver = ""
	s.cfg.Log.Info("daemon ready", "pid", ev.proc.PID(), "addr", ev.addr, "after_crash", restarted)
	s.set(func(st *Status) {
		*st = Status{State: Running, PID: ev.proc.PID(), Addr: ev.addr, Owned: true,
			StartedAt: c.startedAt, ManagedBy: "tray", Crashes: st.Crashes, RestartedAfterCrash: restarted, TookOver: tookOver}
		if restarted {
			st.Message = msg // what happened to the run before, for the notification
		}
	})
	s.watch(ctx)
}

func (s *Supervisor) childExited(ctx context.Context, proc Process) {
	c := s.child
	if c == nil || c.proc != proc {
		return
	}
	s.child = nil
	s.stopGen()
	code := proc.ExitCode()
	s.cfg.Log.Info("daemon exited", "pid", proc.PID(), "code", code, "requested", c.stopping)
	switch {
	case c.stopping:
		s.stopped(ctx)
	case s.quitting:
	case code == 0, code == 3, code == 4:
		// 0: it found a healthy daemon and stepped aside, or someone
		// stopped it through the API. 3, 4: someone else holds the port
		// or lock. Look again, off the loop.
		s.set(func(st *Status) {
			*st = Status{State: Starting, Message: fmt.Sprintf("The daemon (PID %d) exited; looking again.", proc.PID())}
		})
		s.settleCode = code
		s.look(ctx, toSettle)
	case code == 5:
		s.set(func(st *Status) { *st = Status{State: Failed, Message: proc.LastLine()} })
	default:
		last, kept := proc.CrashReport(10)
		msg := strings.Join(last, "\n")
		if c.readyErr != nil {
			msg = c.readyErr.Error() + "\n" + msg
		}
		s.cfg.Log.Error("daemon crashed", "pid", proc.PID(), "code", code, "output", kept)
		s.crashed(c.startedAt, msg, kept)
	}
}

// crashed notes a crash of the daemon (ours, or an adopted one that died)
// and restarts it as our child after a backoff, or gives up on a loop.
func (s *Supervisor) crashed(startedAt time.Time, msg, kept string) {
	recent := s.crashes.record(s.cfg.Clock.Now(), startedAt)
	s.cfg.Log.Error("crash noted", "recent_crashes", recent)
	if s.crashes.looping(recent) {
		s.set(func(st *Status) { *st = Status{State: Crashed, Crashes: recent, Message: msg, LogFile: kept} })
		return
	}
	delay := s.crashes.backoff(s.cfg.BackoffMin, s.cfg.BackoffMax)
	s.set(func(st *Status) { *st = Status{State: Starting, Crashes: recent, Message: msg, LogFile: kept} })
	gen := s.restart.gen
	s.restart.stop = s.cfg.Clock.AfterFunc(delay, func() { s.post(evRestart{gen}) })
}

// stopped ends a stop: Stopped, or on to what was to come after it.
func (s *Supervisor) stopped(ctx context.Context) {
	then, missed := s.then, s.missedChange
	s.then, s.missedChange = thenNothing, false
	s.setState(Stopped, "")
	switch {
	case s.quitting:
	case then == thenStart:
		s.start(ctx)
	case missed:
		// A daemon started elsewhere while ours stopped (a writer's
		// auto-start takes the lock the moment ours lets go): its file
		// events came while the tray followed nothing, and none may come
		// again. Found by the soak: Stopped shown for minutes while it served.
		s.look(ctx, toFollow)
	}
}

// stopChild: API shutdown now, SIGTERM after StopGrace, SIGKILL after
// another StopGrace. A child that does not respond gets SIGTERM at once:
// it will not answer the API either. The exit event finishes the job.
func (s *Supervisor) stopChild() {
	c := s.child
	c.stopping = true
	hung := s.status.State == NotResponding
	s.stopGen()
	proc, ready := c.proc, c.ready
	if hung {
		s.cfg.Log.Warn("stopping a daemon that does not respond: SIGTERM", "pid", proc.PID())
		if err := proc.Terminate(); err != nil {
			proc.Kill()
		}
		s.setState(Stopping, fmt.Sprintf("Sent SIGTERM to PID %d; it is killed if it has not exited in %s.", proc.PID(), s.cfg.StopGrace))
		s.cfg.Clock.AfterFunc(s.cfg.StopGrace, func() { s.post(evEscalate{proc, true}) })
		return
	}
	s.setState(Stopping, "")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StopGrace)
		defer cancel()
		if !ready {
			// A child still starting has no discovery file to be reached
			// at, so a shutdown asked now fails and the stop sits out the
			// whole grace period before its SIGTERM (a Quit right after
			// launch took over 5 s). Let it come up first, within the
			// same grace period; its own start wait may have been cut
			// short by the signal that quits the tray.
			if _, err := s.cfg.Daemon.WaitReady(ctx, proc.PID(), proc.Done()); err != nil {
				s.cfg.Log.Info("daemon not ready for an API shutdown; will signal", "pid", proc.PID(), "err", err)
				return
			}
		}
		if err := s.cfg.Daemon.Shutdown(ctx, proc.PID()); err != nil {
			s.cfg.Log.Info("API shutdown failed; will signal", "pid", proc.PID(), "err", err)
		}
	}()
	s.cfg.Clock.AfterFunc(s.cfg.StopGrace, func() { s.post(evEscalate{proc, false}) })
	s.cfg.Clock.AfterFunc(2*s.cfg.StopGrace, func() { s.post(evEscalate{proc, true}) })
}

func (s *Supervisor) escalate(ev evEscalate) {
	if s.child == nil || s.child.proc != ev.proc {
		return
	}
	select {
	case <-ev.proc.Done():
		return
	default:
	}
	if ev.kill {
		s.cfg.Log.Warn("daemon ignored SIGTERM; killing it", "pid", ev.proc.PID())
		s.set(func(st *Status) { st.Message = fmt.Sprintf("PID %d ignored SIGTERM; killed it.", ev.proc.PID()) })
		ev.proc.Kill()
		return
	}
	s.cfg.Log.Warn("daemon ignored the API shutdown; sending SIGTERM", "pid", ev.proc.PID())
	s.set(func(st *Status) {
		st.Message = fmt.Sprintf("PID %d did not shut down; sent SIGTERM (it is killed in %s).", ev.proc.PID(), s.cfg.StopGrace)
	})
	if err := ev.proc.Terminate(); err != nil {
		ev.proc.Kill()
	}
}
