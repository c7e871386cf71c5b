package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// Config configures a Supervisor. Zero durations take the defaults.
type Config struct {
	Port     int
	Daemon   Daemon
	Spawner  Spawner
	Clock    Clock
	Log      *slog.Logger
	OnChange func(Status) // called from the supervisor's goroutine on every change

	ProbeInterval time.Duration // health probe period (5 s)
	MaxMisses     int           // probes missed before "not responding" (3)
	BackoffMin    time.Duration // first restart delay (0.5 s), doubling
	BackoffMax    time.Duration // restart delay cap (30 s)
	CrashLimit    int           // crashes within CrashWindow that stop restarts (5)
	CrashWindow   time.Duration // (2 min)
	ReadyTimeout  time.Duration // spawn to ready (20 s)
	StopGrace     time.Duration // per step of API shutdown → SIGTERM → SIGKILL (5 s)
	ProbeTimeout  time.Duration // one health probe (2 s)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ProbeInterval, 5*time.Second)
	def(&c.BackoffMin, 500*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.CrashWindow, 2*time.Minute)
	def(&c.ReadyTimeout, 20*time.Second)
	def(&c.StopGrace, 5*time.Second)
	def(&c.ProbeTimeout, 2*time.Second)
	if c.MaxMisses == 0 {
		c.MaxMisses = 3
	}
	if c.CrashLimit == 0 {
		c.CrashLimit = 5
	}
	if c.Clock == nil {
		c.Clock = RealClock
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.OnChange == nil {
		c.OnChange = func(Status) {}
	}
}

// Command is a user request from the menu.
type Command int

// The commands.
const (
	CmdStart Command = iota
	CmdStop
	CmdRestart
)

// Supervisor runs the loop. All state lives in its one goroutine (Run);
// timers and probes post events back to it.
type Supervisor struct {
	cfg    Config
	events chan event
	done   chan struct{}

	status      Status
	child       *child
	gen         int         // bumps whenever probes and streams of the last daemon must stop
	crashes     []time.Time // the last CrashLimit crash times
	consecutive int         // crashes since the daemon last ran stably
	misses      int
	cancelGen   context.CancelFunc
	stopRestart func() bool
	restartGen  int // bumps to void a pending restart timer
	quitting    bool
	restartNext bool // spawn again once the current child has stopped
	// stopWhenServing: Stop came while the service manager was starting
	// the daemon; it is stopped (through the manager) once it serves,
	// since stopping before would race the manager's start.
	stopWhenServing bool
}

type child struct {
	proc      Process
	startedAt time.Time
	ready     bool // it has served: the API can take a shutdown
	stopping  bool
	readyErr  error
}

type event interface{}

type (
	evChildExit struct{ proc Process }
	evReady     struct {
		proc Process
		addr string
		err  error
	}
	evProbeTick struct{ gen int }
	evMemories  struct {
		gen   int
		count int64
	}
	evProbe struct {
		gen int
		Health
		err error
	}
	evRestart  struct{ gen int }
	evEscalate struct {
		proc Process
		kill bool
	}
	evAdoptedStop struct{ err error }
	// evServiceDone: the service manager has been asked to start or
	// restart the daemon, and the wait for it to serve is over.
	evServiceDone struct {
		gen int
		err error
	}
	evRecheck struct{ gen int } // look again at a conflict or a wedged holder
	evCommand struct{ cmd Command }
	evSync    struct{ done chan struct{} } // tests: everything before it was handled
	evQuit    struct{}
)

// New returns a supervisor; Run starts it.
func New(cfg Config) *Supervisor {
	cfg.defaults()
	return &Supervisor{cfg: cfg, events: make(chan event, 64), done: make(chan struct{}), status: Status{State: Starting, Port: cfg.Port}}
}

// Do queues a user command. It never blocks the caller for long.
func (s *Supervisor) Do(cmd Command) { s.post(evCommand{cmd}) }

// Quit stops the child the tray owns (never an adopted daemon) and ends Run.
func (s *Supervisor) Quit() { s.post(evQuit{}) }

func (s *Supervisor) post(ev event) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

// Run diagnoses the machine, then supervises until Quit or ctx ends; a
// cancelled ctx quits like Quit does. It returns once our child is gone.
func (s *Supervisor) Run(ctx context.Context) {
	defer close(s.done)
	defer s.stopGen()
	s.start(ctx)
	ctxDone := ctx.Done()
	for {
		select {
		case <-ctxDone:
			ctxDone = nil
			s.quit()
		case ev := <-s.events:
			s.handle(ctx, ev)
		}
		if s.quitting && s.child == nil {
			return
		}
	}
}

// Status returns the current status; only for use from OnChange or tests
// after Run returned.
func (s *Supervisor) Status() Status { return s.status }

func (s *Supervisor) handle(ctx context.Context, ev event) {
	switch ev := ev.(type) {
	case evSync:
		close(ev.done)
	case evCommand:
		s.command(ctx, ev.cmd)
	case evQuit:
		s.quit()
	case evChildExit:
		s.childExited(ctx, ev.proc)
	case evReady:
		s.ready(ctx, ev)
	case evProbeTick:
		if ev.gen == s.gen {
			s.probe(ctx)
		}
	case evProbe:
		if ev.gen == s.gen {
			s.probed(ctx, ev)
		}
	case evMemories:
		// The event stream's count: the menu follows a new memory at once,
		// not at the next probe.
		if ev.gen == s.gen && ev.count != s.status.Memories && s.status.State == Running {
			s.set(func(st *Status) { st.Memories = ev.count })
		}
	case evRestart:
		if ev.gen == s.restartGen && s.child == nil && !s.quitting {
			s.spawn(ctx)
		}
	case evEscalate:
		s.escalate(ev)
	case evServiceDone:
		if ev.gen == s.gen && !s.quitting {
			s.serviceDone(ctx, ev.err)
		}
	case evRecheck:
		if ev.gen == s.gen && !s.quitting && s.child == nil {
			s.recheck(ctx)
		}
	case evAdoptedStop:
		if ev.err != nil {
			s.cfg.Log.Warn("stop of adopted daemon failed", "err", ev.err)
			s.set(func(st *Status) { st.Message = "Could not stop the daemon: " + ev.err.Error() })
			s.diagnoseAndAct(ctx)
			return
		}
		s.setState(Stopped, "")
		if s.restartNext {
			s.restartNext = false
			s.start(ctx)
		}
	}
}

func (s *Supervisor) command(ctx context.Context, cmd Command) {
	if s.quitting {
		return
	}
	switch cmd {
	case CmdStart:
		if s.child != nil || s.status.State == Running || s.status.State == Stopping {
			return
		}
		s.resetCrashes()
		s.cancelRestart()
		s.start(ctx)
	case CmdStop:
		s.cancelRestart()
		switch {
		case s.child != nil:
			s.stopChild()
		case s.status.State == Running || s.status.State == NotResponding:
			s.stopAdopted(ctx)
		case s.status.State == Starting && s.status.ManagedBy != "":
			s.stopWhenServing = true
			s.setState(Stopping, "")
		default:
			s.setState(Stopped, "")
		}
	case CmdRestart:
		s.resetCrashes()
		s.cancelRestart()
		switch {
		case s.child != nil:
			s.restartNext = true
			s.stopChild()
		case isServiceManager(s.status.ManagedBy) && (s.status.State == Running || s.status.State == NotResponding):
			// Stopping it ourselves and starting a child would leave the
			// service manager to fight us for the port: let it restart
			// its own daemon.
			s.throughService(ctx, "restart", s.status.ManagedBy, s.cfg.Daemon.RestartService)
		case s.status.State == Running || s.status.State == NotResponding:
			s.restartNext = true
			s.stopAdopted(ctx)
		default:
			s.start(ctx)
		}
	}
}

// isServiceManager reports whether managedBy names an OS service manager,
// which restarts its daemon itself and must be asked rather than bypassed.
func isServiceManager(managedBy string) bool {
	return managedBy == "systemd" || managedBy == "launchd"
}

// start is Start from the menu (and a restart's second half): an
// installed Cairn service is started through its manager, so the daemon
// has one owner; otherwise the machine is diagnosed and our own child
// spawned as at launch.
func (s *Supervisor) start(ctx context.Context) {
	d := s.cfg.Daemon.Diagnose(ctx, s.cfg.Port)
	if d.State == instance.StateStopped {
		if manager, ok := s.cfg.Daemon.ServiceInstalled(ctx); ok {
			s.throughService(ctx, "start", manager, s.cfg.Daemon.StartService)
			return
		}
	}
	s.act(ctx, d)
}

// throughService asks the service manager to start or restart the daemon,
// off the loop, and waits for a daemon to serve; serviceDone then adopts it.
func (s *Supervisor) throughService(ctx context.Context, verb, manager string, do func(context.Context) error) {
	s.stopGen()
	s.cfg.Log.Info("asking the service manager", "verb", verb, "manager", manager)
	s.set(func(st *Status) { *st = Status{State: Starting, Port: s.cfg.Port, ManagedBy: manager} })
	gen := s.gen
	go func() {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
		defer cancel()
		err := do(sctx)
		if err == nil {
			err = s.cfg.Daemon.WaitServing(sctx)
		}
		if err != nil {
			err = fmt.Errorf("%s could not %s Cairn: %w", manager, verb, err)
		}
		s.post(evServiceDone{gen, err})
	}()
}

func (s *Supervisor) serviceDone(ctx context.Context, err error) {
	stop := s.stopWhenServing
	s.stopWhenServing = false
	d := s.cfg.Daemon.Diagnose(ctx, s.cfg.Port)
	if d.State == instance.StateRunning {
		s.adopt(ctx, d)
		if stop {
			s.stopAdopted(ctx)
		}
		return
	}
	if stop {
		s.setState(Stopped, "")
		return
	}
	if err != nil && d.State == instance.StateStopped {
		s.cfg.Log.Error("service did not start the daemon", "err", err)
		s.set(func(st *Status) {
			*st = Status{State: Failed, Port: s.cfg.Port, Message: err.Error() + "; run: cairn service status"}
		})
		return
	}
	s.act(ctx, d)
}

func (s *Supervisor) quit() {
	s.quitting = true
	s.cancelRestart()
	if s.child != nil && !s.child.stopping {
		s.stopChild()
	}
}

// diagnoseAndAct looks at the machine and decides: adopt a healthy daemon,
// clean a dead one's files and spawn ours, or show a conflict.
func (s *Supervisor) diagnoseAndAct(ctx context.Context) {
	s.act(ctx, s.cfg.Daemon.Diagnose(ctx, s.cfg.Port))
}

// act does what diagnosis d calls for.
func (s *Supervisor) act(ctx context.Context, d instance.Diagnosis) {
	switch d.State {
	case instance.StateRunning:
		s.adopt(ctx, d)
	case instance.StateStopped:
		if s.cfg.Daemon.CleanStale() {
			s.cfg.Log.Info("removed stale lock and discovery files of a dead daemon")
		}
		s.spawn(ctx)
	case instance.StateNotResponding:
		s.stopGen()
		s.set(func(st *Status) {
			*st = Status{State: NotResponding, Port: s.cfg.Port, Holder: d.Lock.Holder.String(), HolderPID: d.Lock.PID,
				Message: "A Cairn daemon holds the lock but does not answer.", NoTakeover: noTakeoverReason(d), Takeover: shownHolder(d)}
		})
		s.armRecheck()
	default:
		s.conflict(d)
	}
}

func (s *Supervisor) adopt(ctx context.Context, d instance.Diagnosis) {
	s.stopGen()
	started := s.cfg.Clock.Now().Add(-time.Duration(d.Daemon.Uptime * float64(time.Second)))
	managedBy := s.cfg.Daemon.ManagedBy(ctx)
	s.cfg.Log.Info("adopted a running daemon", "pid", d.Daemon.PID, "addr", d.Addr, "managed_by", managedBy)
	s.set(func(st *Status) {
		*st = Status{State: Running, Port: s.cfg.Port, PID: d.Daemon.PID, Addr: d.Addr, StartedAt: started, ManagedBy: managedBy}
	})
	s.watch(ctx)
}

func (s *Supervisor) conflict(d instance.Diagnosis) {
	s.stopGen()
	holder, pid := "", 0
	switch {
	case len(d.PortHolders) > 0:
		holder, pid = proc.DescribeHolders(d.PortHolders), d.PortHolders[0].PID
	case d.Lock.Holder != nil:
		holder, pid = d.Lock.Holder.String(), d.Lock.Holder.PID
	default:
		holder = "another process"
	}
	noTakeover := noTakeoverReason(d)
	if s.status.State != Conflict || s.status.Holder != holder || s.status.HolderPID != pid || s.status.NoTakeover != noTakeover ||
		!sameHolder(s.status.Takeover, shownHolder(d)) {
		s.cfg.Log.Warn("conflict", "port", s.cfg.Port, "holder", holder, "no_takeover", noTakeover)
		s.set(func(st *Status) {
			*st = Status{State: Conflict, Port: s.cfg.Port, Holder: holder, HolderPID: pid, NoTakeover: noTakeover, Takeover: shownHolder(d)}
		})
	}
	s.armRecheck()
}

// shownHolder is the holder of d that a take over may act on, or nil.
func shownHolder(d instance.Diagnosis) *instance.Holder {
	if !d.Holder.CanTakeOver() {
		return nil
	}
	h := d.Holder
	return &h
}

// sameHolder reports whether a and b name the same processes (PID and start
// time), so a holder replaced under the same description still gets a new
// status, and the take over it offers acts on the new one.
func sameHolder(a, b *instance.Holder) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || len(a.Processes) != len(b.Processes) {
		return false
	}
	for i := range a.Processes {
		pa, pb := a.Processes[i], b.Processes[i]
		if (pa == nil) != (pb == nil) || pa != nil && (pa.PID != pb.PID || pa.CreateTime != pb.CreateTime) {
			return false
		}
	}
	return true
}

// noTakeoverReason is why d's holder may not be stopped, or "".
func noTakeoverReason(d instance.Diagnosis) string {
	if d.Holder.CanTakeOver() {
		return ""
	}
	return d.Holder.Reason
}

// armRecheck looks at the machine again after a probe interval while
// someone else holds the port or lock: when the other program goes away
// by itself, Cairn starts without the user having to ask.
func (s *Supervisor) armRecheck() {
	gen := s.gen
	s.cfg.Clock.AfterFunc(s.cfg.ProbeInterval, func() { s.post(evRecheck{gen}) })
}

func (s *Supervisor) recheck(ctx context.Context) {
	if s.status.State == Conflict || s.status.State == NotResponding {
		// The same look as Start: a freed port starts Cairn, an unchanged
		// conflict re-arms the recheck without a new status.
		s.start(ctx)
	}
}

func (s *Supervisor) spawn(ctx context.Context) {
	s.stopGen()
	proc, err := s.cfg.Spawner.Spawn(s.cfg.Port)
	if err != nil {
		s.cfg.Log.Error("spawn failed", "err", err)
		s.set(func(st *Status) { *st = Status{State: Failed, Port: s.cfg.Port, Message: err.Error()} })
		return
	}
	now := s.cfg.Clock.Now()
	s.child = &child{proc: proc, startedAt: now}
	s.cfg.Log.Info("spawned daemon", "pid", proc.PID())
	crashes, msg := s.status.Crashes, s.status.Message
	if s.consecutive == 0 {
		crashes, msg = 0, ""
	}
	// After a crash the message keeps saying what happened to the last
	// run, until this one is ready (the restart notification quotes it).
	s.set(func(st *Status) {
		*st = Status{State: Starting, Port: s.cfg.Port, PID: proc.PID(), Owned: true, Crashes: crashes, Message: msg}
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
	restarted, msg := s.consecutive > 0, s.status.Message
	s.cfg.Log.Info("daemon ready", "pid", ev.proc.PID(), "addr", ev.addr, "after_crash", restarted)
	s.set(func(st *Status) {
		*st = Status{State: Running, Port: s.cfg.Port, PID: ev.proc.PID(), Addr: ev.addr, Owned: true,
			StartedAt: c.startedAt, ManagedBy: "tray", Crashes: st.Crashes, RestartedAfterCrash: restarted}
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
		s.setState(Stopped, "")
		if s.restartNext && !s.quitting {
			s.restartNext = false
			s.spawn(ctx)
		}
	case s.quitting:
	case code == 0:
		// It found a healthy daemon and stepped aside, or someone stopped
		// it through the API: look again.
		d := s.cfg.Daemon.Diagnose(ctx, s.cfg.Port)
		if d.State == instance.StateRunning {
			s.adopt(ctx, d)
			return
		}
		s.setState(Stopped, "The daemon was stopped outside the tray.")
	case code == 3 || code == 4:
		d := s.cfg.Daemon.Diagnose(ctx, s.cfg.Port)
		switch d.State {
		case instance.StateRunning:
			s.adopt(ctx, d)
		case instance.StateNotResponding, instance.StateConflict:
			s.diagnoseAndAct(ctx)
		default:
			// The holder left in the meantime.
			s.conflict(d)
		}
	case code == 5:
		s.set(func(st *Status) {
			*st = Status{State: Failed, Port: s.cfg.Port, Message: proc.LastLine()}
		})
	default:
		s.crashed(c, code)
	}
}

func (s *Supervisor) crashed(c *child, code int) {
	now := s.cfg.Clock.Now()
	if now.Sub(c.startedAt) >= s.cfg.CrashWindow {
		s.consecutive = 0 // it ran stably before this crash
	}
	s.consecutive++
	s.crashes = append(s.crashes, now)
	if len(s.crashes) > s.cfg.CrashLimit {
		s.crashes = s.crashes[len(s.crashes)-s.cfg.CrashLimit:]
	}
	recent := 0
	for _, t := range s.crashes {
		if now.Sub(t) <= s.cfg.CrashWindow {
			recent++
		}
	}
	last, kept := c.proc.CrashReport(10)
	msg := strings.Join(last, "\n")
	if c.readyErr != nil {
		msg = c.readyErr.Error() + "\n" + msg
	}
	s.cfg.Log.Error("daemon crashed", "pid", c.proc.PID(), "code", code, "recent_crashes", recent, "output", kept)

	if recent >= s.cfg.CrashLimit {
		s.set(func(st *Status) {
			*st = Status{State: Crashed, Port: s.cfg.Port, Crashes: recent, Message: msg, LogFile: kept}
		})
		return
	}
	delay := s.backoff()
	s.set(func(st *Status) {
		*st = Status{State: Starting, Port: s.cfg.Port, Crashes: recent, Message: msg, LogFile: kept}
	})
	gen := s.restartGen
	s.stopRestart = s.cfg.Clock.AfterFunc(delay, func() { s.post(evRestart{gen}) })
}

// backoff is BackoffMin doubled for each consecutive crash, capped.
func (s *Supervisor) backoff() time.Duration {
	d := s.cfg.BackoffMin
	for i := 1; i < s.consecutive && d < s.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.BackoffMax)
}

func (s *Supervisor) resetCrashes() {
	s.crashes, s.consecutive = nil, 0
	s.status.Crashes = 0
}

func (s *Supervisor) cancelRestart() {
	if s.stopRestart != nil {
		s.stopRestart()
		s.stopRestart = nil
	}
	s.restartGen++
}

// stopChild: API shutdown now, SIGTERM after StopGrace, SIGKILL after
// another StopGrace. The exit event finishes the job.
func (s *Supervisor) stopChild() {
	c := s.child
	c.stopping = true
	s.stopGen()
	s.setState(Stopping, "")
	proc, ready := c.proc, c.ready
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
		ev.proc.Kill()
		return
	}
	s.cfg.Log.Warn("daemon ignored the API shutdown; sending SIGTERM", "pid", ev.proc.PID())
	if err := ev.proc.Terminate(); err != nil {
		ev.proc.Kill()
	}
}

func (s *Supervisor) stopAdopted(ctx context.Context) {
	s.stopGen()
	s.setState(Stopping, "")
	go func() {
		err := s.cfg.Daemon.Stop(context.Background())
		s.post(evAdoptedStop{err})
	}()
}

// watch starts the health probes and the event stream of the current daemon.
func (s *Supervisor) watch(ctx context.Context) {
	s.stopGen()
	s.misses = 0
	gctx, cancel := context.WithCancel(ctx)
	s.cancelGen = cancel
	gen := s.gen
	go func() {
		// The stream ends the moment the daemon shuts down or dies: probe
		// then rather than at the next tick.
		s.cfg.Daemon.Events(gctx, func(n int64) { s.post(evMemories{gen, n}) })
		if gctx.Err() == nil {
			s.post(evProbeTick{gen})
		}
	}()
	s.cfg.Clock.AfterFunc(s.cfg.ProbeInterval, func() { s.post(evProbeTick{gen}) })
}

// stopGen ends the probes and stream of the previous daemon.
func (s *Supervisor) stopGen() {
	s.gen++
	if s.cancelGen != nil {
		s.cancelGen()
		s.cancelGen = nil
	}
}

func (s *Supervisor) probe(ctx context.Context) {
	gen := s.gen
	go func() {
		pctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout)
		defer cancel()
		h, err := s.cfg.Daemon.Health(pctx)
		s.post(evProbe{gen, h, err})
	}()
}

func (s *Supervisor) probed(ctx context.Context, ev evProbe) {
	gen := s.gen
	next := func() { s.cfg.Clock.AfterFunc(s.cfg.ProbeInterval, func() { s.post(evProbeTick{gen}) }) }
	switch {
	case ev.err == nil && ev.PID == s.status.PID:
		s.misses = 0
		if s.status.State == NotResponding {
			s.setState(Running, "")
		}
		if ev.Memories != s.status.Memories {
			s.set(func(st *Status) { st.Memories = ev.Memories })
		}
		next()
	case ev.err == nil || !s.status.Owned && !errors.Is(ev.err, context.DeadlineExceeded):
		// Another daemon answers, or an adopted one is gone: look again.
		// (Our own child's death arrives as its exit event.)
		s.diagnoseAdopted(ctx)
	default:
		s.misses++
		s.cfg.Log.Warn("health probe missed", "pid", s.status.PID, "misses", s.misses, "err", ev.err)
		if s.misses >= s.cfg.MaxMisses && s.status.State == Running {
			s.setState(NotResponding, fmt.Sprintf("No answer to %d health probes.", s.misses))
		}
		next()
	}
}

func (s *Supervisor) diagnoseAdopted(ctx context.Context) {
	d := s.cfg.Daemon.Diagnose(ctx, s.cfg.Port)
	switch d.State {
	case instance.StateRunning:
		if s.child != nil && d.Daemon.PID == s.child.proc.PID() {
			s.misses = 0
			s.watch(ctx)
			return
		}
		s.adopt(ctx, d)
	case instance.StateStopped:
		if s.child != nil {
			return // our child's exit event will say what happened
		}
		s.stopGen()
		s.setState(Stopped, "The daemon was stopped outside the tray.")
	default:
		if s.child == nil {
			s.diagnoseAndAct(ctx)
		}
	}
}

func (s *Supervisor) setState(state State, msg string) {
	s.set(func(st *Status) {
		st.State, st.Message, st.RestartedAfterCrash = state, msg, false
		if state == Stopped {
			st.PID, st.Addr, st.Owned, st.ManagedBy, st.Holder, st.HolderPID, st.Takeover = 0, "", false, "", "", 0, nil
		}
	})
}

func (s *Supervisor) set(f func(*Status)) {
	f(&s.status)
	s.status.Port = s.cfg.Port
	s.cfg.OnChange(s.status)
}
