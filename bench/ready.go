package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

const (
	// pollInterval is the same for both programs, so its quantisation
	// (up to one interval per measurement) cancels out of the ratio.
	pollInterval = 500 * time.Microsecond
	// deadline bounds every wait; hitting it is a harness error, not a data point.
	deadline = 10 * time.Second
)

// healthClient opens a new connection per probe: a kept-alive connection to
// the instance would make its later shutdown close it, adding work to the
// stop latency that a real client does not cause.
var healthClient = &http.Client{
	Timeout:   time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// freePort asks the kernel for a port that is free on 127.0.0.1 and, since
// cairn also binds [::1] where the machine has it, checks that one too.
func freePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !haveIPv6Loopback() {
			return port, nil
		}
		if ln6, err := net.Listen("tcp6", "[::1]:"+strconv.Itoa(port)); err == nil {
			ln6.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port free on both 127.0.0.1 and [::1] after 20 tries")
}

// haveIPv6Loopback is asked once: without ::1 nobody can hold the port there.
var haveIPv6Loopback = sync.OnceValue(func() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
})

// ready reports whether s's discovery file names the port and /health
// answers 200 from the process with pid. It is the readiness a client sees.
func ready(ctx context.Context, s *sandbox, pid int) bool {
	b, err := os.ReadFile(s.addrFile())
	if err != nil || string(b) != s.wantAddr() {
		return false
	}
	return healthPID(ctx, s.port) == pid
}

// healthPID returns the pid that GET /health reports, or 0.
func healthPID(ctx context.Context, port int) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/health", port), nil)
	if err != nil {
		return 0
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var h struct {
		Status string `json:"status"`
		PID    int    `json:"pid"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&h) != nil || h.Status != "ok" {
		return 0
	}
	return h.PID
}

// waitReady polls until p is ready and returns when it first was. It fails
// at once if p exits, and at the deadline if it never gets there.
func waitReady(ctx context.Context, p *proc, s *sandbox) (time.Time, error) {
	limit := time.Now().Add(deadline)
	for {
		if ready(ctx, s, p.pid()) {
			return time.Now(), nil
		}
		if p.exited() {
			return time.Time{}, fmt.Errorf("%s (PID %d) exited with code %d before it was ready%s",
				p.cmd.Path, p.pid(), p.exitCode(), p.tail())
		}
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		if time.Now().After(limit) {
			return time.Time{}, fmt.Errorf("%s (PID %d) not ready after %v (want %q in %s and /health with its PID)%s",
				p.cmd.Path, p.pid(), deadline, s.wantAddr(), s.addrFile(), p.tail())
		}
		time.Sleep(pollInterval)
	}
}
