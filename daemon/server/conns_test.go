package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testListener is a real loopback listener wrapped by the policy, with a
// switch that makes Accept fail as it does when the process is out of
// file descriptors.
type testListener struct {
	net.Listener
	emfile atomic.Bool
}

func (l *testListener) Accept() (net.Conn, error) {
	if l.emfile.Load() {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

func newTestConns(t *testing.T, max int, timeout time.Duration) (*conns, *testListener, *listener) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inner := &testListener{Listener: ln}
	set := &conns{max: max, timeout: timeout}
	l := &listener{Listener: inner, set: set}
	t.Cleanup(func() { l.Close() })
	return set, inner, l
}

// pair dials l and accepts through the policy. Dialing and accepting in
// turn makes accept order the order of the calls.
func pair(t *testing.T, l *listener) (client net.Conn, server *conn) {
	t.Helper()
	client, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return client, nc.(*conn)
}

// assertClosed waits for the server's close to reach the client. What the
// server says first (a 400 to a request cut off by the timeout) is read
// and dropped.
func assertClosed(t *testing.T, name string, client net.Conn) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, client); err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s: the server did not close it (read: %v)", name, err)
	}
}

// assertOpen proves the server side still works: a byte written there
// reaches the client.
func assertOpen(t *testing.T, name string, client net.Conn, server *conn) {
	t.Helper()
	if _, err := server.Write([]byte("x")); err != nil {
		t.Errorf("%s: closed by the server: %v", name, err)
		return
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, make([]byte, 1)); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

func authCtx(c *conn) context.Context { return connContext(context.Background(), c) }

func TestConnsEvictOldestUnauthenticated(t *testing.T) {
	set, _, l := newTestConns(t, 3, time.Minute)
	var clients []net.Conn
	var servers []*conn
	for range 5 {
		c, s := pair(t, l)
		clients, servers = append(clients, c), append(servers, s)
	}
	for i := range 2 {
		assertClosed(t, fmt.Sprintf("conn %d", i), clients[i])
	}
	for i := 2; i < 5; i++ {
		assertOpen(t, fmt.Sprintf("conn %d", i), clients[i], servers[i])
	}
	if n := set.unauthCount(); n != 3 {
		t.Errorf("%d unauthenticated conns tracked, want 3", n)
	}
}

func TestConnsKeepAuthenticated(t *testing.T) {
	set, _, l := newTestConns(t, 2, time.Minute)
	ownerC, ownerS := pair(t, l)
	authenticated(authCtx(ownerS))
	var clients []net.Conn
	for range 4 {
		c, _ := pair(t, l)
		clients = append(clients, c)
	}
	assertOpen(t, "the authenticated conn", ownerC, ownerS)
	assertClosed(t, "stranger 0", clients[0])
	assertClosed(t, "stranger 1", clients[1])
	if n := set.unauthCount(); n != 2 {
		t.Errorf("%d unauthenticated conns tracked, want 2", n)
	}
}

// Eviction is strictly oldest first, mid-request or not: a stranger can
// keep old connections busy but cannot make them young, and the newcomer
// (the owner's probe) is always kept.
func TestConnsEvictOldestEvenMidRequest(t *testing.T) {
	set, _, l := newTestConns(t, 2, time.Minute)
	c0, s0 := pair(t, l)
	_ = s0
	c1, s1 := pair(t, l)
	c2, s2 := pair(t, l) // over the cap: c0 goes
	assertClosed(t, "the oldest conn", c0)
	assertOpen(t, "the next", c1, s1)
	assertOpen(t, "the newcomer", c2, s2)
	c3, s3 := pair(t, l)
	assertClosed(t, "the oldest conn after that", c1)
	assertOpen(t, "the newcomer", c3, s3)
	if n := set.unauthCount(); n != 2 {
		t.Fatalf("%d unauthenticated conns tracked, want the cap (2)", n)
	}
}

func TestConnsClampReadDeadline(t *testing.T) {
	const clamp = 50 * time.Millisecond
	_, _, l := newTestConns(t, 10, clamp)
	buf := make([]byte, 1)

	for _, tc := range []struct {
		name     string
		deadline time.Time
	}{
		{"a deadline past the clamp", time.Now().Add(time.Hour)},
		{"no deadline", time.Time{}},
	} {
		_, s := pair(t, l)
		s.SetReadDeadline(tc.deadline)
		start := time.Now()
		_, err := s.Read(buf)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: read on an unauthenticated conn: %v, want a timeout", tc.name, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: timed out after %s, want about %s", tc.name, took, clamp)
		}
	}

	// An earlier deadline is kept: net/http aborts reads with one in the past.
	_, s := pair(t, l)
	s.SetReadDeadline(time.Unix(1, 0))
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past a deadline in the past: %v", err)
	}

	// Authenticating restores the deadline net/http asked for: the read
	// outlasts the clamp and gets the byte the client sends well after it.
	c, s := pair(t, l)
	s.SetReadDeadline(time.Now().Add(time.Hour))
	authenticated(authCtx(s))
	late := time.AfterFunc(6*clamp, func() { c.Write([]byte("x")) })
	defer late.Stop()
	if _, err := s.Read(buf); err != nil {
		t.Fatalf("read on an authenticated conn: %v", err)
	}
	// And later deadlines are no longer clamped.
	s.SetDeadline(time.Time{})
	time.AfterFunc(6*clamp, func() { c.Write([]byte("y")) })
	if _, err := s.Read(buf); err != nil {
		t.Fatalf("second read on an authenticated conn: %v", err)
	}
}

func TestConnsOutOfDescriptors(t *testing.T) {
	set, inner, l := newTestConns(t, 10, time.Minute)
	c0, _ := pair(t, l)
	c1, s1 := pair(t, l)
	inner.emfile.Store(true)
	_, err := l.Accept()
	var ne net.Error
	if !errors.Is(err, syscall.EMFILE) || !errors.As(err, &ne) || !ne.Temporary() { //nolint:staticcheck // http.Server retries on Temporary
		t.Fatalf("Accept out of descriptors: %v, want a temporary EMFILE for http.Server to retry", err)
	}
	assertClosed(t, "the oldest unauthenticated conn", c0)
	assertOpen(t, "the newer conn", c1, s1)
	if n := set.unauthCount(); n != 1 {
		t.Errorf("%d unauthenticated conns tracked, want 1", n)
	}
}

// TestServerConnPolicy runs the API's own http.Server on a wrapped
// listener: strangers over the cap are evicted oldest first, slow and idle
// ones are cut at the short timeout, and the owner's authenticated
// keep-alive connection outlives them all.
func TestServerConnPolicy(t *testing.T) {
	const tok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	s := New(Info{PID: 1, StartedAt: time.Now()}, tok, func() {})
	s.conns.max = 8
	s.conns.timeout = 300 * time.Millisecond
	hs := s.HTTPServer()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(s.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	base := "http://" + ln.Addr().String()

	owner := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 5 * time.Second}
	t.Cleanup(owner.CloseIdleConnections)
	status := func() (reused bool) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
		}))
		resp, err := owner.Do(req)
		if err != nil {
			t.Fatalf("owner's /v1/status: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("owner's /v1/status: %s", resp.Status)
		}
		return reused
	}
	status()

	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Silent strangers, three times the cap: the first two thirds go.
	var strangers []net.Conn
	for range 3 * s.conns.max {
		strangers = append(strangers, dial())
	}
	for i, c := range strangers[:2*s.conns.max] {
		assertClosed(t, fmt.Sprintf("stranger %d", i), c)
	}

	// A slowloris stranger is cut at the short timeout, not at
	// ReadHeaderTimeout; by then the owner's connection has been idle
	// longer than that, so it must have kept its own timeouts.
	slow := dial()
	io.WriteString(slow, "G")
	start := time.Now()
	assertClosed(t, "the slowloris conn", slow)
	if took := time.Since(start); took > hs.ReadHeaderTimeout {
		t.Errorf("the slowloris conn held on for %s", took)
	}
	if !status() {
		t.Error("the owner's authenticated keep-alive connection was closed")
	}

	// An idle keep-alive stranger is cut at the short timeout too.
	idle := dial()
	fmt.Fprintf(idle, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	start = time.Now()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the idle stranger was not closed: %v", err)
	}
	if took := time.Since(start); took > hs.IdleTimeout/10 {
		t.Errorf("the idle stranger held on for %s", took)
	}

	// A plain /health from a fresh connection still answers.
	resp, err = (&http.Client{Timeout: 5 * time.Second}).Get(base + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health after the strangers: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A stranger that never reads its answers cannot hold a connection for the
// server's full write timeout.
func TestConnsClampWriteDeadline(t *testing.T) {
	const clamp = 50 * time.Millisecond
	_, _, l := newTestConns(t, 10, clamp)
	_, s := pair(t, l)
	s.SetWriteDeadline(time.Now().Add(time.Hour))
	start := time.Now()
	buf := make([]byte, 1<<20)
	var err error
	for err == nil && time.Since(start) < 10*time.Second {
		_, err = s.Write(buf) // the peer never reads: the buffers fill
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %v, want a timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("timed out after %s, want about %s", took, clamp)
	}
}

// With the kernel naming peers, another user's connections evict only each
// other: the owner's stay however many strangers arrive.
func TestConnsStrangersEvictOnlyStrangers(t *testing.T) {
	set, _, l := newTestConns(t, 2, time.Minute)
	var mu sync.Mutex
	owners := map[string]bool{} // by the server side's remote address
	set.peer = func(nc net.Conn) peer {
		mu.Lock()
		defer mu.Unlock()
		if owners[nc.RemoteAddr().String()] {
			return peer{uid: os.Geteuid(), known: true}
		}
		return peer{uid: os.Geteuid() + 1, known: true}
	}
	dialOwner := func() (net.Conn, *conn) {
		d, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		owners[d.LocalAddr().String()] = true
		mu.Unlock()
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close(); s.Close() })
		return d, s.(*conn)
	}
	oc, os_ := dialOwner()
	for range 5 {
		pair(t, l) // strangers, over their cap of 2
	}
	assertOpen(t, "the owner's conn", oc, os_)
	if !os_.owner || set.unauthCount() != 2 {
		t.Fatalf("owner %v, %d strangers tracked; want the owner apart and 2 strangers", os_.owner, set.unauthCount())
	}
}

// TestDrainClosesConnectionsThatCarryNoRequest (found by the soak): a
// SIGHUP'd daemon with busy clients took 5 s to stop, because
// http.Server.Shutdown counts a connection on which no request has begun
// (an http.Transport's spare dial) as busy until it is 5 s old or cut by a
// read timeout. Such a connection has nothing to drain: BeginDrain closes
// it, and the drain ends at once.
func TestDrainClosesConnectionsThatCarryNoRequest(t *testing.T) {
	s := New(Info{PID: 1, StartedAt: time.Now()}, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", func() {})
	hs := s.HTTPServer()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(s.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The server has the connection (accepted, no request) before the drain.
	deadline := time.Now().Add(5 * time.Second)
	tracked := func() int {
		s.conns.mu.Lock()
		defer s.conns.mu.Unlock()
		return s.conns.unauth.Len() + s.conns.own.Len()
	}
	for tracked() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	s.BeginDrain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil || time.Since(start) > time.Second {
		t.Fatalf("Shutdown with an unused connection open: %v after %s; want done at once", err, time.Since(start).Round(time.Millisecond))
	}
}
