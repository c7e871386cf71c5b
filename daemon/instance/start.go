package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/daemon/paths"
)

// StartOptions configure Start.
type StartOptions struct {
	Exe     string        // the cairn binary; os.Executable() when empty
	Port    int           // passed as --port
	Timeout time.Duration // how long to wait for ready; 15 s when zero
}

// StartResult says what Start found or made.
type StartResult struct {
	PID            int    `json:"pid"`
	Addr           string `json:"addr"`
	AlreadyRunning bool   `json:"already_running"`
	Log            string `json:"log"`
}

// Start runs `cairn serve --foreground` detached from this process, its raw
// output appended to logs/daemon.out, and waits until it is ready: the
// discovery file names it and /health answers with its PID. A daemon that
// exits first is reported by its exit code as an *exitcode.Error.
func Start(ctx context.Context, p paths.Paths, opts StartOptions) (StartResult, error) {
	res := StartResult{Log: p.DaemonLog}
	if h, addr, err := client.Probe(ctx, p); err == nil {
		res.PID, res.Addr, res.AlreadyRunning = h.PID, addr.String(), true
		return res, nil
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	exe := opts.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return res, fmt.Errorf("find the cairn binary: %w", err)
		}
	}
	if err := p.EnsureDataDir(); err != nil {
		if de := (*paths.DirError)(nil); errors.As(err, &de) {
			return res, exitcode.New(exitcode.DataDirBad, de.Error()) // already names the fix
		}
		return res, exitcode.New(exitcode.DataDirBad, paths.UnusableMessage(p.DataDir, err))
	}
	// A start that loses the race to another one exits 0, and the winner
	// is then what we report. A winner already gone again (it stopped on
	// an error, a damaged store say) is no answer: start once more, which
	// meets that error itself and reports it.
	for attempt := 0; ; attempt++ {
		res, lostToTheDead, err := launchOnce(ctx, p, opts, exe)
		if !lostToTheDead {
			return res, err
		}
		if attempt == 1 {
			return res, exitcode.New(exitcode.Failure, fmt.Sprintf(
				"twice another start of the daemon won the race and its daemon stopped at once; run 'cairn doctor' to see why (or read %s)", p.DaemonLog))
		}
	}
}

// launchOnce is one launch and wait of Start. lostToTheDead: the daemon
// exited 0 because another won the race, and no daemon answers now.
func launchOnce(ctx context.Context, p paths.Paths, opts StartOptions, exe string) (res StartResult, lostToTheDead bool, err error) {
	res = StartResult{Log: p.DaemonLog}
	run, err := launch.Start(launch.Options{Exe: exe, Port: opts.Port, Supervisor: "cli", Out: p.DaemonOut})
	if oe := (*launch.OutputError)(nil); errors.As(err, &oe) {
		return res, false, exitcode.New(exitcode.DataDirBad, oe.Error())
	}
	if err != nil {
		return res, false, err
	}
	cmd := run.Cmd
	exited := make(chan int, 1)
	go func() {
		cmd.Wait()
		exited <- cmd.ProcessState.ExitCode()
	}()

	res.PID = cmd.Process.Pid
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	addr, err := WaitReady(ctx, p, res.PID, exited)
	if err == nil {
		res.Addr = addr.String()
		return res, false, nil
	}
	var exit *childExit
	if !errors.As(err, &exit) {
		cmd.Process.Kill() // never leave a daemon behind that we gave up on
		<-exited
		return res, false, fmt.Errorf("the daemon did not become ready within %s; see %s", opts.Timeout, p.DaemonLog)
	}
	if exit.code == exitcode.OK {
		// Another daemon won the race and is healthy: that is success.
		if h, addr, err := client.Probe(context.Background(), p); err == nil {
			return StartResult{PID: h.PID, Addr: addr.String(), AlreadyRunning: true, Log: p.DaemonLog}, false, nil
		}
		// Lost to a daemon that does not answer now (gone again, or still
		// starting): start once more, which waits for a live winner as any
		// start does, or meets the error that stopped it. Only when the
		// child said it lost: it also exits 0 when stopped while starting,
		// and that stop must stand.
		if ctx.Err() == nil && run.SaidAlreadyRunning() {
			return res, true, nil
		}
	}
	msg := run.LastLine()
	if msg == "" {
		msg = fmt.Sprintf("the daemon exited with code %d; see %s", exit.code, p.DaemonOut)
	}
	code := exit.code
	if code == exitcode.OK || code < 0 {
		code = exitcode.Failure
	}
	return res, false, exitcode.New(code, msg)
}

type childExit struct{ code int }

func (e *childExit) Error() string { return fmt.Sprintf("daemon exited with code %d", e.code) }

// WaitReady waits until the discovery file names a daemon that proves
// itself and answers /health with pid, the readiness contract of `serve
// --foreground`. It
// returns early with a *childExit error when exited delivers the child's
// exit code, and with ctx's error at the deadline.
func WaitReady(ctx context.Context, p paths.Paths, pid int, exited <-chan int) (netip.AddrPort, error) {
	delay := 2 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case code := <-exited:
			return netip.AddrPort{}, &childExit{code}
		case <-ctx.Done():
			return netip.AddrPort{}, ctx.Err()
		case <-t.C:
		}
		if h, addr, err := client.Probe(ctx, p); err == nil && h.PID == pid {
			return addr, nil
		}
		// Readiness comes within milliseconds on a healthy machine; back off
		// so a slow one is not hammered.
		t.Reset(delay)
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// OutputTagEnv and TagLines are launch's: `serve --foreground` tags its
// lines with them.
const OutputTagEnv = launch.TagEnv

// TagLines is launch.TagLines.
func TagLines(w io.Writer) io.Writer { return launch.TagLines(w) }
