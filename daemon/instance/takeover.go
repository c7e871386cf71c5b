package instance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/poll"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/service"
)

// Holder kinds: what stands between us and a serving daemon of our own.
const (
	HolderNone        = "none"          // nothing: just start
	HolderStale       = "stale"         // files of a dead daemon: clean them
	HolderCairn       = "cairn"         // a healthy Cairn daemon we did not start: adopt or take over
	HolderWedged      = "cairn_wedged"  // a Cairn daemon that holds the lock but does not answer: kill it
	HolderService     = "cairn_service" // a Cairn daemon a service manager runs: stop it through the manager
	HolderForeign     = "foreign"       // another program on the port: SIGTERM, then SIGKILL
	HolderUntouchable = "untouchable"   // another user's, the system's, or unknown: no takeover
)

// Holder is the classification of a diagnosis.
type Holder struct {
	Kind string `json:"kind"`
	// Processes is what a takeover would stop. For a Cairn daemon (healthy,
	// wedged or service-run) the first is the daemon; any others listen on
	// the requested port when the daemon serves on another one.
	Processes []*proc.Process `json:"processes,omitempty"`
	Reason    string          `json:"reason"`
	// Service runs the holder, for HolderService (and for an untouchable
	// holder that a system service or an unconfirmed manager runs).
	Service *service.Unit `json:"service,omitempty"`
}

// CanTakeOver reports whether a takeover is offered for this holder.
func (h Holder) CanTakeOver() bool {
	return h.Kind == HolderCairn || h.Kind == HolderWedged || h.Kind == HolderForeign || h.Kind == HolderStale || h.Kind == HolderService
}

// Classify says who holds the port or lock in d and whether we may stop it.
// Everything in Processes must be stoppable, or the holder is untouchable:
// a takeover stops all of it or nothing.
func Classify(d Diagnosis) Holder {
	switch d.State {
	case StateRunning:
		if d.Lock.Unconfirmed != "" {
			return Holder{Kind: HolderUntouchable, Reason: d.Lock.Unconfirmed + "; Cairn stops nothing it cannot identify (run `cairn doctor`)"}
		}
		p := &proc.Process{PID: d.Daemon.PID, Name: "cairn"}
		if d.Lock.Holder != nil && d.Lock.Holder.PID == d.Daemon.PID {
			p = d.Lock.Holder
		}
		if d.Service != nil {
			return withPortListeners(d, serviceHolder(d, p, fmt.Sprintf("a Cairn daemon (%s) serves at %s", p, d.Addr)))
		}
		return withPortListeners(d, Holder{Kind: HolderCairn, Processes: []*proc.Process{p},
			Reason: fmt.Sprintf("a Cairn daemon (%s) already serves at %s", p, d.Addr)})
	case StateNotResponding:
		if d.Service != nil {
			return withPortListeners(d, serviceHolder(d, d.Lock.Holder, fmt.Sprintf("the Cairn daemon %s holds the lock but does not answer", d.Lock.Holder)))
		}
		h := Holder{Kind: HolderWedged, Processes: []*proc.Process{d.Lock.Holder},
			Reason: fmt.Sprintf("the Cairn daemon %s holds the lock but does not answer", d.Lock.Holder)}
		if err := proc.MaySignal(d.Lock.Holder, true); err != nil {
			h.Kind, h.Reason = HolderUntouchable, err.Error()
		}
		return withPortListeners(d, h)
	case StateConflict:
		procs, refused := listenerProcesses(d.Port, d.PortHolders)
		if refused != nil {
			return *refused
		}
		if len(procs) == 0 && d.Lock.Held {
			// The lock, not the port: held by something that is not a
			// Cairn daemon of this data dir. Nothing is signalled.
			if d.Lock.Unconfirmed != "" {
				return Holder{Kind: HolderUntouchable, Reason: d.Lock.Unconfirmed + "; Cairn signals no process it cannot identify: stop the holder by hand"}
			}
			return Holder{Kind: HolderUntouchable, Reason: fmt.Sprintf(
				"the daemon lock %s is held by %s, which is not a Cairn daemon; stop it by hand", d.Lock.Path, d.Lock.Holder)}
		}
		return Holder{Kind: HolderForeign, Processes: procs,
			Reason: fmt.Sprintf("port %d is in use by %s", d.Port, proc.DescribeHolders(d.PortHolders))}
	}
	if d.Lock.Exists || anyDiscovery(d) {
		return Holder{Kind: HolderStale, Reason: "files left by a daemon that is gone"}
	}
	return Holder{Kind: HolderNone, Reason: "nothing holds the port or the lock"}
}

// listenerProcesses identifies the listeners ls on port and checks that each
// may be signalled; refused is the untouchable holder when one may not.
func listenerProcesses(port int, ls []proc.Listener) (procs []*proc.Process, refused *Holder) {
	seen := map[int]bool{}
	for _, l := range ls {
		if seen[l.PID] {
			continue
		}
		seen[l.PID] = true
		if l.Process == nil {
			return nil, &Holder{Kind: HolderUntouchable, Reason: fmt.Sprintf(
				"port %d is held by a process this user cannot see (another user's or the system's); stop it as its owner or use --port", port)}
		}
		if err := proc.MaySignal(l.Process, false); err != nil {
			return nil, &Holder{Kind: HolderUntouchable, Reason: err.Error() + "; use --port to run Cairn on another port"}
		}
		procs = append(procs, l.Process)
	}
	return procs, nil
}

// withPortListeners adds to h, a Cairn daemon's holder, the other listeners
// on the requested port: with `takeover --port X` while the daemon serves on
// another port, X must be freed too, and if what holds X may not be stopped,
// nothing is (stopping the daemon first would leave the user with no Cairn).
func withPortListeners(d Diagnosis, h Holder) Holder {
	if h.Kind == HolderUntouchable || len(h.Processes) == 0 || h.Processes[0] == nil {
		return h
	}
	others := proc.OtherListeners(d.PortHolders, h.Processes[0].PID)
	if len(others) == 0 {
		return h
	}
	procs, refused := listenerProcesses(d.Port, others)
	if refused != nil {
		refused.Reason = fmt.Sprintf("%s; nothing was stopped (%s keeps running)", refused.Reason, h.Processes[0])
		return *refused
	}
	h.Processes = append(h.Processes, procs...)
	h.Reason += fmt.Sprintf(", and port %d is in use by %s", d.Port, proc.DescribeHolders(others))
	return h
}

// serviceHolder classifies a daemon that a service manager runs: takeover
// goes through the manager, or is not offered when the manager is not ours
// to command (a system unit) or could not name the unit.
func serviceHolder(d Diagnosis, p *proc.Process, what string) Holder {
	u := *d.Service
	h := Holder{Kind: HolderService, Processes: []*proc.Process{p}, Service: &u}
	switch {
	case u.Name == "":
		h.Kind = HolderUntouchable
		h.Reason = fmt.Sprintf("%s; it says %s started it, but %s could not be asked which service runs it, "+
			"and stopping it any other way would get it respawned: stop it with %s (or `cairn stop` if nothing respawns it)",
			what, u.Manager, u.Manager, u.StopCommand())
	case u.System:
		h.Kind = HolderUntouchable
		h.Reason = fmt.Sprintf("%s, run by the %s; only root can stop it: %s", what, u, u.StopCommand())
	default:
		h.Reason = fmt.Sprintf("%s, run by the %s (takeover stops it through %s so that it is not respawned)", what, u, u.Manager)
	}
	return h
}

func anyDiscovery(d Diagnosis) bool {
	for _, f := range d.Discovery {
		if f.Exists {
			return true
		}
	}
	return false
}

// TakeoverOptions configure Takeover.
type TakeoverOptions struct {
	Grace time.Duration                 // SIGTERM to SIGKILL; 5 s when zero
	Log   func(msg string, args ...any) // every step, for the tray log
	// Services is the service manager a service-run daemon is stopped
	// through; the OS's own (DefaultServices) when nil.
	Services Services
	// Expect is the holder the user was shown and confirmed (`cairn
	// takeover`'s question, the tray's "Take over …" item). Takeover
	// diagnoses again and refuses with ErrHolderChanged, stopping nothing,
	// when what it finds now is another holder: the user agreed to stop
	// that one, not whatever holds the port a moment later. A process with
	// a zero CreateTime matches by PID alone, and an empty Kind matches any
	// kind (the tray's not-responding daemon, of which the menu showed
	// only the PID). Nil acts on whatever the fresh diagnosis finds; every
	// caller in this tree shows the user a holder first and passes it.
	Expect *Holder
}

// ErrHolderChanged means the holder found when acting is not the one the
// user confirmed; nothing was stopped.
var ErrHolderChanged = errors.New("the holder changed since it was confirmed")

// Takeover clears the way for our own daemon: it drains a healthy Cairn
// daemon through the API, stops one that a service manager runs through
// that manager (killing it would get it respawned), kills a wedged one,
// stops a foreign listener (SIGTERM, then SIGKILL after Grace), or cleans
// stale files. It checks that it may stop everything in the way before it
// stops anything. Identity is PID plus start time, re-checked before every
// signal. It returns what it did, in a sentence.
func Takeover(ctx context.Context, p paths.Paths, port int, opts TakeoverOptions) (string, error) {
	if opts.Grace == 0 {
		opts.Grace = 5 * time.Second
	}
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if opts.Services == nil {
		opts.Services = DefaultServices()
	}
	d := DiagnoseWith(ctx, p, port, DiagnoseOptions{Services: opts.Services})
	h := Classify(d)
	logf("takeover: classified", "kind", h.Kind, "reason", h.Reason)
	if opts.Expect != nil {
		if err := checkExpected(*opts.Expect, h); err != nil {
			logf("takeover: refused", "err", err)
			return "", err
		}
	}
	if err := mayStopAll(h); err != nil {
		logf("takeover: refused", "err", err)
		return "", err
	}
	switch h.Kind {
	case HolderNone:
		return "Nothing held the port.", nil
	case HolderStale:
		CleanStale(p)
		logf("takeover: cleaned stale files")
		return "Removed the files of a daemon that was gone.", nil
	case HolderCairn:
		// Drains in-flight requests, so no acknowledged write is lost.
		res, err := Stop(ctx, p, StopOptions{Timeout: 2 * opts.Grace, Force: true, ExpectPID: h.Processes[0].PID})
		logf("takeover: stopped Cairn daemon", "pid", res.PID, "method", res.Method, "err", err)
		if err != nil {
			return "", err
		}
		if err := stopListeners(ctx, port, h.Processes[1:], opts.Grace, logf); err != nil {
			return "", err
		}
		what := fmt.Sprintf("Stopped the Cairn daemon %s", h.Processes[0])
		if len(h.Processes) > 1 {
			what += ", and " + describeProcs(h.Processes[1:]) + fmt.Sprintf(" on port %d", port)
		}
		return what + ".", nil
	case HolderService:
		return takeOverService(ctx, p, port, h, opts, logf)
	case HolderWedged, HolderForeign:
		for _, proc := range h.Processes {
			if err := terminateThenKill(ctx, proc, opts.Grace, logf); err != nil {
				return "", err
			}
		}
		if h.Kind == HolderWedged {
			CleanStale(p)
		}
		if err := waitPortFree(ctx, port, opts.Grace); err != nil {
			return "", err
		}
		return fmt.Sprintf("Stopped %s.", describeProcs(h.Processes)), nil
	default:
		return "", errors.New(h.Reason)
	}
}

// checkExpected refuses a takeover whose holder is not the one confirmed.
// A holder that left by itself (nothing, or only its files) is no change
// that matters: nothing is signalled then.
func checkExpected(want, got Holder) error {
	if got.Kind == HolderNone || got.Kind == HolderStale {
		return nil
	}
	if (want.Kind == "" || want.Kind == got.Kind) && sameProcesses(want.Processes, got.Processes) {
		return nil
	}
	return fmt.Errorf("%w: it was %s, now it is %s; nothing was stopped: run `cairn takeover` again to see who holds it now",
		ErrHolderChanged, want.describe(), got.describe())
}

// sameProcesses reports whether want and got are the same processes, by PID
// and start time, in any order.
func sameProcesses(want, got []*proc.Process) bool {
	if len(want) != len(got) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if w != nil && g != nil && w.PID == g.PID && (w.CreateTime == 0 || w.CreateTime == g.CreateTime) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// describe names the holder for a message: its processes, else its reason.
func (h Holder) describe() string {
	if len(h.Processes) > 0 {
		return describeProcs(h.Processes)
	}
	if h.Reason != "" {
		return h.Reason
	}
	return h.Kind
}

// mayStopAll applies proc.MaySignal to every process the takeover would
// signal, before any is: a refusal halfway would leave the user with the
// daemon stopped and the port still blocked. A daemon drained through its
// API or stopped through its service manager is not signalled here (Stop
// checks it again before it ever signals).
func mayStopAll(h Holder) error {
	signalled := h.Processes
	switch h.Kind {
	case HolderCairn, HolderService:
		signalled = h.Processes[1:]
	case HolderWedged, HolderForeign:
	default:
		return nil
	}
	for _, p := range signalled {
		if err := proc.MaySignal(p, h.Kind == HolderWedged); err != nil {
			return fmt.Errorf("%w; nothing was stopped", err)
		}
	}
	return nil
}

// stopListeners stops the other listeners on the port that a takeover found
// beside the daemon, and waits for the port to be free.
func stopListeners(ctx context.Context, port int, ps []*proc.Process, grace time.Duration, logf func(string, ...any)) error {
	if len(ps) == 0 {
		return nil
	}
	for _, p := range ps {
		if err := terminateThenKill(ctx, p, grace, logf); err != nil {
			return err
		}
	}
	return waitPortFree(ctx, port, grace)
}

// takeOverService stops the holder's unit through its manager and waits until
// the daemon is gone, the lock released and the port free.
func takeOverService(ctx context.Context, p paths.Paths, port int, h Holder, opts TakeoverOptions, logf func(string, ...any)) (string, error) {
	u, proc := *h.Service, h.Processes[0]
	logf("takeover: stopping through the service manager", "unit", u.String(), "pid", proc.PID, "command", u.StopCommand())
	if err := opts.Services.StopUnit(ctx, u); err != nil {
		logf("takeover: the service manager failed", "unit", u.String(), "err", err)
		return "", fmt.Errorf("stop the %s: %w", u, err)
	}
	if !waitGone(ctx, p, proc.PID, 2*opts.Grace) {
		return "", fmt.Errorf("%s still runs after the %s was stopped", proc, u)
	}
	CleanStale(p) // a daemon killed at the manager's stop timeout leaves its files
	if err := stopListeners(ctx, port, h.Processes[1:], opts.Grace, logf); err != nil {
		return "", err
	}
	if err := waitPortFree(ctx, port, opts.Grace); err != nil {
		return "", err
	}
	logf("takeover: stopped through the service manager", "unit", u.String(), "pid", proc.PID)
	return fmt.Sprintf("Stopped the Cairn daemon %s through the %s, so it is not respawned.", proc, u), nil
}

func describeProcs(ps []*proc.Process) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s
}

// terminateThenKill sends SIGTERM, waits up to grace, then SIGKILL; before
// each signal it checks the PID still names the same process.
func terminateThenKill(ctx context.Context, p *proc.Process, grace time.Duration, logf func(string, ...any)) error {
	if !proc.Same(ctx, p) {
		logf("takeover: holder already gone", "pid", p.PID)
		return nil
	}
	logf("takeover: SIGTERM", "pid", p.PID, "name", p.Name)
	if err := proc.Terminate(p.PID); err != nil {
		logf("takeover: SIGTERM failed", "pid", p.PID, "err", err)
	}
	if waitExit(ctx, p, grace) {
		return nil
	}
	if !proc.Same(ctx, p) {
		return nil
	}
	logf("takeover: SIGKILL after grace", "pid", p.PID, "grace", grace)
	if err := proc.Kill(p.PID); err != nil {
		return fmt.Errorf("kill %s: %w", p, err)
	}
	if !waitExit(ctx, p, grace) {
		return fmt.Errorf("%s survived SIGKILL", p)
	}
	return nil
}

func waitExit(ctx context.Context, p *proc.Process, d time.Duration) bool {
	return poll.Until(ctx, d, func() bool { return !proc.Same(ctx, p) })
}

func waitPortFree(ctx context.Context, port int, d time.Duration) error {
	var ls []proc.Listener
	if poll.Until(ctx, d, func() bool {
		var err error
		ls, err = proc.Listeners(ctx, port)
		return err == nil && len(ls) == 0
	}) {
		return nil
	}
	return fmt.Errorf("port %d is still in use by %s", port, proc.DescribeHolders(ls))
}
