package proc_test

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// The kernel names the user behind the other end of an accepted
// connection: ours for our own dial, another user's for theirs.
func TestTCPOwner(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := "127.0.0.1:0"
		if network == "tcp6" {
			addr = "[::1]:0"
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		c, err := net.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		uid, ok := proc.TCPOwner(netip.MustParseAddrPort(s.RemoteAddr().String()), netip.MustParseAddrPort(s.LocalAddr().String()))
		if !ok || uid != os.Getuid() {
			t.Fatalf("%s: peer uid %d %v, want ours (%d)", network, uid, ok, os.Getuid())
		}
	}

	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Fatal("creating another user needs root (CI is root)")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Another user's process connects and waits to be killed.
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.Command("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(port)+"; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	u.Credential(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	uid, ok := proc.TCPOwner(netip.MustParseAddrPort(s.RemoteAddr().String()), netip.MustParseAddrPort(s.LocalAddr().String()))
	if !ok || uid != u.UID {
		t.Fatalf("peer uid %d %v, want %s's (%d)", uid, ok, u.Name, u.UID)
	}
}
