package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/safefile"
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

// maxDaemonOut is the size at which daemon.out is rotated before a start.
const maxDaemonOut = 10 << 20

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
		return res, exitcode.New(exitcode.DataDirBad, fmt.Sprintf(
			"the data dir %s is unusable: %v. Fix its permissions, or point CAIRN_HOME at a writable folder.", p.DataDir, err))
	}
	out, offset, err := OpenDaemonOut(p.DaemonOut)
	if err != nil {
		return res, exitcode.New(exitcode.DataDirBad, fmt.Sprintf("open %s: %v", p.DaemonOut, err))
	}
	defer out.Close()

	cmd := exec.Command(exe, "serve", "--foreground", "--port", strconv.Itoa(opts.Port))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "CAIRN_SUPERVISOR=cli", OutputTagEnv+"=1")
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", exe, err)
	}
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
		return res, nil
	}
	var exit *childExit
	if !errors.As(err, &exit) {
		cmd.Process.Kill() // never leave a daemon behind that we gave up on
		<-exited
		return res, fmt.Errorf("the daemon did not become ready within %s; see %s", opts.Timeout, p.DaemonLog)
	}
	if exit.code == exitcode.OK {
		// Another daemon won the race and is healthy: that is success.
		if h, addr, err := client.Probe(context.Background(), p); err == nil {
			return StartResult{PID: h.PID, Addr: addr.String(), AlreadyRunning: true, Log: p.DaemonLog}, nil
		}
	}
	msg := lastLine(p.DaemonOut, offset, res.PID)
	if msg == "" {
		msg = fmt.Sprintf("the daemon exited with code %d; see %s", exit.code, p.DaemonOut)
	}
	code := exit.code
	if code == exitcode.OK || code < 0 {
		code = exitcode.Failure
	}
	return res, exitcode.New(code, msg)
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

// OpenDaemonOut opens daemon.out for appending, rotating it to daemon.out.1
// first when it has grown past maxDaemonOut. It returns the offset where
// this run's output begins. It opens through safefile: a symlink or FIFO
// there is an error, never written through or waited on (the rename of the
// rotation moves a directory entry and follows nothing).
func OpenDaemonOut(path string) (*os.File, int64, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > maxDaemonOut {
		os.Rename(path, path+".1")
	}
	f, err := safefile.Open(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, err
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, off, nil
}

// OutputTagEnv, when set in a daemon's environment, makes `serve
// --foreground` start each line it prints with TagPrefix(its PID):
// concurrent starts share daemon.out, and each must read its own child's
// reason, not another's.
const OutputTagEnv = "CAIRN_TAG_OUTPUT"

// TagPrefix is what starts each line of the daemon pid's tagged output.
func TagPrefix(pid int) string { return "[" + strconv.Itoa(pid) + "] " }

// TagLines returns a writer that starts every line written to w with this
// process's TagPrefix. Each write of the daemon's is whole lines.
func TagLines(w io.Writer) io.Writer {
	return &tagWriter{w: w, tag: TagPrefix(os.Getpid())}
}

type tagWriter struct {
	w   io.Writer
	tag string
}

func (t *tagWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			out = append(append(out, t.tag...), line...)
		}
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// lastLine returns the last line that the daemon pid wrote to path after
// offset, untagged, which is its one-line explanation of why it exited.
func lastLine(path string, offset int64, pid int) string {
	last := RunLines(path, offset, pid, 1)
	if len(last) == 0 {
		return ""
	}
	return strings.TrimPrefix(strings.TrimSpace(last[0]), "cairn: ")
}

// runLinesWindow bounds what RunLines reads: the end of daemon.out.
const runLinesWindow = 256 << 10

// RunLines returns the last n non-blank lines that the daemon pid wrote to
// daemon.out (path) after offset, with their tags (TagPrefix) removed:
// this run's lines, among those of every other run that shares the file.
// Only the file's last 256 KiB are read.
func RunLines(path string, offset int64, pid, n int) []string {
	f, err := safefile.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	start := max(offset, fi.Size()-runLinesWindow)
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(f, runLinesWindow))
	lines := strings.Split(string(data), "\n")
	if start > offset && len(lines) > 0 {
		lines = lines[1:] // the window began inside a line
	}
	tag := TagPrefix(pid)
	var out []string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, tag); ok && strings.TrimSpace(rest) != "" {
			out = append(out, rest)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
