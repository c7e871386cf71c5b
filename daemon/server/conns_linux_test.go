package server

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// A connection whose other end no process holds by the time the daemon
// accepts it (reset, or closed: the kernel's time-wait remnant says uid 0,
// root's) is a stranger's: what it sent cannot be tied to a user, so no
// credential in it may count. One still open from this process is the
// owner's.
func TestConnsPeerGoneBeforeAcceptIsAStranger(t *testing.T) {
	set, _, l := newTestConns(t, 8, time.Minute)
	set.peer = peerOf
	for _, c := range []struct {
		name  string
		close func(*net.TCPConn)
	}{
		{"reset", func(d *net.TCPConn) { d.SetLinger(0); d.Close() }},
		{"closed", func(d *net.TCPConn) { d.Close() }},
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
			if c.name != "open" {
				proctest.Eventually(t, 5*time.Second, "the kernel to see the client's end let go", func() bool {
					sock, err := proc.TCPSocket(peerEnd, ours)
					return err != nil || !sock.Open
				})
			}
			nc, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			got := nc.(*conn)
			if want := c.name != "open"; got.stranger != want || got.owner == want {
				t.Fatalf("stranger %v, owner %v; want stranger %v (euid %d)", got.stranger, got.owner, want, os.Geteuid())
			}
		})
	}
}
