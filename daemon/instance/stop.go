package instance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/poll"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/service"
)

// StopOptions configure Stop.
type StopOptions struct {
	Timeout time.Duration // per step; 10 s when zero
	Force   bool          // escalate to SIGKILL (TerminateProcess) after Timeout
	// ExpectPID, when set, is the daemon the caller confirmed (a takeover):
	// any other daemon found in its place is left alone.
	ExpectPID int
	// Services, when set, is asked whether a service runs the daemon; one
	// that does is stopped through its manager, which would respawn a
	// daemon that is only signalled.
	Services Services
}

// StopResult says what Stop did.
type StopResult struct {
	WasRunning bool   `json:"was_running"`
	PID        int    `json:"pid,omitempty"`
	Method     string `json:"method,omitempty"` // api, signal, kill, service
	// Service is the unit the daemon was stopped through (Method service).
	Service *service.Unit `json:"service,omitempty"`
	Cleaned bool          `json:"cleaned,omitempty"` // stale lock or discovery files removed
}

// ErrStillRunning means the daemon outlived the timeout and Force was off.
var ErrStillRunning = errors.New("the daemon is still running")

// Stop shuts the data dir's daemon down: through the API with the token when
// it answers, else by signalling the lock holder after checking that it is a
// Cairn daemon of this user. It waits for the process to exit and the lock
// to be released.
func Stop(ctx context.Context, p paths.Paths, opts StopOptions) (StopResult, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	var res StopResult
	if opts.Services != nil {
		if res, ok, err := stopThroughService(ctx, p, opts); ok {
			return res, err
		}
	}

	if c, err := client.Discover(p); err == nil && c.Proven() {
		hctx, cancel := context.WithTimeout(ctx, client.ProbeTimeout)
		h, herr := c.Health(hctx)
		cancel()
		if herr == nil && opts.ExpectPID != 0 && h.PID != opts.ExpectPID {
			c.CloseIdle()
			return res, fmt.Errorf("%w: the daemon is now PID %d, not the PID %d you confirmed; nothing was stopped", ErrHolderChanged, h.PID, opts.ExpectPID)
		}
		if herr == nil {
			sctx, cancel := context.WithTimeout(ctx, opts.Timeout)
			serr := c.Shutdown(sctx)
			cancel()
			c.CloseIdle()
			if serr == nil {
				res = StopResult{WasRunning: true, PID: h.PID, Method: "api"}
				if waitGone(ctx, p, h.PID, opts.Timeout) {
					return res, nil
				}
				// Accepted but not gone in time (a hung drain): fall through
				// to signals, which re-check what the holder is.
			}
		}
	}

	pid, recErr := lock.ReadRecord(p.Lock)
	held, _ := lock.Probe(p.Lock)
	if !held || recErr != nil {
		if held {
			return res, fmt.Errorf("the daemon lock %s is held but names no PID (%v); run 'cairn doctor'", p.Lock, recErr)
		}
		res.Cleaned = CleanStale(p)
		return res, nil
	}
	holder, err := proc.Lookup(ctx, pid)
	if err != nil {
		res.Cleaned = CleanStale(p)
		return res, nil
	}
	if err := proc.MaySignal(holder, true); err != nil {
		return res, err
	}
	if opts.ExpectPID != 0 && holder.PID != opts.ExpectPID {
		return res, fmt.Errorf("%w: the lock is now held by %s, not the PID %d you confirmed; nothing was stopped", ErrHolderChanged, holder, opts.ExpectPID)
	}
	if err := confirmLockHolder(ctx, p, holder); err != nil {
		return res, fmt.Errorf("%v; not stopping it (run 'cairn doctor')", err)
	}
	res.WasRunning, res.PID = true, pid
	if res.Method == "" {
		res.Method = "signal"
		if err := proc.Terminate(holder.PID); err == nil && waitGone(ctx, p, pid, opts.Timeout) {
			res.Cleaned = CleanStale(p)
			return res, nil
		}
	}
	if !opts.Force {
		return res, fmt.Errorf("%w: %s did not exit within %s; run 'cairn stop --force' to kill it", ErrStillRunning, holder, opts.Timeout)
	}
	if !proc.Same(ctx, holder) {
		res.Cleaned = CleanStale(p)
		return res, nil
	}
	res.Method = "kill"
	if err := proc.Kill(holder.PID); err != nil {
		return res, fmt.Errorf("kill %s: %w", holder, err)
	}
	if !waitGone(ctx, p, pid, opts.Timeout) {
		return res, fmt.Errorf("%w: %s survived a kill", ErrStillRunning, holder)
	}
	res.Cleaned = CleanStale(p)
	return res, nil
}

// stopThroughService stops the daemon through the user service that runs
// it. ok is false when no such service runs it (then Stop goes on as for
// any daemon).
func stopThroughService(ctx context.Context, p paths.Paths, opts StopOptions) (res StopResult, ok bool, err error) {
	h, _, err := client.Probe(ctx, p)
	pid, healthy := h.PID, err == nil
	if !healthy {
		if held, _ := lock.Probe(p.Lock); !held {
			return res, false, nil
		}
		rec, err := lock.ReadRecord(p.Lock)
		holder, _ := proc.Lookup(ctx, rec)
		if err != nil || !holder.IsCairnDaemon() {
			return res, false, nil
		}
		// A record naming another data dir's daemon would otherwise get
		// that daemon's unit stopped; Stop's own checks then refuse it.
		if confirmLockHolder(ctx, p, holder) != nil {
			return res, false, nil
		}
		pid = rec
	}
	u, err := opts.Services.ServiceOf(ctx, pid)
	if err != nil || u == nil || u.Name == "" || u.System {
		return res, false, nil
	}
	res = StopResult{WasRunning: true, PID: pid, Method: "service", Service: u}
	if err := opts.Services.StopUnit(ctx, *u); err != nil {
		return res, true, fmt.Errorf("stop the %s: %w", u, err)
	}
	if !waitGone(ctx, p, pid, opts.Timeout) {
		return res, true, fmt.Errorf("%w: PID %d still runs after the %s was stopped", ErrStillRunning, pid, u)
	}
	res.Cleaned = CleanStale(p)
	return res, true, nil
}

// waitGone waits until pid has exited and the lock is free.
func waitGone(ctx context.Context, p paths.Paths, pid int, timeout time.Duration) bool {
	return poll.Until(ctx, timeout, func() bool {
		if proc.Alive(ctx, pid) {
			return false
		}
		held, _ := lock.Probe(p.Lock)
		if !held {
			return true
		}
		// A successor holds it (a client that starts Cairn whenever none
		// answers won the lock the moment pid let go): pid is gone all the
		// same. Waiting for a free lock waited out the whole timeout, and
		// the fallback then met the successor.
		rec, err := lock.ReadRecord(p.Lock)
		return err == nil && rec != pid
	})
}

// CleanStale removes the files a dead daemon left behind: the discovery
// files and the lock. It takes the lock first, so it cannot race a daemon
// that is starting; if the lock is held, a live daemon owns those files and
// nothing is removed. It reports whether it removed anything.
func CleanStale(p paths.Paths) bool {
	_, lockErr := os.Stat(p.Lock)
	lk, err := lock.Acquire(p.Lock, os.Getpid())
	if err != nil {
		return false
	}
	cleaned := lockErr == nil
	for _, f := range p.AddrFiles() {
		if _, err := os.Stat(f); err == nil && os.Remove(f) == nil {
			cleaned = true
		}
	}
	lk.Release()
	return cleaned
}
