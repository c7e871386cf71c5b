package client

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
)

// A daemon whose accept queue is full for a moment (another user's connect
// flood) is live: the kernel drops the probe's SYN and would send it again
// only after 1 s, as long as ProbeTimeout, so one dropped SYN made the CLI
// and the tray call a live daemon "not responding" (TestChurnFromAnotherUser
// under load). Here the queue is full and drains 100 ms later; the probe
// must get its answer within ProbeTimeout.
func TestHealthThroughAnAcceptQueueFullForAMoment(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	// A backlog of 0: the queue holds one connection not yet accepted.
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()

	// Fill the queue: connect until a connect is not answered.
	full := false
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			full = true
			break
		}
		defer c.Close()
	}
	if !full {
		t.Fatal("the accept queue never filled")
	}

	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(api.Health{Status: "ok", Service: api.Service, PID: os.Getpid()})
	})}
	defer hs.Close()
	time.AfterFunc(100*time.Millisecond, func() { hs.Serve(ln) })

	c := New(netip.MustParseAddrPort(addr), "")
	defer c.CloseIdle()
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	start := time.Now()
	if _, err := c.Health(ctx); err != nil {
		t.Fatalf("the probe gave up after %s on a daemon whose queue drained after 100 ms: %v", time.Since(start), err)
	}
}
