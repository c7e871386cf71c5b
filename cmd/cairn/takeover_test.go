//go:build !windows

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// holdPort starts another program listening on addr and waits until it does.
func holdPort(t *testing.T, env *proctest.Env, addr string, args ...string) *proctest.Proc {
	t.Helper()
	p := proctest.Start(t, env, holdportBin, append([]string{"-addr", addr}, args...)...)
	proctest.Eventually(t, 10*time.Second, "holdport ready", func() bool {
		return strings.Contains(p.Stdout(), "ready") || p.Exited()
	})
	if p.Exited() {
		t.Fatalf("holdport exited: %s", p.Stderr())
	}
	return p
}

// bystander is an unrelated process that must survive every takeover.
func bystander(t *testing.T) *exec.Cmd {
	t.Helper()
	c := exec.Command("sleep", "600")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c
}

// assertOursServes checks the end state of every takeover: a daemon of
// ours serves on the port, and it is not any of the old PIDs.
func assertOursServes(t *testing.T, env *proctest.Env, old ...int) {
	t.Helper()
	pid, addr, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok || addr.Port() != uint16(env.Port) {
		t.Fatalf("no daemon of ours serves on port %d", env.Port)
	}
	for _, o := range old {
		if pid == o {
			t.Fatalf("the old holder PID %d still serves", o)
		}
	}
	ls, _ := proc.Listeners(context.Background(), env.Port)
	for _, l := range ls {
		if l.PID != pid {
			t.Errorf("%s still held by PID %d", l.Addr, l.PID)
		}
	}
}

func takeover(t *testing.T, env *proctest.Env, args ...string) (int, string, string) {
	t.Helper()
	return cairn(t, env, append([]string{"takeover", "--yes", "--grace", "1s"}, args...)...)
}

func TestTakeoverForeignListener(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{{"obeys SIGTERM", nil}, {"ignores SIGTERM", []string{"-ignore-term"}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := proctest.NewEnv(t)
			stopDetached(t, env)
			by := bystander(t)
			holder := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port), tc.args...)
			code, out, errOut := takeover(t, env)
			if code != 0 || !strings.Contains(out, fmt.Sprintf("PID %d", holder.PID())) {
				t.Fatalf("takeover: exit %d\n%s%s", code, out, errOut)
			}
			holder.Wait(t, 10*time.Second)
			assertOursServes(t, env, holder.PID())
			if !proc.Alive(context.Background(), by.Process.Pid) {
				t.Error("takeover killed an unrelated process")
			}
		})
	}
}

func TestTakeoverCairnFromATerminal(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	old := serveReady(t, env)
	var d doctorJSON
	code, out, _ := cairn(t, env, "doctor", "--json")
	if err := jsonUnmarshal(out, &d); err != nil || code != 0 || d.Takeover.Kind != instance.HolderCairn || !d.Takeover.Offered {
		t.Fatalf("doctor classification: %d %v %+v", code, err, d.Takeover)
	}
	code, out, errOut := takeover(t, env)
	if code != 0 {
		t.Fatalf("takeover: exit %d\n%s%s", code, out, errOut)
	}
	// Drained through the API: a clean exit, not a kill.
	if c := old.Wait(t, 10*time.Second); c != 0 {
		t.Errorf("old daemon exit %d, want a graceful 0", c)
	}
	assertOursServes(t, env, old.PID())
}

func TestTakeoverWedgedDaemon(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	old := serveReady(t, env)
	proctest.Freeze(t, old.PID())
	code, out, errOut := takeover(t, env)
	if code != 0 {
		t.Fatalf("takeover: exit %d\n%s%s", code, out, errOut)
	}
	old.Wait(t, 10*time.Second)
	assertOursServes(t, env, old.PID())
}

func TestTakeoverDeadPIDInLock(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	ps := env.Paths()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeStale(t, env, dead.Process.Pid)
	code, out, errOut := takeover(t, env)
	if code != 0 {
		t.Fatalf("takeover: exit %d\n%s%s", code, out, errOut)
	}
	assertOursServes(t, env)
	if got, _ := discovery.Read(ps.DotAddrFile); got.Port() != uint16(env.Port) {
		t.Errorf("dotfile not rewritten: %v", got)
	}
}

func TestTakeoverLockRecordNamesUnrelatedProcess(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	by := bystander(t)
	writeStale(t, env, by.Process.Pid) // a PID reused by an unrelated process
	code, out, errOut := takeover(t, env)
	if code != 0 {
		t.Fatalf("takeover: exit %d\n%s%s", code, out, errOut)
	}
	assertOursServes(t, env)
	if !proc.Alive(context.Background(), by.Process.Pid) {
		t.Fatal("takeover killed the unrelated process named in a stale lock record")
	}
}

func TestTakeoverNeverStopsAnotherUsersProcess(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("this test runs the other user's process as nobody, which needs root (make test runs as root in CI)")
	}
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	makeReachable(t, holdportBin)
	other := proctest.StartWith(t, env, func(a *syscall.SysProcAttr) {
		a.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	}, holdportBin, "-addr", fmt.Sprintf("127.0.0.1:%d", env.Port))
	proctest.Eventually(t, 10*time.Second, "nobody's listener", func() bool { return strings.Contains(other.Stdout(), "ready") })

	code, out, errOut := takeover(t, env)
	if code == 0 || !strings.Contains(errOut, "your own processes") || !strings.Contains(errOut, "--port") {
		t.Fatalf("takeover of another user's process: exit %d\n%s%s", code, out, errOut)
	}
	if other.Exited() {
		t.Fatal("takeover stopped another user's process")
	}
}

func TestTakeoverNeedsConfirmation(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	holder := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port))
	code, _, errOut := cairn(t, env, "takeover")
	if code != 2 || !strings.Contains(errOut, "--yes") {
		t.Errorf("takeover without a terminal or --yes: exit %d, %q", code, errOut)
	}
	if holder.Exited() {
		t.Error("an unconfirmed takeover stopped the holder")
	}
}
