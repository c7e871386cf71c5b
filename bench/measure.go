package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// sample is one timed run. code is the exit code the measurement is about
// (the second instance's for refusal); -1 where none is reported.
type sample struct {
	d    time.Duration
	code int
}

// measurement is one of the things the issue asks to time, or (context)
// one that explains them and has no goal of its own.
type measurement struct {
	name    string
	run     func(ctx context.Context, prog *program, root string) (sample, error)
	context bool
}

var measurements = []measurement{
	{"start-to-ready", startToReady, false},
	{"second-instance refusal", secondInstance, false},
	{"stop", stopLatency, false},
	{"status (client request)", statusLatency, false},
	{"process start, no work (version)", processStart, true},
}

// processStart times exec to reaped of a process that only starts and
// prints its version: the part of every row above that is the binary's
// size and its packages' init, not anything it does.
func processStart(ctx context.Context, prog *program, root string) (sample, error) {
	s, err := newSandbox(root)
	if err != nil {
		return sample{}, err
	}
	defer s.remove()
	p, t0, err := startArgs(prog, s, "version", prog.version)
	if err != nil {
		return sample{}, err
	}
	defer p.kill()
	if err := p.wait(ctx, deadline); err != nil {
		return sample{}, err
	}
	if code := p.exitCode(); code != 0 {
		return sample{}, fmt.Errorf("%s %v exited %d, want 0%s", prog.name, prog.version, code, p.tail())
	}
	return sample{d: p.exitedAt.Sub(t0), code: -1}, nil
}

// statusLatency times one client request to a ready instance, exec to
// reaped: `cairn status` finds the daemon, proves it (one more round trip
// on the first connection) and reports; the floor reads the discovery file
// and GETs /health like curl would.
func statusLatency(ctx context.Context, prog *program, root string) (sample, error) {
	s, err := newSandbox(root)
	if err != nil {
		return sample{}, err
	}
	defer s.remove()
	d, err := startReady(ctx, prog, s)
	if err != nil {
		return sample{}, err
	}
	defer d.kill()
	q, t0, err := startArgs(prog, s, "query", prog.query(s.port))
	if err != nil {
		return sample{}, err
	}
	defer q.kill()
	if err := q.wait(ctx, deadline); err != nil {
		return sample{}, err
	}
	if code := q.exitCode(); code != 0 {
		return sample{}, fmt.Errorf("%s %v exited %d, want 0%s", prog.name, prog.query(s.port), code, q.tail())
	}
	return sample{d: q.exitedAt.Sub(t0), code: -1}, d.stop(ctx)
}

// startToReady times exec to "a client can find and reach it": the
// discovery file names the port and /health answers with the child's PID.
func startToReady(ctx context.Context, prog *program, root string) (sample, error) {
	s, err := newSandbox(root)
	if err != nil {
		return sample{}, err
	}
	defer s.remove()
	p, t0, err := start(prog, s, "first")
	if err != nil {
		return sample{}, err
	}
	defer p.kill()
	at, err := waitReady(ctx, p, s)
	if err != nil {
		return sample{}, err
	}
	return sample{d: at.Sub(t0), code: -1}, p.stop(ctx)
}

// secondInstance times a start beside a ready instance on the same data dir
// and port, from exec until the refused process is reaped: what a
// supervisor that respawns blindly (launchd KeepAlive) pays each time.
func secondInstance(ctx context.Context, prog *program, root string) (sample, error) {
	s, err := newSandbox(root)
	if err != nil {
		return sample{}, err
	}
	defer s.remove()
	first, err := startReady(ctx, prog, s)
	if err != nil {
		return sample{}, err
	}
	defer first.kill()

	second, t0, err := start(prog, s, "second")
	if err != nil {
		return sample{}, err
	}
	defer second.kill()
	if err := second.wait(ctx, deadline); err != nil {
		return sample{}, fmt.Errorf("second instance: %w", err)
	}
	smp := sample{d: second.exitedAt.Sub(t0), code: second.exitCode()}

	// A refusal that disturbed the running instance would be a fast wrong
	// answer, not a fast refusal.
	if !ready(ctx, s, first.pid()) {
		return sample{}, fmt.Errorf("%s: first instance (PID %d) no longer ready after a second one started and exited %d%s",
			prog.name, first.pid(), smp.code, second.tail())
	}
	return smp, first.stop(ctx)
}

// stopLatency times SIGTERM to reaped, and checks the stop was clean:
// exit 0 and no discovery file left behind for clients to trip on.
func stopLatency(ctx context.Context, prog *program, root string) (sample, error) {
	s, err := newSandbox(root)
	if err != nil {
		return sample{}, err
	}
	defer s.remove()
	p, err := startReady(ctx, prog, s)
	if err != nil {
		return sample{}, err
	}
	defer p.kill()

	t0 := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return sample{}, err
	}
	if err := p.wait(ctx, deadline); err != nil {
		return sample{}, err
	}
	smp := sample{d: p.exitedAt.Sub(t0), code: -1}
	if code := p.exitCode(); code != 0 {
		return sample{}, fmt.Errorf("%s exited %d on SIGTERM, want 0%s", prog.name, code, p.tail())
	}
	for _, f := range []string{s.addrFile(), s.dotAddrFile()} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			return sample{}, fmt.Errorf("%s left %s behind after a clean stop (stat: %v)", prog.name, f, err)
		}
	}
	return smp, nil
}

// startReady starts prog in s and waits, untimed, until it is ready.
func startReady(ctx context.Context, prog *program, s *sandbox) (*proc, error) {
	p, _, err := start(prog, s, "first")
	if err != nil {
		return nil, err
	}
	if _, err := waitReady(ctx, p, s); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}
