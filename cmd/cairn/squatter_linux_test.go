package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/token"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// squat leaves what a daemon killed with -9 leaves (discovery files naming
// its port, the token) and puts a squatter on that port that answers like
// Cairn. With otherUser (and root) the squatter runs as a user the test
// creates, the threat itself: the clients see from /proc/net/tcp that the
// listener is not theirs and send it nothing. As this user it gets the
// challenge and cannot answer it: the squatter never reads the token. It
// returns the token and the file where the squatter records every byte it
// receives.
func squat(t *testing.T, env *proctest.Env, otherUser bool) (tok, record string) {
	t.Helper()
	d := serveReady(t, env)
	tok, err := token.Read(env.Paths().Token)
	if err != nil {
		t.Fatal(err)
	}
	d.Signal(t, syscall.SIGKILL)
	d.Wait(t, 10*time.Second)

	dir := t.TempDir()
	bin := holdportBin
	var asUser func(*syscall.SysProcAttr)
	if otherUser {
		u, ok := proctest.OtherUser(t)
		if !ok {
			t.Fatal("creating another user needs root")
		}
		dir, bin, asUser = u.Home, proctest.Share(t, holdportBin), u.Credential
	}
	record = filepath.Join(dir, "received")
	sq := proctest.StartWith(t, env, asUser, bin, "-squat", "-record", record, "-addr", fmt.Sprintf("127.0.0.1:%d", env.Port))
	proctest.Eventually(t, 10*time.Second, "the squatter listens", func() bool { return strings.Contains(sq.Stdout(), "ready") })
	return tok, record
}

// TestSquatterNeverGetsTheToken is the first finding of the hardening issue:
// every client sent the token to whoever answered /health like Cairn.
func TestSquatterNeverGetsTheToken(t *testing.T) {
	t.Parallel()
	t.Run("same user, fails the proof", func(t *testing.T) {
		t.Parallel()
		testSquatter(t, false)
	})
	if os.Getuid() == 0 { // CI is root; a developer's machine may not be
		t.Run("another user", func(t *testing.T) {
			t.Parallel()
			testSquatter(t, true)
		})
	}
}

func testSquatter(t *testing.T, otherUser bool) {
	env := proctest.NewEnv(t)
	tok, record := squat(t, env, otherUser)

	// status: a conflict (exit 3) that names the squatter, never "running".
	code, out, errOut := cairn(t, env, "status")
	if code != exitcode.PortInUse || !strings.Contains(out, "conflict") {
		t.Errorf("status: exit %d, %q %q; want 3 and a conflict", code, out, errOut)
	}
	// doctor names it as a problem and says it is not our daemon.
	code, out, _ = cairn(t, env, "doctor")
	if code == 0 || !strings.Contains(out, "not your daemon") || !strings.Contains(out, fmt.Sprintf("port %d is already in use", env.Port)) {
		t.Errorf("doctor: exit %d, output:\n%s", code, out)
	}
	// port: no address of a daemon that is not ours.
	why := "does not hold this data dir's control token"
	if otherUser {
		why = "not to you"
	}
	if code, out, errOut = cairn(t, env, "port"); code == 0 || !strings.Contains(errOut, why) {
		t.Errorf("port: exit %d, %q %q", code, out, errOut)
	}
	// stop: nothing of ours runs; the squatter is not asked to shut down.
	cairn(t, env, "stop")
	// start: the port is taken (exit 3, naming the holder), never "already running".
	code, out, errOut = cairn(t, env, "start")
	if code != exitcode.PortInUse || strings.Contains(out, "already running") {
		t.Errorf("start: exit %d, %q %q; want 3", code, out, errOut)
	}
	// start --port N starts on N.
	other := proctest.FreePort(t)
	code, out, errOut = cairn(t, env, "start", "--port", fmt.Sprint(other))
	if code != 0 {
		t.Fatalf("start --port %d: exit %d, %q %q", other, code, out, errOut)
	}
	t.Cleanup(func() { cairn(t, env, "stop") })
	if got := readAddr(t, env.Paths().AddrFile); got != fmt.Sprintf("127.0.0.1:%d", other) {
		t.Errorf("discovery names %s after start --port %d", got, other)
	}
	if code, out, _ = cairn(t, env, "status", "--port", fmt.Sprint(other)); code != 0 || !strings.Contains(out, "running") {
		t.Errorf("status of the daemon on %d: exit %d, %q", other, code, out)
	}

	received, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if !otherUser && !strings.Contains(string(received), "GET /v1/proof?nonce=") {
		t.Fatalf("the squatter was never challenged, so the test proves nothing; it received:\n%s", received)
	}
	if strings.Contains(string(received), tok) || strings.Contains(strings.ToLower(string(received)), "authorization") {
		t.Fatalf("the squatter received the token:\n%s", received)
	}
}

// TestConcurrentCLIStartsAllSucceed: 30 `cairn start` at once (tools that
// auto-start the daemon at login) all exit 0, and one daemon serves.
func TestConcurrentCLIStartsAllSucceed(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	const n = 30
	type result struct {
		code     int
		out, err string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			code, out, errOut := cairn(t, env, "start")
			results[i] = result{code, out, errOut}
		})
	}
	wg.Wait()
	t.Cleanup(func() { cairn(t, env, "stop") })
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("start %d: exit %d\nstdout: %s\nstderr: %s", i, r.code, r.out, r.err)
		}
	}
	pid, _, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok {
		t.Fatal("no daemon serves after the starts")
	}
	ls, err := proc.Listeners(context.Background(), env.Port)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.PID != pid {
			t.Errorf("%s is held by PID %d, not the one daemon %d", l.Addr, l.PID, pid)
		}
	}
}

// TestEveryShutdownSignalLeavesNothing: SIGHUP and SIGQUIT shut down in
// order like SIGTERM (they used to leave the lock and discovery files, and
// SIGQUIT exited 2 with a stack dump).
func TestEveryShutdownSignalLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			env := proctest.NewEnv(t)
			p := serveReady(t, env)
			p.Signal(t, sig)
			assertCleanExit(t, env, p)
		})
	}
}

// TestNohupKeepsTheDaemonThroughSIGHUP: a daemon started under nohup (SIGHUP
// ignored) keeps running when the terminal closes; handling SIGHUP must not
// undo that.
func TestNohupKeepsTheDaemonThroughSIGHUP(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := proctest.Start(t, env, "nohup", cairnBin, "serve", "--foreground")
	waitReady(t, env, p)
	c, err := client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	events := make(chan string, 8)
	go c.Events(context.Background(), func(e, _ string) bool { events <- e; return true })
	waitEvent(t, events, "ready")
	p.Signal(t, syscall.SIGHUP)
	// A daemon that took the signal drains within milliseconds.
	select {
	case e := <-events:
		t.Fatalf("after SIGHUP under nohup the daemon sent %q", e)
	case <-time.After(time.Second):
	}
	if pid, _, ok := proctest.Healthy(context.Background(), env.Paths()); !ok || pid != p.PID() {
		t.Fatalf("the daemon did not survive SIGHUP under nohup (exited: %v)", p.Exited())
	}
	p.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, p)
}

// TestStatusNamesASquatterOnTheStalePort: after a daemon is killed and
// another user's program takes the port its discovery file still names,
// while Cairn's own port is another (free) one, `cairn status` says
// stopped and names the program at the stale address, not just "stopped".
func TestStatusNamesASquatterOnTheStalePort(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	_, record := squat(t, env, true)
	moved := *env
	moved.Port = proctest.FreePort(t)
	code, out, errOut := cairn(t, &moved, "status")
	stale := fmt.Sprintf("127.0.0.1:%d", env.Port)
	if code != exitcode.PortInUse || !strings.Contains(out+errOut, "stopped") || !strings.Contains(out+errOut, stale) ||
		!strings.Contains(out+errOut, "not your daemon") {
		t.Fatalf("status: exit %d, want 3, stopped, naming the program at %s:\n%s%s", code, stale, out, errOut)
	}
	if b, _ := os.ReadFile(record); len(b) > 0 {
		t.Fatalf("the squatter received %q", b)
	}
}
