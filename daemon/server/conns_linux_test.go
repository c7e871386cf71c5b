package server

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// A connection whose other end no process holds by the time the daemon
// accepts it (reset, or closed: the kernel's time-wait remnant says uid 0,
// root's) is a stranger's: what it sent cannot be tied to a user, so no
// credential in it may count. One still open from this process is the
// owner's, also when it has half-closed (sent its request and a FIN, and
// waits for the answer, as nc -N does).
func TestConnsPeerGoneBeforeAcceptIsAStranger(t *testing.T) {
	set, _, l := newTestConns(t, 8, time.Minute)
	set.peer = peerOf
	for _, c := range []struct {
		name  string
		close func(*net.TCPConn)
	}{
		{"reset", func(d *net.TCPConn) { d.SetLinger(0); d.Close() }},
		{"closed", func(d *net.TCPConn) { d.Close() }},
		{"half-closed", func(d *net.TCPConn) { d.CloseWrite() }},
		{"open", func(*net.TCPConn) {}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := net.Dial("tcp4", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			if _, err := d.Write([]byte("POST /v1/shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			peerEnd := netip.MustParseAddrPort(d.LocalAddr().String())
			ours := netip.MustParseAddrPort(l.Addr().String())
			c.close(d.(*net.TCPConn))
			switch c.name {
			case "reset", "closed":
				proctest.Eventually(t, 5*time.Second, "the kernel to see the client's end let go", func() bool {
					sock, err := proc.TCPSocket(peerEnd, ours)
					return err != nil || !sock.Open
				})
			case "half-closed":
				proctest.Eventually(t, 5*time.Second, "the daemon's end to see the client's FIN", func() bool {
					sock, err := proc.TCPSocket(peerEnd, ours)
					return err == nil && sock.State == unix.BPF_TCP_FIN_WAIT2
				})
			}
			nc, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			got := nc.(*conn)
			if want := c.name == "reset" || c.name == "closed"; got.stranger != want || got.owner == want {
				t.Fatalf("stranger %v, owner %v; want stranger %v (euid %d)", got.stranger, got.owner, want, os.Geteuid())
			}
		})
	}
}

// A stranger's request on a connection reset before the accept, whose
// address the owner's next connection then takes (same source port): the
// kernel, asked by address, finds the owner's socket. The connection the
// daemon holds is not established any more, so it is still a stranger's.
func TestConnsResetThenReusedAddressIsAStranger(t *testing.T) {
	set, _, l := newTestConns(t, 8, time.Minute)
	set.peer = peerOf
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	from := free.Addr().(*net.TCPAddr)
	free.Close()
	dial := func() *net.TCPConn {
		t.Helper()
		d := net.Dialer{LocalAddr: from}
		c, err := d.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.TCPConn)
	}
	stranger := dial()
	stranger.Write([]byte("POST /v1/shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
	stranger.SetLinger(0)
	stranger.Close()
	var owner *net.TCPConn
	proctest.Eventually(t, 5*time.Second, "the owner's connection from the stranger's address", func() bool {
		d := net.Dialer{LocalAddr: from}
		c, err := d.Dial("tcp4", l.Addr().String())
		if err != nil {
			return false
		}
		owner = c.(*net.TCPConn)
		return true
	})
	t.Cleanup(func() { owner.Close() })
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if c := first.(*conn); !c.stranger || c.owner {
		t.Fatalf("the reset connection: stranger %v, owner %v; want a stranger's", c.stranger, c.owner)
	}
	second, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if c := second.(*conn); !c.owner {
		t.Fatalf("the owner's connection: stranger %v, owner %v; want the owner's", c.stranger, c.owner)
	}
}
