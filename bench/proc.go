package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// program is one binary under test and how to start it on a port.
type program struct {
	name string
	bin  string
	args func(port int) []string
	// refusalCode is the exit code a second instance is expected to give:
	// cairn's single-instance guard exits 0, the floor just fails to bind (3).
	refusalCode int
	// query is the arguments of one client request to a ready instance:
	// `cairn status` (discover, prove, /health, diagnose) against the
	// floor's curl-like discover-and-GET.
	query func(port int) []string
	// version is the arguments of a run that starts, prints a version and
	// exits: the process's own start-up cost.
	version []string
}

// sandbox is one iteration's private world: its own CAIRN_HOME, HOME and
// port, so no iteration can see another's discovery files, lock or socket.
type sandbox struct {
	dir  string // removed at the end of the iteration
	home string
	data string // CAIRN_HOME
	port int
	// extra are more KEY=VALUE entries for the child, e.g. the tray's
	// session bus.
	extra []string
}

func newSandbox(root string) (*sandbox, error) {
	dir, err := os.MkdirTemp(root, "iter-")
	if err != nil {
		return nil, err
	}
	s := &sandbox{dir: dir, home: filepath.Join(dir, "home"), data: filepath.Join(dir, "data")}
	// The data dir exists before either program starts, so neither pays
	// for creating it inside the timed region and the comparison stays fair.
	for _, d := range []string{s.home, s.data} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if s.port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *sandbox) remove() { os.RemoveAll(s.dir) }

// addrFile is the discovery file both programs write.
func (s *sandbox) addrFile() string { return filepath.Join(s.data, "http_addr") }

// dotAddrFile is cairn's second discovery file; the floor never writes it.
func (s *sandbox) dotAddrFile() string { return filepath.Join(s.home, ".cairn", "http_addr") }

func (s *sandbox) wantAddr() string { return fmt.Sprintf("127.0.0.1:%d\n", s.port) }

// env is the parent's environment with every variable that could point a
// child at a real data dir, a real port, a supervisor or a desktop session
// replaced or dropped, plus the sandbox's extra variables.
func (s *sandbox) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "CAIRN_") || strings.HasPrefix(k, "XDG_") ||
			k == "DBUS_SESSION_BUS_ADDRESS" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, s.extra...)
	return append(env,
		"HOME="+s.home,
		"CAIRN_HOME="+s.data,
		"XDG_DATA_HOME="+filepath.Join(s.home, ".local", "share"),
		"XDG_CONFIG_HOME="+filepath.Join(s.home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(s.home, ".local", "state"),
		"XDG_CACHE_HOME="+filepath.Join(s.home, ".cache"),
	)
}

// proc is a started child. A goroutine waits for it and stamps the moment
// Wait returned, so a latency ends when the process is reaped, not when the
// harness next gets scheduled to look.
type proc struct {
	cmd      *exec.Cmd
	log      string
	done     chan struct{}
	exitedAt time.Time
	waitErr  error
}

// start launches prog in s. Output goes to a file rather than a pipe: a pipe
// would add copier goroutines to the harness and make Wait depend on them.
func start(prog *program, s *sandbox, tag string) (*proc, time.Time, error) {
	return startArgs(prog, s, tag, prog.args(s.port))
}

// startArgs is start with explicit arguments.
func startArgs(prog *program, s *sandbox, tag string, args []string) (*proc, time.Time, error) {
	logPath := filepath.Join(s.dir, prog.name+"-"+tag+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer out.Close() // the child has its own copy of the descriptor
	cmd := exec.Command(prog.bin, args...)
	cmd.Env = s.env()
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, t0, fmt.Errorf("start %s: %w", prog.name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		p.exitedAt = time.Now()
		close(p.done)
	}()
	return p, t0, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode is valid once done is closed.
func (p *proc) exitCode() int { return p.cmd.ProcessState.ExitCode() }

// wait waits for exit up to limit; it does not kill.
func (p *proc) wait(ctx context.Context, limit time.Duration) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("%s (PID %d) did not exit within %v%s", filepath.Base(p.cmd.Path), p.pid(), limit, p.tail())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends SIGTERM and waits; it is the untimed way to end an instance
// that a measurement no longer needs, and checks it still exits cleanly.
func (p *proc) stop(ctx context.Context) error {
	if p.exited() {
		return fmt.Errorf("%s (PID %d) exited before it was stopped (code %d)%s", filepath.Base(p.cmd.Path), p.pid(), p.exitCode(), p.tail())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := p.wait(ctx, deadline); err != nil {
		return err
	}
	if code := p.exitCode(); code != 0 {
		return fmt.Errorf("%s exited %d on SIGTERM, want 0%s", filepath.Base(p.cmd.Path), code, p.tail())
	}
	return nil
}

// kill is the error-path cleanup: deferred after every start, a no-op once
// the child has been reaped, so no child outlives a failed iteration.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
}

// tail returns the last lines of the child's output for error messages.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "; its output:\n    " + strings.Join(lines, "\n    ")
}
