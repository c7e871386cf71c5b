package instance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnlabs/cairn/daemon/paths"
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
	Kind      string          `json:"kind"`
	Processes []*proc.Process `json:"processes,omitempty"` // what a takeover would stop
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
func Classify(d Diagnosis) Holder {
	switch d.State {
	case StateRunning:
		p := &proc.Process{PID: d.Daemon.PID, Name: "cairn"}
		if d.Lock.Holder != nil && d.Lock.Holder.PID == d.Daemon.PID {
			p = d.Lock.Holder
		}
		if d.Service != nil {
			return serviceHolder(d, p, fmt.Sprintf("a Cairn daemon (%s) serves at %s", p, d.Addr))
		}
		return Holder{Kind: HolderCairn, Processes: []*proc.Process{p},
			Reason: fmt.Sprintf("a Cairn daemon (%s) already serves at %s", p, d.Addr)}
	case StateNotResponding:
		if d.Service != nil {
			return serviceHolder(d, d.Lock.Holder, fmt.Sprintf("the Cairn daemon %s holds the lock but does not answer", d.Lock.Holder))
		}
		h := Holder{Kind: HolderWedged, Processes: []*proc.Process{d.Lock.Holder},
			Reason: fmt.Sprintf("the Cairn daemon %s holds the lock but does not answer", d.Lock.Holder)}
		if err := proc.MaySignal(d.Lock.Holder, true); err != nil {
			h.Kind, h.Reason = HolderUntouchable, err.Error()
		}
		return h
	case StateConflict:
		var procs []*proc.Process
		seen := map[int]bool{}
		for _, l := range d.PortHolders {
			if seen[l.PID] {
				continue
			}
			seen[l.PID] = true
			if l.Process == nil {
				return Holder{Kind: HolderUntouchable, Reason: fmt.Sprintf(
					"port %d is held by a process this user cannot see (another user's or the system's); stop it as its owner or use --port", d.Port)}
			}
			if err := proc.MaySignal(l.Process, false); err != nil {
				return Holder{Kind: HolderUntouchable, Reason: err.Error() + "; use --port to run Cairn on another port"}
			}
			procs = append(procs, l.Process)
		}
		if len(procs) == 0 && d.Lock.Held {
			// The lock, not the port: held by something that is not a
			// Cairn daemon. Who really holds an flock cannot be proven
			// from its record, so nothing is signalled.
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
}

// Takeover clears the way for our own daemon: it drains a healthy Cairn
// daemon through the API, stops one that a service manager runs through
// that manager (killing it would get it respawned), kills a wedged one,
// stops a foreign listener (SIGTERM, then SIGKILL after Grace), or cleans
// stale files. Identity is PID plus start time, re-checked before every
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
	switch h.Kind {
	case HolderNone:
		return "Nothing held the port.", nil
	case HolderStale:
		CleanStale(p)
		logf("takeover: cleaned stale files")
		return "Removed the files of a daemon that was gone.", nil
	case HolderCairn:
		// Drains in-flight requests, so no acknowledged write is lost.
		res, err := Stop(ctx, p, StopOptions{Timeout: 2 * opts.Grace, Force: true})
		logf("takeover: stopped Cairn daemon", "pid", res.PID, "method", res.Method, "err", err)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Stopped the Cairn daemon %s.", h.Processes[0]), nil
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
	deadline := time.Now().Add(d)
	delay := 2 * time.Millisecond
	for proc.Same(ctx, p) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(delay)
		delay = min(delay*2, 50*time.Millisecond)
	}
	return true
}

func waitPortFree(ctx context.Context, port int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		ls, err := proc.Listeners(ctx, port)
		if err == nil && len(ls) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d is still in use by %s", port, proc.DescribeHolders(ls))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
