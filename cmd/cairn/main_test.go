//go:build !windows

// The end-to-end tests drive POSIX signals (SIGTERM, SIGKILL, SIGSTOP);
// Windows binaries cannot run on the CI machine.

package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// The real binaries, built once for every test in this package: cairn
// (with cairn-mcp beside it, which `cairn mcp` runs), and holdport, a
// stand-in for another program on the port.
var cairnBin, holdportBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := proctest.Build(dir, "github.com/cairnlabs/cairn/cmd/cairn", "github.com/cairnlabs/cairn/cmd/cairn-mcp", "github.com/cairnlabs/cairn/internal/proctest/holdport")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	cairnBin = bins["github.com/cairnlabs/cairn/cmd/cairn"]
	holdportBin = bins["github.com/cairnlabs/cairn/internal/proctest/holdport"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serve starts `cairn serve --foreground` in env.
func serve(t *testing.T, env *proctest.Env, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, env, cairnBin, append([]string{"serve", "--foreground"}, args...)...)
}

// serveReady starts the daemon and waits until it is ready by the contract:
// the discovery file names it and /health answers with its PID.
func serveReady(t *testing.T, env *proctest.Env, args ...string) *proctest.Proc {
	t.Helper()
	p := serve(t, env, args...)
	waitReady(t, env, p)
	return p
}

func waitReady(t *testing.T, env *proctest.Env, p *proctest.Proc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := instance.WaitReady(ctx, env.Paths(), p.PID(), p.ExitCh()); err != nil {
		t.Fatalf("daemon PID %d not ready: %v\nstdout: %s\nstderr: %s", p.PID(), err, p.Stdout(), p.Stderr())
	}
}

// cairn runs one CLI command to completion in env.
func cairn(t *testing.T, env *proctest.Env, args ...string) (int, string, string) {
	t.Helper()
	return proctest.Run(t, env, cairnBin, args...)
}
