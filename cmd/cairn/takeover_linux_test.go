package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// `cairn takeover --port X` while a healthy daemon serves on the default
// port and another user's program holds X: refused before anything is
// stopped, so the user keeps the daemon they had.
func TestTakeoverToAnotherUsersPortKeepsTheRunningDaemon(t *testing.T) {
	t.Parallel()
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Fatal("this test needs root to create another local user (make test runs as root in CI)")
	}
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	daemon := serveReady(t, env)

	x := proctest.FreePort(t)
	makeReachable(t, holdportBin)
	theirs := proctest.StartWith(t, env, u.Credential, holdportBin, "-addr", fmt.Sprintf("127.0.0.1:%d", x))
	proctest.Eventually(t, 10*time.Second, "the other user's listener", func() bool {
		return strings.Contains(theirs.Stdout(), "ready") || theirs.Exited()
	})
	if theirs.Exited() {
		t.Fatalf("the other user's listener exited: %s", theirs.Stderr())
	}

	code, out, errOut := takeover(t, env, "--port", fmt.Sprint(x))
	if code == 0 || !strings.Contains(errOut, "your own processes") || !strings.Contains(errOut, "nothing was stopped") {
		t.Fatalf("takeover --port %d: exit %d\n%s%s", x, code, out, errOut)
	}
	if pid, _, ok := proctest.Healthy(context.Background(), env.Paths()); !ok || pid != daemon.PID() || daemon.Exited() {
		t.Fatalf("the healthy daemon PID %d did not survive a refused takeover", daemon.PID())
	}
	if theirs.Exited() {
		t.Fatal("takeover stopped another user's process")
	}
}

// A lock held by an unrelated program whose record names a healthy daemon
// of another data dir: `cairn takeover` and `cairn stop` leave that daemon
// alone and say who really holds the lock.
func TestTakeoverLockHeldByAnotherProcessNamingAnotherDataDirsDaemon(t *testing.T) {
	t.Parallel()
	otherEnv := proctest.NewEnv(t)
	stopDetached(t, otherEnv)
	other := serveReady(t, otherEnv)

	env := proctest.NewEnv(t)
	writeStale(t, env, other.PID())
	squatter := proctest.HoldFlock(t, env.Paths().Lock)

	for _, args := range [][]string{{"takeover", "--yes", "--grace", "1s"}, {"stop", "--force"}} {
		code, out, errOut := cairn(t, env, args...)
		if code == 0 || !strings.Contains(out+errOut, fmt.Sprintf("PID %d", squatter.Process.Pid)) {
			t.Errorf("%s: exit %d, want a refusal naming the lock's holder PID %d\n%s%s", args[0], code, squatter.Process.Pid, out, errOut)
		}
	}
	if pid, _, ok := proctest.Healthy(context.Background(), otherEnv.Paths()); !ok || pid != other.PID() || other.Exited() {
		t.Fatalf("the other data dir's daemon PID %d was stopped", other.PID())
	}
	if !proc.Alive(context.Background(), squatter.Process.Pid) {
		t.Error("the lock's holder was signalled")
	}
}
