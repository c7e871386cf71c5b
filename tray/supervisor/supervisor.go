package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Supervisor. Zero durations take the defaults.
type Config struct {
	Port     int
	Daemon   Daemon
	Spawner  Spawner
	Clock    Clock
	Log      *slog.Logger
	OnChange func(Status) // called from the supervisor's goroutine on every change

	ProbeInterval time.Duration // health probe period (5 s); also the conflict recheck
	// IdleInterval is how often a tray with nothing running (Stopped,
	// Crashed, Failed) looks at the machine (5 s): a program that takes
	// the port changes nothing in the data dir for the watcher to see.
	IdleInterval time.Duration
	MaxMisses    int           // probes missed in a row before "not responding" (3)
	MissInterval time.Duration // after a miss, the next probe comes this soon (1 s), not a whole ProbeInterval later
	BackoffMin   time.Duration // first restart delay (0.5 s), doubling
	BackoffMax   time.Duration // restart delay cap (30 s)
	CrashLimit   int           // crashes within CrashWindow that stop restarts (5)
	CrashWindow  time.Duration // (2 min)
	ReadyTimeout time.Duration // spawn to ready (20 s)
	StopGrace    time.Duration // per step of API shutdown → SIGTERM → SIGKILL (5 s)
	ProbeTimeout time.Duration // one health probe (2 s)
	// DrainWait is how long a daemon that announced its shutdown may hold
	// the lock without answering before it counts as not responding (10 s).
	DrainWait time.Duration
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ProbeInterval, 5*time.Second)
	def(&c.IdleInterval, 5*time.Second)
	def(&c.MissInterval, time.Second)
	def(&c.BackoffMin, 500*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.CrashWindow, 2*time.Minute)
	def(&c.ReadyTimeout, 20*time.Second)
	def(&c.StopGrace, 5*time.Second)
	def(&c.ProbeTimeout, 2*time.Second)
	def(&c.DrainWait, 10*time.Second)
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

// Command is a user request from the menu or a notification's button.
type Command int

// The commands.
const (
	CmdStart Command = iota
	CmdStop
	CmdRestart
	// CmdTakeover stops the holder the status showed (Status.Takeover)
	// and starts Cairn in its place.
	CmdTakeover
	// CmdForceStop kills the tray's own child at once: the way out of a
	// child that does not respond.
	CmdForceStop
)

// next is what follows the stop, or the service manager's start, under
// way: the one "after stop" value.
type next int

const (
	thenNothing next = iota
	thenStart        // Restart: start again once stopped
	thenStop         // Stop came while the service manager started the daemon: stop it once it serves
)

// Supervisor runs the loop. All state lives in its one goroutine (Run);
// timers, probes, diagnoses, the child's exit, the event stream and the
// data dir watcher post events back to it. Nothing on that goroutine waits
// on a socket, a subprocess or a service manager.
type Supervisor struct {
	cfg    Config
	events chan event
	done   chan struct{}

	status    Status
	child     *child
	gen       int // bumps whenever probes, streams, looks and waits of the last daemon must stop
	cancelGen context.CancelFunc
	crashes   crashBook
	misses    int
	restart   pendingRestart
	quitting  bool
	then      next
	// looking: a diagnosis is under way; lookAgain: the data dir changed
	// meanwhile, so look once more when it is back.
	looking, lookAgain bool
	// missedChange: the data dir changed while the tray followed nothing
	// (its own stop under way); the stop ends with a look.
	missedChange bool
	lookGen      int // the gen of the latest look
	// stopSeen: the watched daemon's event stream announced a clean
	// shutdown (draining, stopping), so its end is a stop, not a death.
	stopSeen   bool
	drainUntil time.Time
	tookOver   string // what a take over did, told with the Running that follows
	// takeoverFailed is why the last take over failed, told with the
	// conflict status that follows.
	takeoverFailed string
	// parked is the idle status (Stopped, Crashed, Failed) that a conflict
	// found while Cairn was not meant to run is shown over: when the
	// holder leaves, the tray goes back to it instead of starting Cairn.
	// Any status other than a conflict or a hung holder ends it (set).
	parked *Status
	// idleHung is the lock holder an idle look last found not answering:
	// shown only if the next look still finds it so, since a daemon that
	// is starting holds the lock a moment before it serves.
	idleHung   int
	settleCode int   // the exit code of our child that a toSettle look is for
	serviceErr error // how the service manager's start ended, for the toService look
}

type event interface{}

type (
	evCommand struct{ cmd Command }
	evSync    struct{ done chan struct{} } // tests: everything before it was handled
	evQuit    struct{}
)

// New returns a supervisor; Run starts it.
func New(cfg Config) *Supervisor {
	cfg.defaults()
	return &Supervisor{cfg: cfg, events: make(chan event, 64), done: make(chan struct{}),
		status: Status{State: Starting, Port: cfg.Port}, crashes: crashBook{limit: cfg.CrashLimit, window: cfg.CrashWindow}}
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
	wctx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	s.watchDataDir(wctx)
	s.armIdleLook()
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
	case evLooked:
		s.looked(ctx, ev)
	case evChanged:
		s.changed(ctx)
	case evLookAgain:
		if ev.gen == s.gen && !s.quitting && s.following() {
			s.look(ctx, toFollow)
		}
	case evChildExit:
		s.childExited(ctx, ev.proc)
	case evReady:
		s.ready(ctx, ev)
	case evEscalate:
		s.escalate(ev)
	case evRestart:
		if ev.gen == s.restart.gen && s.child == nil && !s.quitting {
			s.spawn(ctx)
		}
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
	case evStopping:
		if ev.gen == s.gen {
			s.stopSeen = true
			s.drainUntil = s.cfg.Clock.Now().Add(s.cfg.DrainWait)
		}
	case evStreamEnded:
		if ev.gen == s.gen {
			s.streamEnded(ctx)
		}
	case evServiceDone:
		if ev.gen == s.gen && !s.quitting {
			s.serviceDone(ctx, ev.err)
		}
	case evIdleLook:
		if !s.quitting {
			if s.status.Idle() && s.following() {
				s.look(ctx, toFollow)
			}
			s.armIdleLook()
		}
	case evRecheck:
		if ev.gen == s.gen && !s.quitting && s.child == nil && (s.status.State == Conflict || s.status.State == NotResponding) {
			// The same look as Start: a freed port starts Cairn, an
			// unchanged conflict re-arms the recheck without a new status.
			s.look(ctx, toStart)
		}
	case evAdoptedStop:
		s.adoptedStopped(ctx, ev.err)
	case evTakenOver:
		if ev.gen == s.gen && !s.quitting {
			s.takenOver(ctx, ev)
		}
	}
}

func (s *Supervisor) command(ctx context.Context, cmd Command) {
	if s.quitting {
		return
	}
	st := s.status.State
	switch cmd {
	case CmdStart:
		if s.child != nil || st == Running || st == Stopping || st == TakingOver {
			return
		}
		// A look under way (the watcher's) is voided by start's own.
		s.crashes.reset()
		s.status.Crashes = 0
		s.restart.cancel()
		s.start(ctx)
	case CmdStop:
		s.restart.cancel()
		switch {
		case s.child != nil:
			s.stopChild()
		case st == Running || st == NotResponding:
			s.stopAdopted()
		case st == Starting && s.status.ManagedBy != "":
			s.then = thenStop
			s.setState(Stopping, "")
		case st == TakingOver:
			// The engine is already stopping the holder; what is left is
			// not to start Cairn after it.
			s.then = thenStop
		default:
			s.stopGen() // a diagnosis under way must not start anything
			s.setState(Stopped, "")
		}
	case CmdRestart:
		s.crashes.reset()
		s.status.Crashes = 0
		s.restart.cancel()
		switch {
		case s.child != nil:
			s.then = thenStart
			s.stopChild()
		case isServiceManager(s.status.ManagedBy) && (st == Running || st == NotResponding):
			// Stopping it ourselves and starting a child would leave the
			// service manager to fight us for the port: let it restart
			// its own daemon.
			s.throughService(ctx, "restart", s.status.ManagedBy, s.cfg.Daemon.RestartService)
		case st == Running || st == NotResponding:
			s.then = thenStart
			s.stopAdopted()
		case st == Stopping || st == TakingOver:
		default:
			s.start(ctx)
		}
	case CmdTakeover:
		s.takeover(ctx)
	case CmdForceStop:
		if s.child != nil {
			s.cfg.Log.Warn("force stop: killing the daemon", "pid", s.child.proc.PID())
			s.restart.cancel()
			s.child.stopping = true
			s.stopGen()
			s.setState(Stopping, fmt.Sprintf("Force stop: killed PID %d.", s.child.proc.PID()))
			s.child.proc.Kill()
		}
	}
}

// start is Start from the menu (and a restart's second half, and the
// launch): the machine is looked at off the loop, then looked acts on it.
func (s *Supervisor) start(ctx context.Context) {
	s.stopGen()
	if s.status.State != Starting || s.status.PID != 0 {
		s.set(func(st *Status) {
			*st = Status{State: Starting, Crashes: st.Crashes, Message: st.Message}
		})
	}
	s.look(ctx, toStart)
}

func (s *Supervisor) quit() {
	s.quitting = true
	s.restart.cancel()
	if s.child != nil && !s.child.stopping {
		s.stopChild()
	}
}

// stopGen ends the probes, stream, looks and waits of the previous daemon.
func (s *Supervisor) stopGen() {
	s.gen++
	s.stopSeen = false
	if s.cancelGen != nil {
		s.cancelGen()
		s.cancelGen = nil
	}
}

func (s *Supervisor) setState(state State, msg string) {
	s.set(func(st *Status) {
		st.State, st.Message, st.RestartedAfterCrash, st.TookOver, st.TakeoverFailed = state, msg, false, "", ""
		if state == Stopped {
			st.PID, st.Addr, st.Owned, st.ManagedBy, st.Holder, st.HolderPID, st.Takeover = 0, "", false, "", "", 0, nil
		}
	})
}

func (s *Supervisor) set(f func(*Status)) {
	f(&s.status)
	// Parking lasts as long as the conflict (or hung holder) it is shown
	// for: any other status ends it (Start, Stop, Restart and a take over
	// that runs each set one, as does a daemon adopted, or unpark), and
	// the status says whether it is parked.
	if st := s.status.State; st != Conflict && st != NotResponding {
		s.parked = nil
	}
	s.status.Parked = s.parked != nil
	s.status.Port = s.cfg.Port
	s.cfg.OnChange(s.status)
}
