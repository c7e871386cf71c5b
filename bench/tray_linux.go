package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/cairnlabs/cairn/internal/dbustest"
)

// trayBench runs the real cairn-tray against the real cairn on a private
// session bus with a tray host, so the tray's icon and menu are served as
// on a desktop.
type trayBench struct {
	tray  *program
	cairn string
	bus   *dbustest.Bus
	host  *trayHost
}

func newTrayBench(ctx context.Context, tmp, trayBin, cairnBin string) (*trayBench, error) {
	dir, err := os.MkdirTemp(tmp, "bus-")
	if err != nil {
		return nil, err
	}
	// The tests' private bus: no service directories, so a notification
	// the tray sends fails at once instead of activating a real server.
	b, err := dbustest.Launch(dir)
	if err != nil {
		return nil, err
	}
	h, err := startHost(b)
	if err != nil {
		b.Stop()
		return nil, err
	}
	return &trayBench{
		tray: &program{name: "cairn-tray", bin: trayBin, args: func(port int) []string {
			return []string{"--daemon-bin", cairnBin, "--port", fmt.Sprint(port)}
		}},
		cairn: cairnBin, bus: b, host: h,
	}, nil
}

func (tb *trayBench) close() {
	tb.host.close()
	tb.bus.Stop()
}

// trayRun is one tray started in a sandbox, and the daemons it ran.
type trayRun struct {
	tb      *trayBench
	s       *sandbox
	p       *proc
	daemons []int
}

func (tb *trayBench) start(root string) (*trayRun, error) {
	s, err := newSandbox(root)
	if err != nil {
		return nil, err
	}
	s.extra = []string{"DBUS_SESSION_BUS_ADDRESS=" + tb.bus.Address()}
	p, _, err := start(tb.tray, s, "tray")
	if err != nil {
		s.remove()
		return nil, err
	}
	return &trayRun{tb: tb, s: s, p: p}, nil
}

// ready waits until the tray's own child serves (discovery file and
// /health with a PID whose parent is the tray) and the host has been shown
// that daemon as running, so the tray's supervisor knows it too.
func (r *trayRun) ready(ctx context.Context, not int) (int, error) {
	child, err := r.waitServing(ctx, not, pollInterval)
	if err != nil {
		return 0, err
	}
	pidText := fmt.Sprintf("PID %d ", child)
	err = r.tb.host.waitItem(ctx, r.p.pid(), func(tip string) bool {
		return strings.Contains(tip, "Running") && strings.Contains(tip+" ", pidText)
	})
	if err != nil {
		return 0, fmt.Errorf("%w%s", err, r.p.tail())
	}
	return child, nil
}

// waitServing polls until a daemon other than not serves on the sandbox's
// port as a child of the tray, and returns its PID.
func (r *trayRun) waitServing(ctx context.Context, not int, every time.Duration) (int, error) {
	limit := time.Now().Add(deadline)
	for {
		if pid := healthPID(ctx, r.s.port); pid != 0 && pid != not && ready(ctx, r.s, pid) {
			if st, err := readStat(pid); err == nil && st.ppid == r.p.pid() {
				r.daemons = append(r.daemons, pid)
				return pid, nil
			}
			return 0, fmt.Errorf("the daemon serving on port %d (PID %d) is not the tray's child", r.s.port, pid)
		}
		if r.p.exited() {
			return 0, fmt.Errorf("cairn-tray exited %d before its daemon served%s", r.p.exitCode(), r.p.tail())
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if time.Now().After(limit) {
			return 0, fmt.Errorf("no daemon of cairn-tray (PID %d) served on port %d within %v%s", r.p.pid(), r.s.port, deadline, r.p.tail())
		}
		time.Sleep(every)
	}
}

// stop quits the tray as a signal does and checks it took its daemon
// along: exit 0 and no daemon left running.
func (r *trayRun) stop(ctx context.Context) error {
	if err := r.p.stop(ctx); err != nil {
		return err
	}
	for _, pid := range r.daemons {
		if alive(pid) && r.isOurDaemon(pid) {
			return fmt.Errorf("cairn-tray exited but left its daemon (PID %d) running", pid)
		}
	}
	return nil
}

// cleanup is the error-path end of a run, deferred after every start:
// kills the tray and any daemon of it still running, removes the sandbox.
func (r *trayRun) cleanup() {
	r.p.kill()
	for _, pid := range r.daemons {
		// The daemon runs in its own session and outlives a killed tray;
		// the check keeps a recycled PID from being hit.
		if alive(pid) && r.isOurDaemon(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	r.s.remove()
}

func (r *trayRun) isOurDaemon(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.HasPrefix(string(b), r.tb.cairn+"\x00")
}

// idle starts the tray and, once it is ready, watches it for window:
// CPU as utime+stime over the window, RSS sampled every second.
func (tb *trayBench) idle(ctx context.Context, root string, window time.Duration) (*idleResult, error) {
	r, err := tb.start(root)
	if err != nil {
		return nil, err
	}
	defer r.cleanup()
	child, err := r.ready(ctx, 0)
	if err != nil {
		return nil, err
	}

	res := &idleResult{window: window}
	t0 := time.Now()
	tray0, err1 := readStat(r.p.pid())
	dmn0, err2 := readStat(child)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	tick := time.NewTicker(idleSampleEvery)
	defer tick.Stop()
	end := time.NewTimer(window)
	defer end.Stop()
	for done := false; !done; {
		select {
		case <-tick.C:
		case <-end.C:
			done = true
		case <-r.p.done:
			return nil, fmt.Errorf("cairn-tray exited %d while idle%s", r.p.exitCode(), r.p.tail())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		t, err1 := rssKiB(r.p.pid())
		d, err2 := rssKiB(child)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("while idle (did the daemon restart?): %w%s", err, r.p.tail())
		}
		res.trayRSS, res.dmnRSS = append(res.trayRSS, t), append(res.dmnRSS, d)
		fmt.Fprint(os.Stderr, ".")
	}
	elapsed := time.Since(t0)
	tray1, err1 := readStat(r.p.pid())
	dmn1, err2 := readStat(child)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	res.trayCPU = cpuPercent(tray1.ticks-tray0.ticks, elapsed)
	res.dmnCPU = cpuPercent(dmn1.ticks-dmn0.ticks, elapsed)
	return res, r.stop(ctx)
}

func cpuPercent(ticks uint64, over time.Duration) float64 {
	return float64(ticks) / float64(clockTicks()) / over.Seconds() * 100
}

// crashToServing times kill -9 of the tray's daemon to a new daemon of the
// tray serving: /health answers with its PID and the discovery file names
// the port. Each run has a fresh tray, so every crash is the first one and
// waits the first backoff (consecutive crashes double it).
func (tb *trayBench) crashToServing(ctx context.Context, root string) (sample, error) {
	r, err := tb.start(root)
	if err != nil {
		return sample{}, err
	}
	defer r.cleanup()
	first, err := r.ready(ctx, 0)
	if err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		return sample{}, fmt.Errorf("kill -9 the tray's daemon (PID %d): %w", first, err)
	}
	if _, err := r.waitServing(ctx, first, crashPoll); err != nil {
		return sample{}, fmt.Errorf("after kill -9 of PID %d: %w", first, err)
	}
	return sample{d: time.Since(t0), code: -1}, r.stop(ctx)
}

// runTray builds cairn-tray (unless trayBin is given) and runs both tray
// measurements: the idle window (unless window is 0) and n timed crash runs
// after warmup untimed ones.
func runTray(ctx context.Context, root, tmp, trayBin, cairnBin string, window time.Duration, n, warmup int) (*idleResult, []sample, error) {
	trayBin, err := buildTray(ctx, root, tmp, trayBin)
	if err != nil {
		return nil, nil, err
	}
	tb, err := newTrayBench(ctx, tmp, trayBin, cairnBin)
	if err != nil {
		return nil, nil, err
	}
	defer tb.close()

	var idle *idleResult
	if window > 0 {
		fmt.Fprintf(os.Stderr, "%-24s ", fmt.Sprintf("tray idle (%.0f s)", window.Seconds()))
		idle, err = tb.idle(ctx, tmp, window)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, nil, fmt.Errorf("tray idle: %w", err)
		}
	}

	fmt.Fprintf(os.Stderr, "%-24s ", "crash-to-serving-again")
	var crashes []sample
	for i := -warmup; i < n; i++ {
		s, err := tb.crashToServing(ctx, tmp)
		if err != nil {
			fmt.Fprintln(os.Stderr)
			return nil, nil, fmt.Errorf("crash-to-serving-again: %w", err)
		}
		if i >= 0 {
			crashes = append(crashes, s)
		}
		fmt.Fprint(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)
	return idle, crashes, nil
}
