//go:build !windows

package instance

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/service"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// fakeManager plays a service manager with Restart=always: it runs a real
// `cairn serve --foreground` and starts a new one whenever it exits, unless
// it was stopped through the manager (StopUnit). Killing its daemon, as a
// takeover that ignored the manager would, only gets it respawned.
type fakeManager struct {
	t    *testing.T
	env  *proctest.Env
	unit service.Unit

	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{} // closed when cmd has exited
	stopped   bool
	stopCalls int
	decided   chan bool // after each exit: whether it respawned
	// serviceOfErr makes ServiceOf fail: the manager cannot be asked.
	serviceOfErr error
}

func newFakeManager(t *testing.T, env *proctest.Env) *fakeManager {
	f := &fakeManager{t: t, env: env, decided: make(chan bool, 16),
		unit: service.Unit{Manager: service.Systemd, Name: service.UnitName, Ours: true}}
	f.mu.Lock()
	f.spawnLocked()
	f.mu.Unlock()
	t.Cleanup(f.shutdown)
	return f
}

func (f *fakeManager) spawnLocked() {
	cmd := exec.Command(cairnBin, "serve", "--foreground")
	cmd.Env = append(f.env.Environ(), "CAIRN_SUPERVISOR=systemd")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.t.Errorf("fake manager: start the daemon: %v", err)
		return
	}
	done := make(chan struct{})
	f.cmd, f.done = cmd, done
	go func() {
		cmd.Wait()
		close(done)
		f.mu.Lock()
		defer f.mu.Unlock()
		respawn := !f.stopped && f.cmd == cmd
		if respawn {
			f.spawnLocked() // Restart=always
		}
		f.decided <- respawn
	}()
}

func (f *fakeManager) current() (int, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cmd.Process.Pid, f.done
}

func (f *fakeManager) ServiceOf(ctx context.Context, pid int) (*service.Unit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.serviceOfErr != nil {
		return nil, f.serviceOfErr
	}
	if f.stopped || f.cmd.Process.Pid != pid {
		return nil, nil
	}
	u := f.unit
	return &u, nil
}

// unreachable makes ServiceOf fail from now on, as systemctl does when the
// user's bus is gone.
func (f *fakeManager) unreachable() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serviceOfErr = errors.New("Failed to connect to bus")
}

// StopUnit stops for good, as systemctl stop does: SIGTERM (plus SIGCONT,
// so a stopped process sees it), SIGKILL after a timeout.
func (f *fakeManager) StopUnit(ctx context.Context, u service.Unit) error {
	f.mu.Lock()
	f.stopCalls++
	if u.Name != f.unit.Name {
		f.mu.Unlock()
		return errors.New("fake manager: no such unit " + u.Name)
	}
	f.stopped = true
	cmd, done := f.cmd, f.done
	f.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	return nil
}

func (f *fakeManager) shutdown() {
	f.mu.Lock()
	f.stopped = true
	cmd, done := f.cmd, f.done
	f.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		<-done
	}
}

// waitServing waits until the fake's current daemon answers.
func (f *fakeManager) waitServing(t *testing.T) int {
	t.Helper()
	pid, done := f.current()
	exited := make(chan int, 1)
	go func() { <-done; exited <- -1 }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := WaitReady(ctx, f.env.Paths(), pid, exited); err != nil {
		t.Fatalf("the service's daemon PID %d is not ready: %v", pid, err)
	}
	return pid
}

// respawned waits for the manager's decision after its daemon exited.
func respawned(t *testing.T, f *fakeManager) bool {
	t.Helper()
	select {
	case r := <-f.decided:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the fake manager's daemon did not exit")
		return false
	}
}

// The fake is a faithful opponent: a daemon that is only killed comes back.
func TestFakeManagerRespawnsAKilledDaemon(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	f := newFakeManager(t, env)
	pid := f.waitServing(t)
	syscall.Kill(pid, syscall.SIGKILL)
	if !respawned(t, f) {
		t.Fatal("a killed daemon was not respawned")
	}
	if again := f.waitServing(t); again == pid {
		t.Fatalf("still PID %d", pid)
	}
}

func TestTakeoverStopsAServiceThroughItsManager(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	f := newFakeManager(t, env)
	pid := f.waitServing(t)
	ctx := context.Background()
	p := env.Paths()

	d := DiagnoseWith(ctx, p, env.Port, DiagnoseOptions{Services: f})
	if d.State != StateRunning || d.Service == nil || d.Service.Name != service.UnitName || d.Supervisor != "systemd" {
		t.Fatalf("diagnosis: state %s, service %+v, supervisor %q", d.State, d.Service, d.Supervisor)
	}
	if d.Holder.Kind != HolderService || !d.Holder.CanTakeOver() || !strings.Contains(d.Holder.Reason, "systemd user unit cairn.service") {
		t.Fatalf("holder: %+v", d.Holder)
	}

	var steps []string
	what, err := Takeover(ctx, p, env.Port, TakeoverOptions{Grace: time.Second, Services: f,
		Log: func(msg string, _ ...any) { steps = append(steps, msg) }})
	if err != nil {
		t.Fatalf("takeover: %v (steps %q)", err, steps)
	}
	if f.stopCalls != 1 || !strings.Contains(what, "cairn.service") {
		t.Errorf("takeover said %q after %d StopUnit calls", what, f.stopCalls)
	}
	if proc.Alive(ctx, pid) {
		t.Fatalf("the service's daemon PID %d still runs", pid)
	}
	if respawned(t, f) {
		t.Fatal("the manager respawned the daemon")
	}

	// Our own daemon now serves, and the manager stays out of the way.
	ours := proctest.Start(t, env, cairnBin, "serve", "--foreground")
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := WaitReady(rctx, p, ours.PID(), ours.ExitCh()); err != nil {
		t.Fatalf("our daemon after the takeover: %v\n%s", err, ours.Stderr())
	}
	if d := DiagnoseWith(ctx, p, env.Port, DiagnoseOptions{Services: f}); d.Service != nil || d.Holder.Kind != HolderCairn {
		t.Errorf("our own daemon is classified as %+v", d.Holder)
	}
}

// A service-run daemon that hangs is stopped through the manager as well:
// a kill would be answered with a respawn.
func TestTakeoverStopsAWedgedServiceThroughItsManager(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	f := newFakeManager(t, env)
	pid := f.waitServing(t)
	proctest.Freeze(t, pid)
	ctx := context.Background()

	d := DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: f})
	if d.State != StateNotResponding || d.Holder.Kind != HolderService || !strings.Contains(d.Holder.Reason, "does not answer") {
		t.Fatalf("diagnosis of a stopped service daemon: %s %+v", d.State, d.Holder)
	}
	if !strings.Contains(d.Problems[0].Fix, "systemctl --user stop cairn.service") {
		t.Errorf("the fix suggests %q", d.Problems[0].Fix)
	}
	if _, err := Takeover(ctx, env.Paths(), env.Port, TakeoverOptions{Grace: time.Second, Services: f}); err != nil {
		t.Fatal(err)
	}
	if f.stopCalls != 1 || proc.Alive(ctx, pid) {
		t.Fatalf("StopUnit calls %d, PID %d alive %v", f.stopCalls, pid, proc.Alive(ctx, pid))
	}
	if respawned(t, f) {
		t.Fatal("the manager respawned the daemon")
	}
	if held, _ := lock.Probe(env.Paths().Lock); held {
		t.Error("the lock is still held")
	}
}

// When the manager cannot be asked, the daemon's own word that systemd
// started it is enough to refuse a takeover that would fight it.
func TestTakeoverRefusesAnUnconfirmedService(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	f := newFakeManager(t, env)
	pid := f.waitServing(t)
	f.unreachable()
	ctx := context.Background()

	d := DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: f})
	if d.Service == nil || d.Service.Name != "" || d.Holder.Kind != HolderUntouchable || d.Holder.CanTakeOver() ||
		!strings.Contains(d.Holder.Reason, "systemctl --user stop") {
		t.Fatalf("unconfirmed service: %+v / %+v", d.Service, d.Holder)
	}
	if _, err := Takeover(ctx, env.Paths(), env.Port, TakeoverOptions{Grace: time.Second, Services: f}); err == nil {
		t.Fatal("takeover of an unconfirmed service went ahead")
	}
	if !proc.Alive(ctx, pid) || f.stopCalls != 0 {
		t.Fatal("the refused takeover touched the daemon")
	}

	// Hung as well: its environment (CAIRN_SUPERVISOR, INVOCATION_ID) is
	// the only word left, and it is enough to refuse.
	proctest.Freeze(t, pid)
	d = DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: f})
	if d.State != StateNotResponding || d.Service == nil || d.Service.Manager != service.Systemd || d.Holder.Kind != HolderUntouchable {
		t.Fatalf("unconfirmed, hung service: %s %+v / %+v", d.State, d.Service, d.Holder)
	}
}

// A daemon that answered /health and then hung before /v1/status (the
// race a CI run caught) still counts as the service's: its environment
// says so, and a takeover must not fight the manager.
func TestFindServiceFallsBackToTheEnvironmentWhenStatusHangs(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	f := newFakeManager(t, env)
	pid := f.waitServing(t)
	f.unreachable()
	// A client of an address where nothing answers: /v1/status cannot be
	// asked at all.
	nowhere := client.New(netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", proctest.FreePort(t))), strings.Repeat("0", 64))
	u, supervisor := findService(context.Background(), nowhere, f, pid)
	if u == nil || u.Manager != service.Systemd || u.Name != "" || supervisor != "" {
		t.Fatalf("service %+v, supervisor %q", u, supervisor)
	}
}

// A daemon the manager does not run is an ordinary Cairn daemon, whatever
// its environment says.
func TestDiagnoseDaemonNoServiceRuns(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := proctest.Start(t, env, cairnBin, "serve", "--foreground")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := WaitReady(ctx, env.Paths(), p.PID(), p.ExitCh()); err != nil {
		t.Fatal(err)
	}
	d := DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: noServices{}})
	if d.Service != nil || d.Holder.Kind != HolderCairn {
		t.Fatalf("a terminal's daemon: %+v / %+v", d.Service, d.Holder)
	}
	d = DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: systemUnit{}})
	if d.Holder.Kind != HolderUntouchable || !strings.Contains(d.Holder.Reason, "sudo systemctl stop cairn.service") {
		t.Fatalf("a system unit's daemon: %+v", d.Holder)
	}
}

type noServices struct{}

func (noServices) ServiceOf(context.Context, int) (*service.Unit, error) { return nil, nil }
func (noServices) StopUnit(context.Context, service.Unit) error          { return errors.New("no") }

type systemUnit struct{ noServices }

func (systemUnit) ServiceOf(context.Context, int) (*service.Unit, error) {
	return &service.Unit{Manager: service.Systemd, Name: "cairn.service", System: true}, nil
}

// `cairn stop` of a service-run daemon goes through the manager too, even
// with --force on a daemon that hangs.
func TestStopGoesThroughTheServiceManager(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	f := newFakeManager(t, env)
	pid := f.waitServing(t)
	proctest.Freeze(t, pid)
	ctx := context.Background()
	res, err := Stop(ctx, env.Paths(), StopOptions{Timeout: 5 * time.Second, Force: true, Services: f})
	if err != nil || res.Method != "service" || res.PID != pid || res.Service == nil || res.Service.Name != service.UnitName {
		t.Fatalf("stop: %+v, %v", res, err)
	}
	if respawned(t, f) || f.stopCalls != 1 {
		t.Fatalf("the manager respawned the daemon (StopUnit calls: %d)", f.stopCalls)
	}
	// Nothing left: a second stop finds nothing to stop.
	if res, err := Stop(ctx, env.Paths(), StopOptions{Services: f}); err != nil || res.WasRunning {
		t.Fatalf("second stop: %+v, %v", res, err)
	}
}
