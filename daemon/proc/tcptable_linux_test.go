package proc

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestParseTCPTable(t *testing.T) {
	// Written as a little-endian kernel prints it; the parser's byte order
	// is checked against the live table below on whatever machine runs it.
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1B9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 1 1 0 100 0 0 10 0
   1: 0100007F:1B9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 100 0 0 10 0
   2: 0100007F:1B9F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 3 1 0 100 0 0 10 0
   3: 0100007F:1BA0 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1003        0 4 1 0 100 0 0 10 0
   4: 00000000:1BA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1004        0 5 1 0 100 0 0 10 0
`
	got := parseTCPTable(bufio.NewScanner(strings.NewReader(table)), 7070)
	if len(got) != 2 || got[0].UID != 1001 || got[1].UID != 1000 || got[1].Addr.Port() != 7070 {
		t.Fatalf("port 7070: %+v", got)
	}
	// Listed after the first socket in another state: not read.
	if got := parseTCPTable(bufio.NewScanner(strings.NewReader(table)), 7072); len(got) != 0 {
		t.Fatalf("port 7072: %+v", got)
	}
}

// The live table names a listener this test opens, with its address and
// our UID, on IPv4 and IPv6 loopback.
func TestListeningSocketsSeesOurListener(t *testing.T) {
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
		want := netip.MustParseAddrPort(ln.Addr().String())
		socks, ok := ListeningSockets(want.Port())
		if !ok {
			t.Fatal("cannot read /proc/net/tcp")
		}
		found := false
		for _, s := range socks {
			if s.Addr == want && s.UID == os.Getuid() {
				found = true
			}
		}
		if !found {
			t.Errorf("%s listener %s not in %+v", network, want, socks)
		}
	}
}
