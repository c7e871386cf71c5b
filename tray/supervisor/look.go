package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// Looks: a diagnosis run off the loop, and what its result leads to (act
// when Cairn should run, follow when the outside world changed, settle
// after our child exited by itself).

// why a look was asked for, which decides what its result leads to.
type why int

const (
	toStart   why = iota // launch, Start, a recheck, after a take over: adopt, else start Cairn
	toFollow             // the outside world changed, or the watched daemon went away
	toSettle             // our child exited by itself with code 0, 3 or 4
	toService            // the service manager's start or restart is over
)

// look is what a diagnosis found, with the answers that need I/O of their
// own.
type look struct {
	d         instance.Diagnosis
	managedBy string // who started a running daemon (its /v1/status)
	service   string // the manager of an installed Cairn service, when nothing runs
	cleaned   bool   // a dead daemon's stale files were removed (under the lock)
}

type (
	evLooked struct {
		gen  int
		why  why
		look look
	}
	evLookAgain struct{ gen int } // a daemon drains: look once it has had a moment
	evRecheck   struct{ gen int } // look again at a conflict or a wedged holder
	evIdleLook  struct{}          // nothing runs: look at the port now and then
)

// look diagnoses the machine in a goroutine and posts what it found; a
// change of gen meanwhile voids the result.
func (s *Supervisor) look(ctx context.Context, w why) {
	s.looking, s.lookGen = true, s.gen
	gen := s.gen
	// Stale files are cleaned, and an installed service looked for, only
	// where nothing running means Cairn is started next: cleaning takes
	// the lock for a moment, and a daemon a terminal is starting just then
	// would find it held; the service's status asks systemctl, which an
	// idle tray's look every few seconds has no use for.
	mayStart := w == toStart && s.parked == nil || w == toFollow && s.startsWhenGone()
	go func() {
		var l look
		l.d = s.cfg.Daemon.Diagnose(ctx, s.cfg.Port)
		switch l.d.State {
		case instance.StateRunning:
			l.managedBy = s.cfg.Daemon.ManagedBy(ctx)
		case instance.StateStopped:
			if mayStart {
				l.cleaned = s.cfg.Daemon.CleanStale()
				if m, ok := s.cfg.Daemon.ServiceInstalled(ctx); ok {
					l.service = m
				}
			}
		}
		s.post(evLooked{gen, w, l})
	}()
}

func (s *Supervisor) looked(ctx context.Context, ev evLooked) {
	if ev.gen == s.lookGen {
		s.looking = false // the latest look is back, moot or not
	}
	if ev.gen != s.gen {
		return // a newer decision made this look moot
	}
	if s.quitting {
		return
	}
	if ev.look.cleaned {
		s.cfg.Log.Info("removed stale lock and discovery files of a dead daemon")
	}
	again := s.lookAgain
	s.lookAgain = false
	switch ev.why {
	case toStart:
		s.act(ctx, ev.look)
	case toFollow:
		s.follow(ctx, ev.look)
	case toSettle:
		s.settle(ctx, ev.look)
	case toService:
		s.serviceLooked(ctx, ev.look)
	}
	if again && s.following() && !s.looking {
		s.look(ctx, toFollow)
	}
}

// act does what a look calls for when Cairn should run: adopt a healthy
// daemon, start an installed service or spawn our own, or show who is in
// the way.
func (s *Supervisor) act(ctx context.Context, l look) {
	d := l.d
	defer func() { s.takeoverFailed = "" }() // told with the status this leads to, or moot
	switch d.State {
	case instance.StateRunning:
		s.adopt(ctx, l)
	case instance.StateStopped:
		if s.parked != nil {
			s.unpark()
			return
		}
		if l.service != "" {
			s.throughService(ctx, "start", l.service, s.cfg.Daemon.StartService)
			return
		}
		s.spawn(ctx)
	case instance.StateNotResponding:
		s.notResponding(d)
	default:
		s.conflict(d)
	}
}

// startsWhenGone reports whether the current state starts Cairn when a
// look finds nothing running: an adopted daemon that may have died, or a
// holder in the way that may have left.
func (s *Supervisor) startsWhenGone() bool {
	st := s.status
	return (st.State == Conflict || st.State == NotResponding) && s.parked == nil || st.State == Running && !st.Owned
}

// armIdleLook asks for the next idle look. It runs for the tray's life;
// each one looks only when the tray is idle.
func (s *Supervisor) armIdleLook() {
	s.cfg.Clock.AfterFunc(s.cfg.IdleInterval, func() { s.post(evIdleLook{}) })
}

// unpark goes back to the idle status a conflict was shown over: its
// holder left, and nothing was meant to run.
func (s *Supervisor) unpark() {
	st := *s.parked
	s.stopGen()
	s.cfg.Log.Info("the holder of the port left; nothing was meant to run", "back_to", st.State)
	s.set(func(cur *Status) { *cur = st })
}

// following reports whether a change in the data dir is worth a look now:
// not while the tray's own child starts, runs or stops, nor while a look,
// a stop or a take over is under way.
func (s *Supervisor) following() bool {
	if s.child != nil || s.looking {
		return false
	}
	switch s.status.State {
	case Stopped, Crashed, Failed, Conflict, NotResponding:
		return true
	case Running:
		return !s.status.Owned
	}
	return false
}

// changed: the discovery file or the lock changed (a daemon started or
// stopped from a terminal, a take over elsewhere).
func (s *Supervisor) changed(ctx context.Context) {
	if s.quitting {
		return
	}
	if s.status.State == Stopping {
		s.missedChange = true // followed when the stop ends (stopped)
	}
	if s.looking {
		s.lookAgain = true
		return
	}
	if s.following() {
		s.look(ctx, toFollow)
	}
}

// follow acts on a look after the outside world changed.
func (s *Supervisor) follow(ctx context.Context, l look) {
	d, st := l.d, s.status
	if d.State != instance.StateNotResponding {
		s.idleHung = 0
	}
	// (A parked NotResponding names the lock's holder, but was never
	// adopted: its end is the holder leaving.)
	adopted := (st.State == Running || st.State == NotResponding) && !st.Owned && st.PID != 0 && s.parked == nil
	switch d.State {
	case instance.StateRunning:
		if adopted && st.State == Running && d.Daemon != nil && d.Daemon.PID == st.PID {
			// The same daemon: only its stream broke. Open it again after
			// a moment, so a stream that keeps failing is no busy loop.
			s.watchAfter(ctx, time.Second)
			return
		}
		s.adopt(ctx, l)
	case instance.StateStopped:
		switch {
		case adopted && (s.stopSeen || !l.cleaned):
			// It announced its shutdown, or it removed its own files:
			// stopped from outside, which is respected.
			s.stopGen()
			s.cfg.Log.Info("the adopted daemon was stopped outside the tray", "pid", st.PID)
			s.setState(Stopped, "The daemon was stopped outside the tray.")
		case adopted:
			// Its files were left behind (and are now cleaned): it died.
			s.adoptedDied(ctx, l)
		case st.State == Conflict || st.State == NotResponding:
			s.act(ctx, l) // the holder left: start Cairn
		}
	default:
		if adopted && s.stopSeen && s.cfg.Clock.Now().Before(s.drainUntil) {
			// It said it is shutting down and still holds the lock while it
			// drains and exits (which reads as not responding, or as a
			// lock held by a process on its way out): that is no hang and
			// no conflict. The watcher fires when its files go; look again
			// shortly in case that was missed.
			gen := s.gen
			s.cfg.Clock.AfterFunc(100*time.Millisecond, func() { s.post(evLookAgain{gen}) })
			return
		}
		if st.Idle() {
			// Nothing is meant to run, yet something holding the port or
			// the lock is news: the menu shows who, as `cairn status`
			// does, and goes back to this status when it leaves (found
			// by the soak: a squatter behind "Stopped" and behind
			// "Crashed 5 times — gave up").
			if d.State == instance.StateNotResponding && d.Lock.PID != s.idleHung {
				// A daemon a terminal starts holds the lock a moment
				// before it serves: not answering is news only when
				// the next look finds the same holder still silent.
				s.idleHung = d.Lock.PID
				return
			}
			parked := st
			s.parked = &parked
		}
		if adopted || st.State == Conflict || st.State == NotResponding || s.parked != nil {
			s.act(ctx, l)
		}
	}
}

// settle acts on a look after our child exited by itself.
func (s *Supervisor) settle(ctx context.Context, l look) {
	switch l.d.State {
	case instance.StateRunning:
		s.adopt(ctx, l)
	case instance.StateStopped:
		if s.settleCode == 0 {
			s.setState(Stopped, "The daemon was stopped outside the tray.")
			return
		}
		s.conflict(l.d) // the holder left in the meantime; the recheck starts Cairn
	default:
		s.act(ctx, l)
	}
}

// adoptedDied: a daemon the tray adopted ended without a clean shutdown.
// It is treated like our own child's crash: noted, and restarted as our
// child with the backoff, unless a service manager runs it, which then
// restarts it and is waited for.
func (s *Supervisor) adoptedDied(ctx context.Context, l look) {
	st := s.status
	s.stopGen()
	lines := []string{fmt.Sprintf("The daemon (PID %d) ended without shutting down (it was killed or crashed).", st.PID)}
	lines = append(lines, lastWords(s.cfg.Daemon.LastLines(st.PID, 10))...)
	msg := joinLines(lines)
	s.cfg.Log.Error("the adopted daemon died", "pid", st.PID, "managed_by", st.ManagedBy, "stale_cleaned", l.cleaned)
	if isServiceManager(st.ManagedBy) {
		recent := s.crashes.record(s.cfg.Clock.Now(), st.StartedAt)
		s.throughService(ctx, "restart", st.ManagedBy, func(context.Context) error { return nil })
		s.set(func(st *Status) { st.Crashes, st.Message = recent, msg })
		return
	}
	s.crashed(st.StartedAt, msg, s.cfg.Daemon.OutputFile())
}

func (s *Supervisor) adopt(ctx context.Context, l look) {
	d := l.d
	s.stopGen()
	started := s.cfg.Clock.Now().Add(-time.Duration(d.Daemon.Uptime * float64(time.Second)))
	restarted := s.status.State == Starting && s.status.Crashes > 0
	tookOver := s.tookOver
	s.tookOver = ""
	s.cfg.Log.Info("adopted a running daemon", "pid", d.Daemon.PID, "addr", d.Addr, "managed_by", l.managedBy)
	s.set(func(st *Status) {
		crashes, msg := 0, ""
		if restarted {
			crashes, msg = st.Crashes, st.Message
		}
		*st = Status{State: Running, PID: d.Daemon.PID, Addr: d.Addr, StartedAt: started, ManagedBy: l.managedBy,
			Crashes: crashes, Message: msg, RestartedAfterCrash: restarted, TookOver: tookOver}
	})
	s.watch(ctx)
}

func (s *Supervisor) notResponding(d instance.Diagnosis) {
	s.stopGen()
	failed := s.takeoverFailed
	s.set(func(st *Status) {
		*st = Status{State: NotResponding, PID: d.Lock.PID, Holder: d.Lock.Holder.String(), HolderPID: d.Lock.PID,
			Message: "A Cairn daemon holds the lock but does not answer.", NoTakeover: noTakeoverReason(d), Takeover: shownHolder(d),
			TakeoverFailed: failed}
	})
	s.armRecheck()
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
	noTakeover, failed := noTakeoverReason(d), s.takeoverFailed
	if s.status.State != Conflict || s.status.Holder != holder || s.status.HolderPID != pid || s.status.NoTakeover != noTakeover ||
		!sameHolder(s.status.Takeover, shownHolder(d)) || failed != "" || s.status.TakeoverFailed != "" {
		s.cfg.Log.Warn("conflict", "port", s.cfg.Port, "holder", holder, "no_takeover", noTakeover)
		s.set(func(st *Status) {
			*st = Status{State: Conflict, Holder: holder, HolderPID: pid, NoTakeover: noTakeover, Takeover: shownHolder(d), TakeoverFailed: failed}
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
// someone else holds the port or lock: a foreign program that quits
// changes nothing in the data dir for the watcher to see, and Cairn should
// start without the user having to ask.
func (s *Supervisor) armRecheck() {
	gen := s.gen
	s.cfg.Clock.AfterFunc(s.cfg.ProbeInterval, func() { s.post(evRecheck{gen}) })
}
