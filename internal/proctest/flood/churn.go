package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pipelined is what each write on a pinned connection sends: requests for
// the home page, whose answers are the largest a stranger can ask for.
var pipelined = strings.Repeat("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 64)

type churnConfig struct {
	dialer  net.Dialer
	addr    string
	pinned  bool // hold n pinned connections besides churning
	n       int  // pinned connections
	workers int
	hold    bool
	held    int // the most churn connections held at once (hold)
	dur     time.Duration
}

// churner counts what one churn or pinned flood did.
type churner struct {
	churnConfig
	connects atomic.Int64
	failed   atomic.Int64
	redialed atomic.Int64
	pinnedOK atomic.Int64
	slots    chan struct{} // one per churn connection held at once (hold)
}

// churn runs the churn or pinned flood until cfg.dur has passed or it is
// told to stop, then prints what it did.
func churn(cfg churnConfig) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.dur)
	defer cancel()
	f := &churner{churnConfig: cfg, slots: make(chan struct{}, max(cfg.held, 1))}
	start := time.Now()

	var ready, workers sync.WaitGroup
	if cfg.pinned {
		pd := cfg.dialer
		pd.Control = tinyReceiveBuffer
		for range cfg.n {
			ready.Add(1)
			workers.Go(func() { f.pin(ctx, pd, sync.OnceFunc(ready.Done)) })
		}
	}
	for range cfg.workers {
		ready.Add(1)
		workers.Go(func() { f.churn(ctx, sync.OnceFunc(ready.Done)) })
	}
	ready.Wait()
	fmt.Printf("flooding pinned %d failed %d workers %d\n", f.pinnedOK.Load(), f.failed.Load(), cfg.workers)
	<-ctx.Done()
	elapsed := time.Since(start)
	workers.Wait()
	fmt.Printf("churned %d in %d failed %d redialed %d\n",
		f.connects.Load(), elapsed.Milliseconds(), f.failed.Load(), f.redialed.Load())
}

// churn connects as fast as it can: it closes each connection at once
// with a reset (no TIME_WAIT to run the ports out), or with hold keeps it
// until the server closes it.
func (f *churner) churn(ctx context.Context, first func()) {
	for ctx.Err() == nil {
		c, err := f.dialer.DialContext(ctx, "tcp", f.addr)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.fail(ctx)
			first()
			continue
		}
		f.connects.Add(1)
		first()
		if !f.hold {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			continue
		}
		select {
		case f.slots <- struct{}{}:
		case <-ctx.Done():
			c.Close()
			return
		}
		go func() {
			io.Copy(io.Discard, c)
			c.Close()
			<-f.slots
		}()
	}
}

// pin keeps one connection busy: pipelined requests written until the
// server closes it (the writes block once the answers fill our tiny
// receive buffer and the server's send buffer), then a new one.
func (f *churner) pin(ctx context.Context, d net.Dialer, first func()) {
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", f.addr)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.fail(ctx)
			first()
			continue
		}
		unblock := context.AfterFunc(ctx, func() { c.Close() })
		_, err = io.WriteString(c, pipelined)
		if err == nil {
			f.pinnedOK.Add(1)
		}
		first()
		for err == nil {
			_, err = io.WriteString(c, pipelined)
		}
		unblock()
		c.Close()
		if ctx.Err() == nil {
			f.redialed.Add(1)
		}
	}
}

// fail counts a failed connect and pauses briefly, so a daemon that is
// gone does not turn the flooder into a busy loop.
func (f *churner) fail(ctx context.Context) {
	f.failed.Add(1)
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
