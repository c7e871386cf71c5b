//go:build !windows

// The end-to-end tests drive POSIX signals (SIGTERM, SIGKILL, SIGSTOP);
// Windows binaries cannot run on the CI machine.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// stopDetached makes sure a daemon started by `cairn start` (not our child)
// is gone when the test ends.
func stopDetached(t *testing.T, env *proctest.Env) {
	t.Cleanup(func() {
		pid, err := lock.ReadRecord(env.Paths().Lock)
		if err != nil || !proc.Alive(context.Background(), pid) {
			return
		}
		syscall.Kill(pid, syscall.SIGKILL)
	})
}

func TestStartStatusPortStop(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	addr := fmt.Sprintf("127.0.0.1:%d", env.Port)

	code, out, errOut := cairn(t, env, "start")
	if code != 0 || !strings.Contains(out, addr) {
		t.Fatalf("start: exit %d\n%s%s", code, out, errOut)
	}
	pid := healthPID(t, env)
	if out := mustRead(t, env.Paths().DaemonOut); !strings.Contains(out, "serving at "+addr) {
		t.Errorf("daemon.out lacks the daemon's output: %q", out)
	}

	code, out, _ = cairn(t, env, "start")
	if code != 0 || !strings.Contains(out, "already running") || healthPID(t, env) != pid {
		t.Errorf("second start: exit %d, %q", code, out)
	}

	code, out, _ = cairn(t, env, "status")
	if code != 0 || !strings.Contains(out, "running at "+addr) || !strings.Contains(out, fmt.Sprint(pid)) {
		t.Errorf("status: exit %d, %q", code, out)
	}
	var st statusJSON
	code, out, _ = cairn(t, env, "status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || st.State != "running" || st.Daemon == nil ||
		st.Daemon.PID != pid || st.Daemon.Addr != addr || st.Daemon.Version == "" {
		t.Errorf("status --json: exit %d, %q, %v", code, out, err)
	}

	if code, out, _ = cairn(t, env, "port"); code != 0 || strings.TrimSpace(out) != addr {
		t.Errorf("port: exit %d, %q", code, out)
	}
	if code, out, _ = cairn(t, env, "doctor"); code != 0 || !strings.Contains(out, "No problems") {
		t.Errorf("doctor on a healthy daemon: exit %d\n%s", code, out)
	}

	code, out, errOut = cairn(t, env, "stop")
	if code != 0 || !strings.Contains(out, "stopped") {
		t.Fatalf("stop: exit %d, %q %q", code, out, errOut)
	}
	if proc.Alive(context.Background(), pid) {
		t.Error("daemon still alive after stop returned")
	}
	ps := env.Paths()
	for _, f := range append(ps.AddrFiles(), ps.Lock) {
		if exists(f) {
			t.Errorf("%s left after stop", f)
		}
	}

	if code, out, _ = cairn(t, env, "stop"); code != 0 || !strings.Contains(out, "not running") {
		t.Errorf("stop when stopped: exit %d, %q", code, out)
	}
	if code, out, _ = cairn(t, env, "status"); code != 3 || !strings.Contains(out, "stopped") {
		t.Errorf("status when stopped: exit %d, %q", code, out)
	}
	if code, _, errOut = cairn(t, env, "port"); code == 0 || !strings.Contains(errOut, "cairn start") {
		t.Errorf("port when stopped: exit %d, %q", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestStartReportsConflict(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	listenForeign(t, "tcp4", fmt.Sprintf("127.0.0.1:%d", env.Port))
	code, out, errOut := cairn(t, env, "start")
	if code != exitcode.PortInUse {
		t.Fatalf("start: exit %d, want 3\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "already in use") || !strings.Contains(errOut, fmt.Sprintf("PID %d", os.Getpid())) {
		t.Errorf("start should explain the conflict: %q", errOut)
	}
	// The holder is this test, which Cairn never signals: no takeover is
	// offered, another port is.
	if code, out, _ := cairn(t, env, "status"); code != 3 || !strings.Contains(out, "conflict") ||
		strings.Contains(out, "takeover") || !strings.Contains(out, "run 'cairn start --port ") {
		t.Errorf("status: exit %d, %q", code, out)
	}

	var d doctorJSON
	code, out, _ = cairn(t, env, "doctor", "--json")
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	if code != 1 || d.State != instance.StateConflict || len(d.PortHolders) == 0 || d.PortHolders[0].PID != os.Getpid() || d.PortHolders[0].Daemon {
		t.Errorf("doctor: exit %d, %+v", code, d)
	}
	if len(d.Problems) == 0 || !strings.Contains(d.Problems[0].Fix, fmt.Sprintf("kill %d", os.Getpid())) {
		t.Errorf("doctor should give the exact fix: %+v", d.Problems)
	}
	code, out, _ = cairn(t, env, "doctor")
	for _, want := range []string{"already in use", fmt.Sprintf("PID %d", os.Getpid()), "fix:", "user ", "command: "} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

func TestStopFallsBackToSignal(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := serveReady(t, env)
	// Without the right token the API refuses; stop must fall back to
	// SIGTERM of the verified lock holder.
	if err := os.WriteFile(env.Paths().Token, []byte(strings.Repeat("a", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cairn(t, env, "stop", "--json")
	var res instance.StopResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Method != "signal" || res.PID != p.PID() {
		t.Fatalf("stop: exit %d, %q %q %v", code, out, errOut, err)
	}
	assertCleanExit(t, env, p)
}

func TestStopWedgedDaemonNeedsForce(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := serveReady(t, env)
	proctest.Freeze(t, p.PID())

	code, _, errOut := cairn(t, env, "stop", "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "--force") {
		t.Fatalf("stop of a wedged daemon: exit %d, %q", code, errOut)
	}
	code, out, errOut := cairn(t, env, "stop", "--timeout", "1s", "--force")
	if code != 0 || !strings.Contains(out, "killed") {
		t.Fatalf("stop --force: exit %d, %q %q", code, out, errOut)
	}
	p.Wait(t, 10*time.Second)
	ps := env.Paths()
	for _, f := range append(ps.AddrFiles(), ps.Lock) {
		if exists(f) {
			t.Errorf("%s left after a forced stop", f)
		}
	}
}

func TestStopNeverSignalsAForeignLockHolder(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	ps := env.Paths()
	if err := ps.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	// The lock is held (by this test) and its record names `sleep`.
	lk, err := lock.Acquire(ps.Lock, sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Release()

	code, _, errOut := cairn(t, env, "stop", "--force", "--timeout", "1s")
	if code == 0 || !strings.Contains(errOut, "not a Cairn daemon") {
		t.Errorf("stop: exit %d, %q", code, errOut)
	}
	if !proc.Alive(context.Background(), sleep.Process.Pid) {
		t.Fatal("stop killed an unrelated process")
	}
	p := serve(t, env)
	if code := p.Wait(t, 20*time.Second); code != exitcode.LockHeld || !strings.Contains(p.Stderr(), "sleep") {
		t.Errorf("serve beside a foreign lock holder: exit %d, %q", code, p.Stderr())
	}
}

func TestDoctorAfterKill9(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := serveReady(t, env)
	p.Signal(t, syscall.SIGKILL)
	p.Wait(t, 10*time.Second)

	var d doctorJSON
	code, out, _ := cairn(t, env, "doctor", "--json")
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if code != 1 || d.State != instance.StateStopped || d.Lock.Held || !d.Lock.Exists {
		t.Errorf("doctor: exit %d, %+v", code, d)
	}
	fixes := ""
	for _, pr := range d.Problems {
		fixes += pr.Fix + "\n"
	}
	for _, f := range append(env.Paths().AddrFiles(), env.Paths().Lock) {
		if !strings.Contains(fixes, "rm -f "+f) {
			t.Errorf("no fix for stale %s in %q", f, fixes)
		}
	}
	// `cairn stop` cleans what the dead daemon left.
	if code, out, _ := cairn(t, env, "stop"); code != 0 || !strings.Contains(out, "not running") {
		t.Errorf("stop: exit %d, %q", code, out)
	}
	for _, f := range append(env.Paths().AddrFiles(), env.Paths().Lock) {
		if exists(f) {
			t.Errorf("%s not cleaned", f)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	code, out, _ := cairn(t, env, "version", "--json")
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v["version"] == "" {
		t.Errorf("version --json: exit %d, %q", code, out)
	}
	// --version prints the same version, alone, for scripts and packagers.
	if code, out, _ := cairn(t, env, "--version"); code != 0 || out != "cairn "+v["version"]+"\n" {
		t.Errorf("--version: exit %d, %q; want %q", code, out, "cairn "+v["version"]+"\n")
	}
}
