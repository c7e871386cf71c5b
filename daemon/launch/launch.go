// Package launch is the one way Cairn starts its daemon, `cairn serve
// --foreground --port N`: the command line (which the service backends
// write into their definitions too), how the daemon is detached from
// whoever starts it (per OS: its own session on Unix, its own hidden
// console and process group on Windows), and where its output goes:
// appended to logs/daemon.out with every line tagged with its PID, so that
// the lines of one run can be read back among those of every other run
// that shares the file (`cairn start`, the tray, a previous tray).
//
// `cairn start` (daemon/instance.Start) and the tray (tray/supervisor)
// start it here; daemon/service takes Args. It imports nothing of Cairn's
// but safefile, so every layer may use it.
package launch

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/cairnlabs/cairn/daemon/safefile"
)

// Args is the daemon's command line, without the executable.
func Args(port int) []string {
	return []string{"serve", "--foreground", "--port", strconv.Itoa(port)}
}

// ParseArgs is the inverse of Args: the port, and whether args is exactly
// Args(port) for a port in 1-65535. Any other spelling of the same command
// is not this one: the CLI parses those.
func ParseArgs(args []string) (port int, ok bool) {
	if len(args) != 4 || args[0] != "serve" || args[1] != "--foreground" || args[2] != "--port" {
		return 0, false
	}
	port, err := strconv.Atoi(args[3])
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != args[3] {
		return 0, false
	}
	return port, true
}

// Options say what to start and for whom.
type Options struct {
	Exe  string // the cairn binary
	Port int
	// Supervisor is who starts it, as the daemon reports in /v1/status
	// ("cli", "tray"); it is CAIRN_SUPERVISOR in its environment.
	Supervisor string
	Out        string // daemon.out
}

// OutputError is a Start that failed because daemon.out could not be
// opened: the data dir is unusable, not the binary.
type OutputError struct {
	Path string
	Err  error
}

func (e *OutputError) Error() string { return fmt.Sprintf("open %s: %v", e.Path, e.Err) }
func (e *OutputError) Unwrap() error { return e.Err }

// Run is a started daemon and where its output is.
type Run struct {
	Cmd    *exec.Cmd
	out    string
	offset int64 // where this run's output begins in out
}

// Start starts the daemon detached, its output appended to Options.Out
// (rotated first when it is large), each line tagged with its PID. The
// caller waits on Run.Cmd.
func Start(o Options) (*Run, error) {
	out, offset, err := OpenOut(o.Out)
	if err != nil {
		return nil, &OutputError{Path: o.Out, Err: err}
	}
	defer out.Close()
	cmd := exec.Command(o.Exe, Args(o.Port)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "CAIRN_SUPERVISOR="+o.Supervisor, TagEnv+"=1")
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Exe, err)
	}
	return &Run{Cmd: cmd, out: o.Out, offset: offset}, nil
}

// PID is the daemon's process ID.
func (r *Run) PID() int { return r.Cmd.Process.Pid }

// alreadyRunning begins the line `cairn serve --foreground` prints when it
// exits 0 because a healthy daemon already runs (AlreadyRunning).
const alreadyRunning = "Cairn is already running at "

// AlreadyRunning is that line, for the daemon at addr with pid. Exit 0 also
// ends a clean stop, so this line is how a launcher tells "lost the race to
// another start" from "stopped while starting" (SaidAlreadyRunning): the
// one line of the daemon's output that is read, not only shown.
func AlreadyRunning(addr string, pid int) string {
	return fmt.Sprintf("%s%s (PID %d); nothing to start.", alreadyRunning, addr, pid)
}

// SaidAlreadyRunning reports whether this run's last line is AlreadyRunning's.
func (r *Run) SaidAlreadyRunning() bool { return strings.HasPrefix(r.LastLine(), alreadyRunning) }

// LastLine is the last line this run printed, without the "cairn: "
// prefix: the daemon's one-line reason for an exit that is not a crash.
func (r *Run) LastLine() string {
	last := r.Lines(1)
	if len(last) == 0 {
		return ""
	}
	return strings.TrimPrefix(strings.TrimSpace(last[0]), "cairn: ")
}

// maxOut is the size at which daemon.out is rotated before a start.
const maxOut = 10 << 20

// OpenOut opens daemon.out for appending, rotating it to daemon.out.1
// first when it has grown past maxOut. It returns the offset where this
// run's output begins. It opens through safefile: a symlink or FIFO there
// is an error, never written through or waited on (the rename of the
// rotation moves a directory entry and follows nothing).
func OpenOut(path string) (*os.File, int64, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > maxOut {
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

// TagEnv, when set in a daemon's environment, makes `serve --foreground`
// start each line it prints with TagPrefix(its PID).
const TagEnv = "CAIRN_TAG_OUTPUT"

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

// window bounds what Lines reads: the end of daemon.out.
const window = 256 << 10

// Lines returns the last n non-blank lines that the daemon pid tagged in
// daemon.out (path) after offset, with their tags removed: one run's lines
// among those of every other run that shares the file. Only the file's
// last 256 KiB are read.
func Lines(path string, offset int64, pid, n int) []string {
	return lastN(read(path, offset, pid, false, window), n)
}

// Lines returns the last n non-blank lines this run printed, untagged.
// Untagged lines after the run's offset count as its own too: a program
// that does not tag (an old cairn, a wrapper script) printed them, and
// every Cairn daemon that shares the file tags its lines.
func (r *Run) Lines(n int) []string { return lastN(read(r.out, r.offset, r.PID(), true, window), n) }

// outputWindow bounds what Output reads. A crash's own words (the panic
// and the crashing goroutine's trace) are at the end; 8 MiB read whole,
// split and kept as strings made the tray's memory jump by tens of MiB
// after a burst of crashes (found by the soak), for lines nobody reads.
const outputWindow = 1 << 20

// Output is the end of what this run printed (its last MiB), for a crash
// report.
func (r *Run) Output() []string { return read(r.out, r.offset, r.PID(), true, outputWindow) }

func read(path string, offset int64, pid int, untagged bool, limit int64) []string {
	f, err := safefile.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	start := max(offset, fi.Size()-limit)
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(f, limit))
	lines := strings.Split(string(data), "\n")
	if start > offset && len(lines) > 0 {
		lines = lines[1:] // the window began inside a line
	}
	tag := TagPrefix(pid)
	var out []string
	for _, l := range lines {
		rest, ours := strings.CutPrefix(l, tag)
		if !ours && (!untagged || otherTag.MatchString(l)) {
			continue
		}
		if strings.TrimSpace(rest) != "" {
			out = append(out, rest)
		}
	}
	return out
}

// otherTag matches a line that some daemon tagged.
var otherTag = regexp.MustCompile(`^\[[0-9]+\] `)

func lastN(lines []string, n int) []string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
