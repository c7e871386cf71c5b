// Package proctest is the support for Cairn's end-to-end tests: it builds
// the real binaries once per test binary, gives every test its own HOME,
// CAIRN_HOME and free port, runs processes that are always cleaned up, and
// waits on events with deadlines instead of sleeping.
package proctest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/paths"
)

// Build compiles the main packages (import paths such as
// "github.com/cairnlabs/cairn/cmd/cairn") into dir and returns the binary
// path for each. Race-enabled test binaries build race-enabled daemons, so
// the daemon's own races fail the suite too. Call it from TestMain.
func Build(dir string, pkgs ...string) (map[string]string, error) {
	args := []string{"build"}
	if RaceEnabled {
		args = append(args, "-race")
	}
	// One go build for them all: it compiles what they share once, and in
	// parallel. An -o ending in a separator is a folder for every binary.
	cmd := exec.Command("go", append(append(args, "-o", dir+string(filepath.Separator)), pkgs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, stderr.String())
	}
	out := map[string]string{}
	for _, pkg := range pkgs {
		bin := filepath.Join(dir, filepath.Base(pkg))
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("go build %s: %w", pkg, err)
		}
		out[pkg] = bin
	}
	return out, nil
}

// Env is one test's isolated world: its own HOME, XDG dirs, CAIRN_HOME and
// a port nobody else uses.
type Env struct {
	Home      string
	CairnHome string
	Port      int
	Extra     []string // more KEY=VALUE entries
}

// NewEnv makes an Env under t.TempDir with a free port.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	root := t.TempDir()
	e := &Env{
		Home:      filepath.Join(root, "home"),
		CairnHome: filepath.Join(root, "cairn"),
		Port:      FreePort(t),
	}
	if err := os.MkdirAll(e.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	return e
}

// Paths are the Cairn paths of this Env.
func (e *Env) Paths() paths.Paths { return paths.ForDataDir(e.CairnHome, e.Home) }

// Environ is the process environment for this Env: the test's own minus
// anything that would leak the developer's real Cairn or desktop.
func (e *Env) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "CAIRN_HOME" || k == "CAIRN_PORT" || k == "CAIRN_SUPERVISOR" || k == "CAIRN_UPDATE_URL":
		case strings.HasPrefix(k, "XDG_") || k == "DBUS_SESSION_BUS_ADDRESS" || k == "INVOCATION_ID" || k == "GORACE":
		default:
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+e.Home,
		"CAIRN_HOME="+e.CairnHome,
		fmt.Sprintf("CAIRN_PORT=%d", e.Port),
		"XDG_DATA_HOME="+filepath.Join(e.Home, ".local", "share"),
		"XDG_CONFIG_HOME="+filepath.Join(e.Home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(e.Home, ".local", "state"),
		"XDG_CACHE_HOME="+filepath.Join(e.Home, ".cache"),
		// A race-enabled binary sleeps a second before it exits so that
		// late reports get out; every timed exit would pay it. Reports
		// still fail the process (exit 66).
		"GORACE=atexit_sleep_ms=0",
	)
	return append(env, e.Extra...)
}

// Link puts bin at dir/name as a hard link and returns that path. Tests
// that run a binary from another place link it rather than copy it: a
// binary just written can fail to run with "text file busy" while other
// tests fork (a child holds the write descriptor for a moment). The link
// is the same file, also to exepath.Same, so a test that needs two
// different binaries cannot use it.
func Link(t testing.TB, bin, dir, name string) string {
	t.Helper()
	dst := filepath.Join(dir, name)
	if err := os.Link(bin, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// WriteExecutable writes a program a test is about to run (a fake
// systemctl, a shim on PATH) with perm, and returns path. It holds
// syscall.ForkLock for reading while the file is open for writing, so no
// test forking in this binary meanwhile can hand its child the write
// descriptor: until that child execs, every exec of the file fails with
// "text file busy" (golang/go#22315; O_CLOEXEC closes it only at exec).
func WriteExecutable(t testing.TB, path, content string, perm os.FileMode) string {
	t.Helper()
	syscall.ForkLock.RLock()
	err := os.WriteFile(path, []byte(content), perm)
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// FreePort returns a TCP port that was free on every address a moment
// ago. Ports are handed out once per test binary, so parallel tests never
// share one. They come from below the kernel's ephemeral range (Linux
// 32768–60999, macOS and Windows 49152–65535): a port the kernel hands
// out for outgoing connections, thousands a second during the flood
// tests, could be some connection's source port by the time the test
// binds it.
func FreePort(t testing.TB) int {
	t.Helper()
	const lo, hi = 20000, 32768
	for range 200 {
		port := lo + mathrand.IntN(hi-lo)
		portsMu.Lock()
		taken := ports[port]
		portsMu.Unlock()
		if taken {
			continue
		}
		// The dual-stack wildcard conflicts with any listener on the port,
		// on 127.0.0.1, [::1] or anywhere.
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		portsMu.Lock()
		taken = ports[port]
		ports[port] = true
		portsMu.Unlock()
		if !taken {
			return port
		}
	}
	t.Fatal("no free port found")
	return 0
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// Proc is a process started by a test. It is killed, and waited for, when
// the test ends if it is still running.
type Proc struct {
	Cmd    *exec.Cmd
	stdout SyncBuffer
	stderr SyncBuffer
	done   chan struct{}
	code   int
}

// Start runs bin with args in env. The process gets its own process group
// so a test can signal exactly it.
func Start(t testing.TB, env *Env, bin string, args ...string) *Proc {
	t.Helper()
	return StartWith(t, env, nil, bin, args...)
}

// StartWith is Start with a hook that adjusts the process attributes, e.g.
// to run it as another user.
func StartWith(t testing.TB, env *Env, adjust func(*syscall.SysProcAttr), bin string, args ...string) *Proc {
	t.Helper()
	return start(t, env, adjust, nil, bin, args...)
}

func start(t testing.TB, env *Env, adjust func(*syscall.SysProcAttr), stdin io.Reader, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.Cmd.Stdin = stdin
	p.Cmd.Env = env.Environ()
	p.Cmd.Stdout = &p.stdout
	p.Cmd.Stderr = &p.stderr
	p.Cmd.SysProcAttr = ownGroup()
	if adjust != nil {
		adjust(p.Cmd.SysProcAttr)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.Cmd.Wait()
		p.code = p.Cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.Cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// PID of the process.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Done is closed when the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stdout and Stderr return what the process printed so far.
func (p *Proc) Stdout() string { return p.stdout.String() }
func (p *Proc) Stderr() string { return p.stderr.String() }

// Wait waits for the exit and returns the exit code, failing the test at
// the deadline.
func (p *Proc) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("%s did not exit within %s\nstdout: %s\nstderr: %s", p.Cmd.Args, d, p.Stdout(), p.Stderr())
		return -1
	}
}

// Signal sends sig to the process.
func (p *Proc) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %d: %v", sig, p.PID(), err)
	}
}

// Run runs bin to completion and returns its exit code and output.
func Run(t testing.TB, env *Env, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := Start(t, env, bin, args...)
	code = p.Wait(t, 60*time.Second)
	return code, p.Stdout(), p.Stderr()
}

// RunWithInput is Run with input as the process's standard input.
func RunWithInput(t testing.TB, env *Env, input string, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := start(t, env, nil, strings.NewReader(input), bin, args...)
	code = p.Wait(t, 60*time.Second)
	return code, p.Stdout(), p.Stderr()
}

// Eventually polls cond until it holds or d passes. The condition is an
// observation of another process's state, which offers no event to wait on.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	delay := time.Millisecond
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", d, what)
		case <-time.After(delay):
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// SyncBuffer is a bytes.Buffer safe to write from one goroutine (exec's
// copier) while another reads it: a process's captured output.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Code is the exit code; valid once Done is closed.
func (p *Proc) Code() int {
	<-p.done
	return p.code
}

// ExitCh delivers the exit code once the process exits, in the shape
// instance.WaitReady takes.
func (p *Proc) ExitCh() <-chan int {
	ch := make(chan int, 1)
	go func() { ch <- p.Code() }()
	return ch
}

// Healthy is client.Probe in the shape tests compare: the PID and address
// of this data dir's daemon when one answers and proves itself.
func Healthy(ctx context.Context, p paths.Paths) (int, netip.AddrPort, bool) {
	h, addr, err := client.Probe(ctx, p)
	return h.PID, addr, err == nil
}
