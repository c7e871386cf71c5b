package client

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/server"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// serve runs the real API on a loopback port and returns its address.
func serve(t *testing.T, pid int) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	hs := server.New(server.Info{PID: pid, Addr: addr.String(), StartedAt: time.Now()}, testToken, func() {}).HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return addr
}

// relay forwards every connection on a new port to target and records what
// clients sent through it: a squatter that asks the real daemon for proofs.
func relay(t *testing.T, target netip.AddrPort) (netip.AddrPort, func() string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var seen strings.Builder
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp4", target.String())
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(c, up)
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					mu.Lock()
					seen.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
					up.Write(buf[:n])
				}
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), func() string {
		mu.Lock()
		defer mu.Unlock()
		return seen.String()
	}
}

func TestProvenClientTalksToTheRealDaemon(t *testing.T) {
	addr := serve(t, 4242)
	c := New(addr, testToken)
	defer c.CloseIdle()
	st, err := c.Status(context.Background())
	if err != nil || st.PID != 4242 {
		t.Fatalf("status over a proven connection: %+v, %v", st, err)
	}
}

// A relay on another port gets a proof bound to the real daemon's address,
// which the client rejects before it sends the token through the relay.
func TestRelayFailsTheProofAndNeverSeesTheToken(t *testing.T) {
	real := serve(t, 4242)
	via, seen := relay(t, real)
	c := New(via, testToken)
	defer c.CloseIdle()
	_, err := c.Status(context.Background())
	if !IsImpostor(err) {
		t.Fatalf("status through a relay: %v, want a proof error", err)
	}
	if !strings.Contains(seen(), "/v1/proof") {
		t.Fatalf("the relay saw no challenge: %q", seen())
	}
	if strings.Contains(seen(), testToken) || strings.Contains(strings.ToLower(seen()), "authorization") {
		t.Fatalf("the token went through the relay: %q", seen())
	}
}

func TestWrongTokenFailsTheProof(t *testing.T) {
	addr := serve(t, 4242)
	c := New(addr, strings.Repeat("f", 64))
	defer c.CloseIdle()
	if _, err := c.Status(context.Background()); !IsImpostor(err) {
		t.Fatalf("a daemon with another token was trusted: %v", err)
	}
}

// Listeners that answer the challenge with anything but a proof: every one
// is refused, none hangs past the deadline, and none is sent the token.
func TestBadAnswersToTheChallenge(t *testing.T) {
	answers := map[string]string{
		"404":          "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		"not json":     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"bad proof":    "HTTP/1.1 200 OK\r\nContent-Length: 84\r\n\r\n{\"pid\":1,\"proof\":\"" + strings.Repeat("ab", 32) + "\"}",
		"two answers":  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n\r\n",
		"endless body": "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", 1<<16),
		"silence":      "",
		"garbage":      "\x00\x01\x02 nonsense\r\n\r\n",
	}
	old := ProofTimeout
	ProofTimeout = 500 * time.Millisecond
	defer func() { ProofTimeout = old }()
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := make(chan string, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err == nil {
					io.WriteString(c, answer)
					c.SetReadDeadline(time.Now().Add(time.Second))
					rest, _ := io.ReadAll(br)
					got <- req.Header.Get("Authorization") + string(rest)
					return
				}
				got <- ""
			}()
			c := New(netip.MustParseAddrPort(ln.Addr().String()), testToken)
			defer c.CloseIdle()
			start := time.Now()
			_, err = c.Status(context.Background())
			if err == nil {
				t.Fatal("trusted a listener that gave no proof")
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %v to give up", el)
			}
			if s := <-got; strings.Contains(s, testToken) {
				t.Fatalf("sent the token: %q", s)
			}
		})
	}
}

// A daemon with the right token whose PID is not the lock holder's (a
// daemon of another data dir sharing a copied token, say) is refused.
func TestProofMustComeFromTheLockHolder(t *testing.T) {
	addr := serve(t, 4242)
	dir := t.TempDir()
	p := paths.ForDataDir(dir, "")
	if err := os.WriteFile(p.Token, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		record string
		ok     bool
	}{{"4242\n", true}, {"4243\n", false}, {"", false}} {
		os.Remove(p.Lock)
		if tc.record != "" {
			if err := os.WriteFile(p.Lock, []byte(tc.record), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := ForAddr(p, addr)
		_, err := c.Status(context.Background())
		c.CloseIdle()
		if tc.ok && err != nil || !tc.ok && !IsImpostor(err) {
			t.Errorf("lock record %q: %v", tc.record, err)
		}
	}
}

// TestProofFromAStoppingDaemonIsTransient: a daemon that proves itself but
// closes the connection after the answer (http.Server shutting down) is
// not an impostor: the client tries again (three connections in all),
// never sends the token on such a connection, and reports it stopping.
func TestProofFromAStoppingDaemonIsTransient(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	api := server.New(server.Info{PID: 4242, Addr: addr.String(), StartedAt: time.Now()}, testToken, func() {}).Handler()
	var conns, withToken atomic.Int32
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				withToken.Add(1)
			}
			w.Header().Set("Connection", "close") // what a shutting-down http.Server sends
			api.ServeHTTP(w, r)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	_, err = New(addr, testToken).Status(context.Background())
	if err == nil || IsImpostor(err) || !strings.Contains(err.Error(), "is stopping") {
		t.Fatalf("status from a stopping daemon: %v; want a transient 'is stopping', not an impostor", err)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (the first and two retries)", n)
	}
	if n := withToken.Load(); n != 0 {
		t.Errorf("the token was sent %d times on connections that closed after the proof", n)
	}
}
