package client

import (
	"bufio"
	"net/netip"
	"strings"
	"testing"
)

func TestParseListenerUID(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1B9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 1 1 0 100 0 0 10 0
   1: 0100007F:1B9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 100 0 0 10 0
   2: 0100007F:1B9F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 3 1 0 100 0 0 10 0
   3: 0100007F:1BA0 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1003        0 4 1 0 100 0 0 10 0
   4: 00000000:1BA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1004        0 5 1 0 100 0 0 10 0
`
	if !littleEndian {
		t.Skip("the table is written for a little-endian machine")
	}
	cases := []struct {
		port  uint16
		uid   int
		found bool
	}{
		{7070, 1000, true}, // the exact listener wins over the wildcard before it
		{7071, 1002, true}, // exact only
		{7072, 0, false},   // listed after the first non-listening socket: not read
		{7073, 0, false},   // nobody
	}
	for _, c := range cases {
		uid, found := parseListenerUID(bufio.NewScanner(strings.NewReader(table)), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), c.port))
		if uid != c.uid || found != c.found {
			t.Errorf("port %d: uid %d found %v, want %d %v", c.port, uid, found, c.uid, c.found)
		}
	}
}
