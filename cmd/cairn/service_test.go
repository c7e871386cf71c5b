//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/service"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// fakeSystemctl plays `systemctl --user` for the CLI: it records every call
// and, like systemd, runs the unit's ExecStart (read from the unit file
// `cairn service install` wrote) as the service's main process. The real
// one needs a user systemd, which CI machines and containers lack.
const fakeSystemctl = `#!/bin/sh
state="$FAKE_SYSTEMD_STATE"
unit="$XDG_CONFIG_HOME/systemd/user/cairn.service"
echo "$*" >> "$state/calls"
[ "$1" = "--user" ] || { echo "fake systemctl: only --user is supported" >&2; exit 1; }
shift
alive() { pid=$(cat "$state/pid" 2>/dev/null) && [ -d "/proc/$pid" ] && ! grep -q ') Z' "/proc/$pid/stat"; }
start() {
	alive && return 0
	[ -f "$unit" ] || { echo "Unit cairn.service not found." >&2; exit 5; }
	line=$(sed -n 's/^ExecStart=//p' "$unit")
	eval "set -- $line"
	CAIRN_SUPERVISOR=systemd "$@" </dev/null >>"$state/out" 2>&1 &
	echo $! > "$state/pid"
}
stop() {
	alive || return 0
	kill -TERM "$pid"
	i=0; while alive && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
}
case "$1" in
daemon-reload|enable|reset-failed) ;;
disable) [ "$2" = "--now" ] && stop ;;
start) start ;;
stop) stop ;;
restart) stop; start ;;
show)
	if alive; then a=active; s=running; else a=inactive; s=dead; pid=0; fi
	case " $* " in
	*" --value "*) echo "$pid" ;;
	*) printf 'LoadState=loaded\nActiveState=%s\nSubState=%s\nMainPID=%s\nUnitFileState=enabled\nExecMainStatus=0\nResult=success\n' $a $s $pid ;;
	esac ;;
*) echo "fake systemctl: unknown command $1" >&2; exit 1 ;;
esac
`

// withFakeSystemd puts the fake systemctl first on the PATH of env's
// processes and returns its state folder.
func withFakeSystemd(t *testing.T, env *proctest.Env) string {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	bin := filepath.Join(dir, "bin")
	os.Mkdir(state, 0o700)
	os.Mkdir(bin, 0o700)
	proctest.WriteExecutable(t, filepath.Join(bin, "systemctl"), fakeSystemctl, 0o755)
	env.Extra = append(env.Extra, "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_SYSTEMD_STATE="+state)
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(state, "pid")); err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return state
}

// copyCairn puts the cairn binary in a new folder called name.
func copyCairn(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	os.MkdirAll(dir, 0o755)
	return proctest.Link(t, cairnBin, dir, "cairn")
}

func unitFile(env *proctest.Env) string {
	return filepath.Join(env.Home, ".config", "systemd", "user", "cairn.service")
}

func TestServiceLifecycleUnderSystemd(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	state := withFakeSystemd(t, env)
	exe := copyCairn(t, "Zoë's cairn bin")
	run := func(args ...string) (int, string, string) { return proctest.Run(t, env, exe, args...) }

	code, out, errOut := run("service", "status")
	if code != 3 || !strings.Contains(out, "not installed") {
		t.Fatalf("status before install: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = run("service", "install")
	if code != 0 || !strings.Contains(out, "Installed the Cairn service") || !strings.Contains(out, "under systemd") {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	text := mustRead(t, unitFile(env))
	// The quote in the folder name makes systemd refuse the path as an
	// executable, so it runs through env.
	if !strings.Contains(text, fmt.Sprintf(`ExecStart=/usr/bin/env "%s" serve --foreground --port %d`, exe, env.Port)) ||
		!strings.Contains(text, "CAIRN_HOME="+env.CairnHome) {
		t.Errorf("unit file:\n%s", text)
	}
	pid, addr, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok || addr.Port() != uint16(env.Port) {
		t.Fatal("no daemon serves after install")
	}
	if p, _ := proc.Lookup(context.Background(), pid); p == nil || p.Cmdline[0] != exe {
		t.Errorf("the daemon is not the unit's ExecStart: %+v", p)
	}

	// Again: nothing written, nothing restarted, the same daemon serves.
	code, out, _ = run("service", "install")
	if code != 0 || !strings.Contains(out, "already installed") {
		t.Errorf("second install: exit %d\n%s", code, out)
	}
	if again, _, _ := proctest.Healthy(context.Background(), env.Paths()); again != pid {
		t.Errorf("second install replaced the daemon (%d, was %d)", again, pid)
	}

	code, out, _ = run("service", "status")
	for _, want := range []string{"systemd user unit cairn.service", "at login  yes", fmt.Sprintf("active (running), PID %d", pid), "running at " + addr.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("status of a running service: exit %d", code)
	}
	var js struct {
		Service service.Status `json:"service"`
	}
	code, out, _ = run("service", "status", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 || js.Service.Exe != exe || js.Service.PID != pid || js.Service.Port != env.Port {
		t.Errorf("status --json: exit %d, %v, %+v", code, err, js.Service)
	}

	// The binary moved: status says so; install from the new place
	// rewrites the unit and restarts the daemon on the new binary.
	moved := copyCairn(t, "new home")
	os.Remove(exe)
	code, out, _ = proctest.Run(t, env, moved, "service", "status")
	if !strings.Contains(out, exe+", which no longer exists") {
		t.Errorf("status after a move: exit %d\n%s", code, out)
	}
	code, out, errOut = proctest.Run(t, env, moved, "service", "install")
	if code != 0 || !strings.Contains(out, "restarted") {
		t.Fatalf("install after a move: exit %d\n%s%s", code, out, errOut)
	}
	proctest.Eventually(t, 20*time.Second, "the moved daemon serves", func() bool {
		p, _, ok := proctest.Healthy(context.Background(), env.Paths())
		if !ok || p == pid {
			return false
		}
		proc, _ := proc.Lookup(context.Background(), p)
		return proc != nil && proc.Cmdline[0] == moved
	})

	code, out, _ = proctest.Run(t, env, moved, "service", "stop")
	if code != 0 || !strings.Contains(out, "Stopped") {
		t.Errorf("stop: exit %d\n%s", code, out)
	}
	if _, _, ok := proctest.Healthy(context.Background(), env.Paths()); ok {
		t.Error("a daemon still serves after service stop")
	}
	code, out, _ = proctest.Run(t, env, moved, "service", "status")
	if code != 3 || !strings.Contains(out, "inactive (dead)") {
		t.Errorf("status of a stopped service: exit %d\n%s", code, out)
	}
	code, out, errOut = proctest.Run(t, env, moved, "service", "start")
	if code != 0 || !strings.Contains(out, "under systemd") {
		t.Errorf("start: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = proctest.Run(t, env, moved, "service", "uninstall")
	if code != 0 || !strings.Contains(out, "Removed") {
		t.Errorf("uninstall: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(unitFile(env)); !os.IsNotExist(err) {
		t.Error("unit file left behind")
	}
	if _, _, ok := proctest.Healthy(context.Background(), env.Paths()); ok {
		t.Error("uninstall left the service's daemon running")
	}
	code, out, _ = proctest.Run(t, env, moved, "service", "uninstall")
	if code != 0 || !strings.Contains(out, "not installed") {
		t.Errorf("second uninstall: exit %d\n%s", code, out)
	}

	calls := mustRead(t, filepath.Join(state, "calls"))
	for _, want := range []string{"--user daemon-reload", "--user enable cairn.service", "--user restart cairn.service", "--user disable --now cairn.service"} {
		if !strings.Contains(calls, want) {
			t.Errorf("systemctl was never asked to %q; calls:\n%s", want, calls)
		}
	}
}

// A daemon that already runs (the tray's, a terminal's) is left alone: the
// service starts at the next login instead of fighting it.
func TestServiceInstallBesideARunningDaemon(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	withFakeSystemd(t, env)
	old := serveReady(t, env)
	code, out, errOut := cairn(t, env, "service", "install")
	if code != 0 || !strings.Contains(out, "The service was not started: Cairn already runs") || !strings.Contains(out, "it starts at your next login") ||
		!strings.Contains(out, "'cairn stop && cairn service start'") {
		t.Fatalf("install beside a running daemon: exit %d\n%s%s", code, out, errOut)
	}
	if pid, _, _ := proctest.Healthy(context.Background(), env.Paths()); pid != old.PID() {
		t.Errorf("the running daemon was replaced by PID %d", pid)
	}
	// What install said is what status says: enabled at login, not running.
	if code, out, _ := cairn(t, env, "service", "status"); code != 3 || !strings.Contains(out, "inactive") || !strings.Contains(out, "at login  yes") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	// service start did not start the service: it says so, and fails.
	code, out, errOut = cairn(t, env, "service", "start")
	if code != 1 || !strings.HasPrefix(errOut, "cairn: the service was not started: Cairn already runs at ") || strings.Contains(out, "under systemd") {
		t.Errorf("service start beside a running daemon: exit %d\n%s%s", code, out, errOut)
	}
}

func TestServiceBadInput(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	withFakeSystemd(t, env)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"service", "install", "--daemon-bin", "/no/such/cairn"}, 2, "not a cairn binary"},
		{[]string{"service", "install", "--port", "70000"}, 2, "out of range"},
		{[]string{"service", "start"}, 1, "not installed; run 'cairn service install'"},
		{[]string{"service", "stop"}, 1, "not installed"},
		{[]string{"service", "frobnicate"}, 2, `cairn service has no command "frobnicate"`},
		{[]string{"login-item"}, 2, "cairn login-item needs one word: on, off or status"},
	} {
		code, out, errOut := cairn(t, env, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%q: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.msg, out, errOut)
		}
	}
}

// noSessionSystemctl fails every call the way systemctl --user does when
// no user manager can be reached (XDG_RUNTIME_DIR unset, as after su).
const noSessionSystemctl = `#!/bin/sh
echo "$*" >> "$FAKE_SYSTEMD_STATE/calls"
echo "Failed to connect to bus: No medium found" >&2
exit 1
`

// Without a systemd user session, install says what is missing and how
// to get it and leaves no unit; a unit installed earlier is reported as
// unknown, never as running or stopped, and start says why it cannot.
func TestServiceWithoutAUserSession(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	state := withFakeSystemd(t, env)
	systemctl := filepath.Join(filepath.Dir(state), "bin", "systemctl")
	proctest.WriteExecutable(t, systemctl, noSessionSystemctl, 0o755)
	code, out, errOut := cairn(t, env, "service", "install")
	if code != 1 || !strings.HasPrefix(errOut, "cairn: the service was not installed: there is no systemd user session to run it in: ") ||
		!strings.Contains(errOut, "No medium found") || !strings.Contains(errOut, "'cairn start'") || strings.Contains(errOut, "--help") {
		t.Errorf("install: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(unitFile(env)); !os.IsNotExist(err) {
		t.Errorf("install left a unit behind: %v", err)
	}
	if code, out, _ := cairn(t, env, "service", "status"); code != 3 || !strings.Contains(out, "not installed") {
		t.Errorf("status after the failed install: exit %d\n%s", code, out)
	}

	// Installed while a session ran; now none does.
	proctest.WriteExecutable(t, systemctl, fakeSystemctl, 0o755)
	if code, out, errOut := cairn(t, env, "service", "install", "--no-start"); code != 0 {
		t.Fatalf("install --no-start: exit %d\n%s%s", code, out, errOut)
	}
	proctest.WriteExecutable(t, systemctl, noSessionSystemctl, 0o755)
	code, out, errOut = cairn(t, env, "service", "status")
	if code != 3 || !strings.Contains(out, "state     unknown\n") || !strings.Contains(out, "at login  no (read from the files") || strings.Contains(out, "active") ||
		!strings.Contains(out, "no systemd user session") {
		t.Errorf("status without a session: exit %d\n%s%s", code, out, errOut)
	}
	var js struct {
		Schema  string         `json:"schema"`
		Service service.Status `json:"service"`
		Running bool           `json:"running"`
	}
	code, out, _ = cairn(t, env, "service", "status", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 3 || js.Schema != schemaServiceStatus || js.Running || js.Service.Running || js.Service.State != "unknown" {
		t.Errorf("status --json without a session: exit %d, %v\n%s", code, err, out)
	}
	code, out, errOut = cairn(t, env, "service", "start")
	if code != 1 || !strings.HasPrefix(errOut, "cairn: the service was not started: there is no systemd user session") {
		t.Errorf("start without a session: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, ok := proctest.Healthy(context.Background(), env.Paths()); ok {
		t.Error("a daemon serves although the service could not start")
	}
}

// The same with the real systemctl, when the machine has one: the test
// environment has no XDG_RUNTIME_DIR, so it reaches no user manager.
func TestServiceWithTheRealSystemctlAndNoSession(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	code, out, errOut := cairn(t, env, "service", "install")
	if _, err := exec.LookPath("systemctl"); err != nil {
		if code != 1 || !strings.Contains(errOut, "systemctl is not installed") {
			t.Errorf("install without systemctl: exit %d\n%s%s", code, out, errOut)
		}
		return
	}
	if code != 1 || !strings.HasPrefix(errOut, "cairn: the service was not installed: there is no systemd user session to run it in: ") ||
		!strings.Contains(errOut, "systemctl said: Failed to connect to") {
		t.Errorf("install: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(unitFile(env)); !os.IsNotExist(err) {
		t.Errorf("install left a unit behind: %v", err)
	}
}
