package mcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/paths"
)

// Daemon is the bridge's way to the data dir's daemon: one proven client,
// found (or started) on the first call and found again when the daemon
// went away or changed its token.
type Daemon struct {
	// Exe is the cairn binary started when no daemon runs;
	// os.Executable() when empty.
	Exe string
	// NoExe, when set, says why there is no cairn binary to start: a
	// running daemon is still used, and a start fails with it.
	NoExe error

	paths paths.Paths
	port  int
	log   *slog.Logger

	mu sync.Mutex
	c  *client.Client
}

// NewDaemon returns a Daemon for the data dir p; port is where a daemon it
// starts listens.
func NewDaemon(p paths.Paths, port int, log *slog.Logger) *Daemon {
	return &Daemon{paths: p, port: port, log: log}
}

// Do runs one request with the current client. After a refused connection
// (the daemon stopped or restarted elsewhere), a 401 or a failed proof (a
// new token: the old one no longer proves the listener) it
// discovers the daemon again, starting one when none runs, and runs the
// request once more: writes carry an Idempotency-Key, so the second try
// does not store twice.
func (d *Daemon) Do(ctx context.Context, req func(*client.Client) error) error {
	c, err := d.client(ctx, nil)
	if err != nil {
		return err
	}
	err = req(c)
	if !retryable(err) {
		return err
	}
	d.log.Info("the daemon went away or changed its token; finding it again", "err", err)
	if c, err = d.client(ctx, c); err != nil {
		return err
	}
	return req(c)
}

// Close releases the client's idle connections.
func (d *Daemon) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		d.c.CloseIdle()
	}
}

// retryable is an answer that says "look for the daemon again". A failed
// proof is among them because the old token fails against a daemon that
// has a new one; the second look probes with the token on disk, and a real
// impostor is an error there.
func retryable(err error) bool {
	var op *net.OpError
	return client.IsUnauthorized(err) || client.IsImpostor(err) || (errors.As(err, &op) && op.Op == "dial")
}

// client returns the current client, or, when there is none or stale is
// the current one, finds the daemon the way `cairn start` does: a proven
// daemon is used, an impostor is an error, and none running is started
// (instance.Start is safe when many bridges start at once).
func (d *Daemon) client(ctx context.Context, stale *client.Client) (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil && d.c != stale {
		return d.c, nil
	}
	if d.c != nil {
		d.c.CloseIdle()
		d.c = nil
	}
	_, _, err := client.Probe(ctx, d.paths)
	if client.IsImpostor(err) {
		return nil, fmt.Errorf("%v; run 'cairn doctor' to see who holds the port", err)
	}
	if err != nil && d.NoExe != nil {
		return nil, fmt.Errorf("no Cairn daemon answers, and this bridge cannot start one: %w", d.NoExe)
	}
	if err != nil {
		res, err := instance.Start(ctx, d.paths, instance.StartOptions{Exe: d.Exe, Port: d.port})
		if err != nil {
			return nil, fmt.Errorf("start the Cairn daemon: %w", err)
		}
		if !res.AlreadyRunning {
			d.log.Info("started the daemon", "addr", res.Addr, "pid", res.PID)
		}
	}
	c, err := client.Discover(d.paths)
	if err != nil {
		return nil, err
	}
	d.c = c
	return c, nil
}
