//go:build !windows

// The end-to-end tests drive POSIX signals (SIGTERM, SIGKILL, SIGSTOP);
// Windows binaries cannot run on the CI machine.

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/token"
	"github.com/cairnlabs/cairn/internal/proctest"
)

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readAddr(t *testing.T, path string) string {
	t.Helper()
	addr, err := discovery.Read(path)
	if err != nil {
		t.Fatalf("read discovery file: %v", err)
	}
	return addr.String()
}

func healthPID(t *testing.T, env *proctest.Env) int {
	t.Helper()
	pid, _, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok {
		t.Fatal("no healthy daemon at the discovered address")
	}
	return pid
}

// assertCleanExit checks the shutdown contract: exit 0, both discovery
// files and the lock gone.
func assertCleanExit(t *testing.T, env *proctest.Env, p *proctest.Proc) {
	t.Helper()
	if code := p.Wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr: %s", code, p.Stderr())
	}
	ps := env.Paths()
	for _, f := range append(ps.AddrFiles(), ps.Lock) {
		if exists(f) {
			t.Errorf("%s still exists after a clean shutdown", f)
		}
	}
}

func TestServeWritesDiscoveryAndLock(t *testing.T) {
	t.Parallel()
	// The command line every supervisor writes skips the CLI's parser
	// (execute); one without --port (CAIRN_PORT gives it) goes through it.
	t.Run("as typed", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		testServeWritesDiscoveryAndLock(t, env, serveReady(t, env))
	})
	t.Run("as supervisors write it", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		// CAIRN_PORT names another free port: --port must win over it.
		env.Extra = append(env.Extra, fmt.Sprintf("CAIRN_PORT=%d", proctest.FreePort(t)))
		p := proctest.Start(t, env, cairnBin, launch.Args(env.Port)...)
		waitReady(t, env, p)
		testServeWritesDiscoveryAndLock(t, env, p)
	})
}

func testServeWritesDiscoveryAndLock(t *testing.T, env *proctest.Env, p *proctest.Proc) {
	ps := env.Paths()
	want := fmt.Sprintf("127.0.0.1:%d", env.Port)
	for _, f := range ps.AddrFiles() {
		if got := readAddr(t, f); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
	if pid, err := lock.ReadRecord(ps.Lock); err != nil || pid != p.PID() {
		t.Errorf("lock record = %d, %v; want %d", pid, err, p.PID())
	}
	if held, _ := lock.Probe(ps.Lock); !held {
		t.Error("lock is not held while the daemon runs")
	}
	for _, dir := range []string{ps.DataDir} {
		fi, _ := os.Stat(dir)
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", dir, fi.Mode().Perm())
		}
	}
	for _, f := range []string{ps.Token, ps.AddrFile} {
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if _, err := token.Read(ps.Token); err != nil {
		t.Error(err)
	}
	// It also holds [::1]:port, so localhost clients that pick IPv6 reach it.
	if c, err := net.Dial("tcp6", fmt.Sprintf("[::1]:%d", env.Port)); err == nil {
		c.Close()
	} else if !strings.Contains(err.Error(), "cannot assign") && !strings.Contains(err.Error(), "network is unreachable") {
		t.Errorf("daemon does not answer on [::1]: %v", err)
	}
	p.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, p)
}

func TestConcurrentStartsOneWinner(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	const n = 30
	procs := make([]*proctest.Proc, n)
	for i := range procs {
		procs[i] = serve(t, env)
	}
	// Every start but one exits; wait for those n-1 exits.
	var winner *proctest.Proc
	deadline := time.After(60 * time.Second)
	exited := 0
	for exited < n-1 {
		exited = 0
		for _, p := range procs {
			if p.Exited() {
				exited++
			}
		}
		if exited >= n-1 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("only %d of %d refused starts exited", exited, n-1)
		case <-time.After(10 * time.Millisecond):
		}
	}
	for _, p := range procs {
		if !p.Exited() {
			if winner != nil {
				t.Fatalf("two daemons still run: %d and %d", winner.PID(), p.PID())
			}
			winner = p
			continue
		}
		// A loser waits for the winner that is still starting and reports
		// it running: exit 4 would mean "held by something unhealthy".
		if code := p.Code(); code != exitcode.OK {
			t.Errorf("PID %d exited %d, want 0; stdout: %s; stderr: %s", p.PID(), code, p.Stdout(), p.Stderr())
		}
	}
	if winner == nil {
		t.Fatal("no daemon is serving")
	}
	waitReady(t, env, winner)
	if pid := healthPID(t, env); pid != winner.PID() {
		t.Fatalf("discovery names PID %d, the winner is %d", pid, winner.PID())
	}
	for _, f := range env.Paths().AddrFiles() {
		if got, want := readAddr(t, f), fmt.Sprintf("127.0.0.1:%d", env.Port); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	// No loser walked to another port: only the winner listens.
	ls, err := proc.Listeners(context.Background(), env.Port)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.PID != winner.PID() {
			t.Errorf("%s held by PID %d, not the winner", l.Addr, l.PID)
		}
	}
	for _, p := range procs {
		if p != winner && proc.Alive(context.Background(), p.PID()) {
			t.Errorf("loser PID %d is still alive", p.PID())
		}
	}
	winner.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, winner)
}

func TestKill9ThenStartReclaims(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	first := serveReady(t, env)
	first.Signal(t, syscall.SIGKILL)
	first.Wait(t, 10*time.Second)
	ps := env.Paths()
	if !exists(ps.Lock) || !exists(ps.AddrFile) {
		t.Fatal("kill -9 should leave the lock and discovery files behind")
	}
	second := serveReady(t, env)
	if pid, err := lock.ReadRecord(ps.Lock); err != nil || pid != second.PID() {
		t.Errorf("lock record = %d, %v; want the new PID %d", pid, err, second.PID())
	}
	if pid := healthPID(t, env); pid != second.PID() {
		t.Errorf("discovery leads to PID %d, want %d", pid, second.PID())
	}
	second.Signal(t, syscall.SIGINT)
	assertCleanExit(t, env, second)
}

// listenForeign holds the port the way some other program would.
func listenForeign(t *testing.T, network, addr string) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
}

func TestForeignListenerIsACollision(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, network, host string }{
		{"loopback", "tcp4", "127.0.0.1"},
		{"wildcard-v4", "tcp4", "0.0.0.0"},
		{"loopback-v6", "tcp6", "[::1]"},
		{"wildcard-v6", "tcp", "[::]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := proctest.NewEnv(t)
			listenForeign(t, tc.network, fmt.Sprintf("%s:%d", tc.host, env.Port))
			p := serve(t, env)
			if code := p.Wait(t, 20*time.Second); code != exitcode.PortInUse {
				t.Fatalf("exit %d, want 3; stderr: %s", code, p.Stderr())
			}
			msg := p.Stderr()
			for _, want := range []string{"already in use", strconv.Itoa(env.Port), fmt.Sprintf("PID %d", os.Getpid())} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if n := strings.Count(strings.TrimSpace(msg), "\n"); n != 0 {
				t.Errorf("want one line, got %d: %q", n+1, msg)
			}
			// It left nothing behind and listens nowhere else.
			for _, f := range env.Paths().AddrFiles() {
				if exists(f) {
					t.Errorf("%s written by a daemon that never served", f)
				}
			}
			if exists(env.Paths().Lock) {
				t.Error("lock file left behind")
			}
		})
	}
}

func TestShutdownBySignalAndAPI(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"SIGTERM", "API"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			env := proctest.NewEnv(t)
			p := serveReady(t, env)
			ps := env.Paths()
			tok, err := token.Read(ps.Token)
			if err != nil {
				t.Fatal(err)
			}
			addr := readAddr(t, ps.AddrFile)

			// An event stream tells us the moment draining begins.
			events := make(chan string, 8)
			c, err := client.Discover(ps)
			if err != nil {
				t.Fatal(err)
			}
			go c.Events(context.Background(), func(e, _ string) bool { events <- e; return true })
			waitEvent(t, events, "ready")

			// An in-flight request: its handler is running (it asked for the
			// body with 100 Continue) when shutdown starts, and gets its
			// body only after draining has begun.
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			body := `{"reason":"in flight"}`
			fmt.Fprintf(conn, "POST /v1/shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", tok, len(body))
			br := bufio.NewReader(conn)
			if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
				t.Fatalf("want 100 Continue, got %q, %v", line, err)
			}
			br.ReadString('\n') // the blank line after the interim response

			switch how {
			case "SIGTERM":
				p.Signal(t, syscall.SIGTERM)
			case "API":
				if err := c.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			waitEvent(t, events, "draining")
			waitEvent(t, events, "stopping")

			fmt.Fprint(conn, body)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("in-flight request lost: %v", err)
			}
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("in-flight request got %d", resp.StatusCode)
			}
			resp.Body.Close()
			assertCleanExit(t, env, p)
		})
	}
}

func waitEvent(t *testing.T, events <-chan string, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %q event", want)
		}
	}
}

func TestPredecessorKeepsSuccessorsFiles(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	ps := env.Paths()
	old := serveReady(t, env)
	// Someone wipes the state files while the old daemon still drains its
	// last requests; a successor starts on another port and writes its own.
	for _, f := range append(ps.AddrFiles(), ps.Lock) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	newPort := proctest.FreePort(t)
	successor := serveReady(t, env, "--port", strconv.Itoa(newPort))
	old.Signal(t, syscall.SIGTERM)
	if code := old.Wait(t, 20*time.Second); code != 0 {
		t.Fatalf("old daemon exit %d: %s", code, old.Stderr())
	}
	want := fmt.Sprintf("127.0.0.1:%d", newPort)
	for _, f := range ps.AddrFiles() {
		if got := readAddr(t, f); got != want {
			t.Errorf("%s = %s after the predecessor left, want the successor's %s", f, got, want)
		}
	}
	if pid, err := lock.ReadRecord(ps.Lock); err != nil || pid != successor.PID() {
		t.Errorf("successor's lock record = %d, %v; want %d", pid, err, successor.PID())
	}
	if held, _ := lock.Probe(ps.Lock); !held {
		t.Error("successor's lock file is no longer the one it holds")
	}
	successor.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, successor)
}

func TestGarbageFilesRecover(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	ps := env.Paths()
	if err := ps.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	garbage := map[string]string{
		ps.Lock:        "\x00\xffnot a pid\n99999999999999999999\n",
		ps.AddrFile:    "evil.example:80\n",
		ps.DotAddrFile: strings.Repeat("x", 5000),
		ps.Token:       "short",
	}
	for f, data := range garbage {
		os.MkdirAll(filepath.Dir(f), 0o700)
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := cairn(t, env, "doctor")
	if code != 1 || !strings.Contains(out, "problem") {
		t.Errorf("doctor on garbage: exit %d\n%s%s", code, out, errOut)
	}
	p := serveReady(t, env)
	if pid, err := lock.ReadRecord(ps.Lock); err != nil || pid != p.PID() {
		t.Errorf("lock record not rewritten: %d, %v", pid, err)
	}
	for _, f := range ps.AddrFiles() {
		readAddr(t, f)
	}
	if _, err := token.Read(ps.Token); err != nil || !token.Private(ps.Token) {
		t.Errorf("token not replaced: %v", err)
	}
	p.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, p)
}

func TestUnusableDataDirExits5(t *testing.T) {
	t.Parallel()
	t.Run("data dir is a file", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		if err := os.WriteFile(env.CairnHome, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := serve(t, env)
		if code := p.Wait(t, 20*time.Second); code != exitcode.DataDirBad {
			t.Fatalf("exit %d, want 5; stderr %s", code, p.Stderr())
		}
		if !strings.Contains(p.Stderr(), env.CairnHome) || !strings.Contains(p.Stderr(), "CAIRN_HOME") {
			t.Errorf("message should name the dir and the way out: %q", p.Stderr())
		}
	})
	t.Run("lock path is a directory", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		if err := os.MkdirAll(env.Paths().Lock, 0o700); err != nil {
			t.Fatal(err)
		}
		p := serve(t, env)
		if code := p.Wait(t, 20*time.Second); code != exitcode.DataDirBad {
			t.Fatalf("exit %d, want 5; stderr %s", code, p.Stderr())
		}
	})
	t.Run("read-only data dir", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		if err := os.MkdirAll(env.CairnHome, 0o700); err != nil {
			t.Fatal(err)
		}
		p := startReadOnly(t, env)
		if code := p.Wait(t, 20*time.Second); code != exitcode.DataDirBad {
			t.Fatalf("exit %d, want 5; stderr %s", code, p.Stderr())
		}
		if strings.Contains(p.Stderr(), "panic") {
			t.Error(p.Stderr())
		}
	})
}

func TestMissingHome(t *testing.T) {
	t.Parallel()
	t.Run("no HOME, no CAIRN_HOME", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		p := proctest.Start(t, env, "/usr/bin/env", "-u", "HOME", "-u", "CAIRN_HOME", cairnBin, "serve", "--foreground")
		if code := p.Wait(t, 20*time.Second); code != exitcode.DataDirBad {
			t.Fatalf("exit %d, want 5; stderr %s", code, p.Stderr())
		}
		if !strings.Contains(p.Stderr(), "HOME") {
			t.Errorf("message should say HOME is missing: %q", p.Stderr())
		}
	})
	t.Run("no HOME, CAIRN_HOME set", func(t *testing.T) {
		t.Parallel()
		env := proctest.NewEnv(t)
		p := proctest.Start(t, env, "/usr/bin/env", "-u", "HOME", cairnBin, "serve", "--foreground")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// env is the parent here, so readiness is by address and PID record.
		proctest.Eventually(t, 20*time.Second, "daemon without HOME serving", func() bool {
			_, _, ok := proctest.Healthy(ctx, env.Paths())
			return ok
		})
		if exists(env.Paths().DotAddrFile) {
			t.Error("dotfile written without a HOME")
		}
		p.Signal(t, syscall.SIGTERM)
		if code := p.Wait(t, 20*time.Second); code != 0 {
			t.Fatalf("exit %d: %s", code, p.Stderr())
		}
	})
}

func TestServeUsage(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	for _, args := range [][]string{
		{"serve"},
		{"serve", "--foreground", "--port", "70000"},
		{"serve", "--foreground", "--bogus"},
		{"serve", "--foreground", "extra"},
		{"nosuchcommand"},
	} {
		code, _, stderr := cairn(t, env, args...)
		if code != exitcode.Usage {
			t.Errorf("%v: exit %d, want 2; stderr %s", args, code, stderr)
		}
		if strings.TrimSpace(stderr) == "" {
			t.Errorf("%v: no message", args)
		}
	}
	env.Extra = []string{"CAIRN_PORT=notaport"}
	if code, _, stderr := cairn(t, env, "serve", "--foreground"); code != exitcode.Usage || !strings.Contains(stderr, "CAIRN_PORT") {
		t.Errorf("bad CAIRN_PORT: exit %d, %s", code, stderr)
	}
}
