package instance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// serveReady starts `cairn serve --foreground` in env and waits until it
// serves by the contract (discovery file plus /health with its PID).
func serveReady(t *testing.T, env *proctest.Env) *proctest.Proc {
	t.Helper()
	d := proctest.Start(t, env, cairnBin, "serve", "--foreground")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := WaitReady(ctx, env.Paths(), d.PID(), d.ExitCh()); err != nil {
		t.Fatalf("daemon PID %d not ready: %v\n%s", d.PID(), err, d.Stderr())
	}
	return d
}

// holdPort starts holdport listening on addr and waits until it does.
func holdPort(t *testing.T, env *proctest.Env, addr string) *proctest.Proc {
	t.Helper()
	p := proctest.Start(t, env, holdportBin, "-addr", addr)
	proctest.Eventually(t, 10*time.Second, "holdport ready on "+addr, func() bool {
		return strings.Contains(p.Stdout(), "ready") || p.Exited()
	})
	if p.Exited() {
		t.Fatalf("holdport on %s exited: %s", addr, p.Stderr())
	}
	return p
}

// The user confirmed stopping A; by the time the engine acts B holds the
// port too. It must stop neither.
func TestTakeoverRefusesAHolderThatChangedSinceConfirmation(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	ctx := context.Background()
	a := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port))
	shown := Classify(DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: noServices{}}))
	if shown.Kind != HolderForeign || len(shown.Processes) != 1 || shown.Processes[0].PID != a.PID() {
		t.Fatalf("the holder shown: %+v, want holdport PID %d", shown, a.PID())
	}

	b := holdPort(t, env, fmt.Sprintf("[::1]:%d", env.Port))
	_, err := Takeover(ctx, env.Paths(), env.Port, TakeoverOptions{Grace: time.Second, Services: noServices{}, Expect: &shown})
	if !errors.Is(err, ErrHolderChanged) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", b.PID())) ||
		!strings.Contains(err.Error(), "cairn takeover") {
		t.Fatalf("takeover after the holder changed: %v, want ErrHolderChanged naming PID %d and what to run", err, b.PID())
	}
	if a.Exited() || b.Exited() {
		t.Fatalf("a refused takeover stopped a process: A exited %v, B exited %v", a.Exited(), b.Exited())
	}

	// The same holder, as confirmed, is stopped (and only after that does a
	// changed one count as a change).
	env2 := proctest.NewEnv(t)
	a2 := holdPort(t, env2, fmt.Sprintf("127.0.0.1:%d", env2.Port))
	shown = Classify(DiagnoseWith(ctx, env2.Paths(), env2.Port, DiagnoseOptions{Services: noServices{}}))
	if _, err := Takeover(ctx, env2.Paths(), env2.Port, TakeoverOptions{Grace: time.Second, Services: noServices{}, Expect: &shown}); err != nil {
		t.Fatalf("takeover of the confirmed holder: %v", err)
	}
	a2.Wait(t, 10*time.Second)
}

// An unrelated process holds our lock and its record names a healthy Cairn
// daemon of another data dir: that daemon is not ours to stop.
func TestTakeoverDistrustsALockRecordNamingAnotherDataDirsDaemon(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	otherEnv := proctest.NewEnv(t)
	other := serveReady(t, otherEnv)

	env := proctest.NewEnv(t)
	ps := env.Paths()
	if err := ps.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ps.Lock, []byte(lock.FormatRecord(other.PID())), 0o600); err != nil {
		t.Fatal(err)
	}
	squatter := proctest.HoldFlock(t, ps.Lock)

	d := DiagnoseWith(ctx, ps, env.Port, DiagnoseOptions{Services: noServices{}})
	if d.Lock.Holder != nil || !strings.Contains(d.Lock.Unconfirmed, fmt.Sprintf("PID %d", squatter.Process.Pid)) {
		t.Errorf("lock report trusts the record: holder %v, unconfirmed %q", d.Lock.Holder, d.Lock.Unconfirmed)
	}
	if d.Holder.Kind != HolderUntouchable || d.Holder.CanTakeOver() {
		t.Errorf("classified as %+v, want untouchable", d.Holder)
	}

	_, err := Takeover(ctx, ps, env.Port, TakeoverOptions{Grace: time.Second, Services: noServices{}})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", squatter.Process.Pid)) {
		t.Errorf("takeover: %v, want a refusal naming the lock's real holder PID %d", err, squatter.Process.Pid)
	}
	if _, err := Stop(ctx, ps, StopOptions{Timeout: time.Second, Force: true}); err == nil {
		t.Error("stop signalled the daemon a foreign lock record names")
	}
	if pid, _, ok := proctest.Healthy(ctx, otherEnv.Paths()); !ok || pid != other.PID() || other.Exited() {
		t.Fatalf("the other data dir's daemon PID %d was stopped (healthy %v, exited %v)", other.PID(), ok, other.Exited())
	}
	if !proc.Alive(ctx, squatter.Process.Pid) {
		t.Error("the lock's holder was signalled")
	}
}

// `takeover --port X`: a healthy daemon serves on its own port and another
// user's program holds X. Nothing may be stopped, the daemon least of all.
func TestTakeoverToAPortAnotherUserHoldsStopsNothing(t *testing.T) {
	t.Parallel()
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Fatal("this test needs root to create another local user (make test runs as root in CI)")
	}
	ctx := context.Background()
	env := proctest.NewEnv(t)
	daemon := serveReady(t, env)

	x := proctest.FreePort(t)
	theirs := proctest.StartWith(t, env, u.Credential, proctest.Share(t, holdportBin), "-addr", fmt.Sprintf("127.0.0.1:%d", x))
	proctest.Eventually(t, 10*time.Second, "the other user's listener", func() bool {
		return strings.Contains(theirs.Stdout(), "ready") || theirs.Exited()
	})
	if theirs.Exited() {
		t.Fatalf("the other user's listener exited: %s", theirs.Stderr())
	}

	d := DiagnoseWith(ctx, env.Paths(), x, DiagnoseOptions{Services: noServices{}})
	if d.Holder.Kind != HolderUntouchable || !strings.Contains(d.Holder.Reason, "your own processes") {
		t.Errorf("port %d of another user, daemon on %d: classified %+v, want untouchable", x, env.Port, d.Holder)
	}
	_, err := Takeover(ctx, env.Paths(), x, TakeoverOptions{Grace: time.Second, Services: noServices{}})
	if err == nil || !strings.Contains(err.Error(), "your own processes") || !strings.Contains(err.Error(), "nothing was stopped") {
		t.Errorf("takeover --port %d: %v, want a refusal that says nothing was stopped", x, err)
	}
	if pid, _, ok := proctest.Healthy(ctx, env.Paths()); !ok || pid != daemon.PID() {
		t.Fatalf("the healthy daemon PID %d was stopped by a refused takeover", daemon.PID())
	}
	if theirs.Exited() {
		t.Fatal("takeover stopped another user's process")
	}
}

// TestStopLeavesADaemonItWasNotAskedFor: a stop for the PID the user
// confirmed finds another daemon in its place and stops nothing.
func TestStopLeavesADaemonItWasNotAskedFor(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	d := proctest.Start(t, env, cairnBin, "serve", "--foreground")
	ctx := context.Background()
	if _, err := WaitReady(ctx, env.Paths(), d.PID(), d.ExitCh()); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		_, err := Stop(ctx, env.Paths(), StopOptions{Timeout: time.Second, Force: force, ExpectPID: d.PID() + 1})
		if !errors.Is(err, ErrHolderChanged) {
			t.Fatalf("force %v: %v, want ErrHolderChanged", force, err)
		}
		if pid, _, ok := proctest.Healthy(ctx, env.Paths()); !ok || pid != d.PID() {
			t.Fatalf("force %v: the daemon was stopped", force)
		}
	}
}

// TestAStartLosingToThePortIsNoHolder (found by the soak): while another
// program held the port, the MCP bridges and `cairn remember` kept
// starting daemons, each holding the lock for the moment it takes to fail
// its bind. A diagnosis in that moment said "a Cairn daemon holds the lock
// but does not answer": the tray flapped to "Not responding" naming a
// start that was already gone, and a takeover of the program the user
// confirmed refused it as a changed holder, so Take over failed for as
// long as the writers retried. Such a start (here frozen right after it
// took the lock) is no holder: the conflict is the program on the port.
func TestAStartLosingToThePortIsNoHolder(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	ctx := context.Background()
	hp := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port))
	shown := Classify(DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: noServices{}}))
	if shown.Kind != HolderForeign || len(shown.Processes) != 1 || shown.Processes[0].PID != hp.PID() {
		t.Fatalf("the holder shown: %+v, want holdport PID %d", shown, hp.PID())
	}
	if err := env.Paths().EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	starter := lockedStart(t, env)

	d := DiagnoseWith(ctx, env.Paths(), env.Port, DiagnoseOptions{Services: noServices{}})
	if d.State != StateConflict || d.Holder.Kind != HolderForeign || len(d.Holder.Processes) != 1 || d.Holder.Processes[0].PID != hp.PID() {
		t.Fatalf("with a start (PID %d) holding the lock: state %s, holder %+v; want a conflict with holdport PID %d",
			starter.PID(), d.State, d.Holder, hp.PID())
	}
	if _, err := Takeover(ctx, env.Paths(), env.Port, TakeoverOptions{Grace: time.Second, Services: noServices{}, Expect: &shown}); err != nil {
		t.Fatalf("takeover of the confirmed holder while a start holds the lock: %v", err)
	}
	hp.Wait(t, 10*time.Second)
	syscall.Kill(starter.PID(), syscall.SIGCONT)
}

// lockedStart starts `cairn serve --foreground` while the port is taken and
// freezes it the moment it holds the data dir's lock (before it fails its
// bind and leaves), retrying until it catches one in time.
func lockedStart(t *testing.T, env *proctest.Env) *proctest.Proc {
	t.Helper()
	for range 50 {
		p := proctest.Start(t, env, cairnBin, "serve", "--foreground")
		for !p.Exited() {
			if pids, _ := proc.FlockHolders(env.Paths().Lock); slices.Contains(pids, p.PID()) {
				syscall.Kill(p.PID(), syscall.SIGSTOP)
				if !p.Exited() {
					t.Cleanup(func() { syscall.Kill(p.PID(), syscall.SIGCONT) })
					return p
				}
			}
		}
	}
	t.Fatal("never caught a start holding the lock")
	return nil
}

// TestStopEndsWhenASuccessorTakesTheLock (found by the soak): with clients
// that start Cairn whenever none answers (MCP bridges, `cairn remember`),
// a successor takes the lock the moment the stopped daemon lets go. Stop
// waited for the lock to be free, which it never was, for its whole
// timeout, and then met the successor (a changed holder, or with no PID to
// expect, a daemon nobody asked it to stop): the tray's Stop and Restart
// took 10 s. The stopped daemon is gone; that is the end of Stop.
func TestStopEndsWhenASuccessorTakesTheLock(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	ctx := context.Background()
	a := serveReady(t, env)
	// Starters, the way bridges retry: while a serves each exits 0; once
	// it is gone one of them wins the lock.
	stop := make(chan struct{})
	var starters sync.WaitGroup
	for range 3 {
		starters.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := proctest.Start(t, env, cairnBin, "serve", "--foreground")
				select {
				case <-p.Done():
				case <-stop:
					return
				}
			}
		})
	}
	t.Cleanup(func() { close(stop); starters.Wait() })
	start := time.Now()
	res, err := Stop(ctx, env.Paths(), StopOptions{Timeout: 10 * time.Second, ExpectPID: a.PID()})
	if took := time.Since(start); err != nil || res.PID != a.PID() || took > 5*time.Second {
		t.Fatalf("Stop of PID %d with successors starting: %+v, %v after %s; want it stopped at once", a.PID(), res, err, took.Round(time.Millisecond))
	}
	a.Wait(t, 10*time.Second)
}
