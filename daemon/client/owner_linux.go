package client

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// listenerUID says which user owns the socket that a connection to addr
// reaches, from /proc/net/tcp: the listener on exactly addr, else a
// wildcard one on its port (the kernel prefers the exact one). The proof
// is what keeps the token safe; this check costs one small file read and
// names another user's squatter before the challenge is even sent.
func listenerUID(addr netip.AddrPort) (int, bool) {
	if !addr.Addr().Is4() {
		return 0, false
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return parseListenerUID(bufio.NewScanner(f), addr)
}

// parseListenerUID scans /proc/net/tcp lines. The kernel lists listening
// sockets before established ones, so it stops at the first socket in
// another state: under a flood of connections the file is long, but its
// head is not.
func parseListenerUID(sc *bufio.Scanner, addr netip.AddrPort) (int, bool) {
	ip := addr.Addr().As4()
	// The address is the kernel's 32-bit word in host order, printed in
	// hex: on little-endian machines 127.0.0.1 reads 0100007F.
	exact := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], addr.Port())
	if !littleEndian {
		exact = fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[0], ip[1], ip[2], ip[3], addr.Port())
	}
	wildcard := fmt.Sprintf("00000000:%04X", addr.Port())
	uid, found := 0, false
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		if f[3] != "0A" { // TCP_LISTEN
			break
		}
		if f[1] != exact && f[1] != wildcard {
			continue
		}
		n, err := strconv.Atoi(f[7])
		if err != nil {
			continue
		}
		if f[1] == exact {
			return n, true
		}
		uid, found = n, true
	}
	return uid, found
}

// littleEndian tells how /proc/net/tcp prints addresses on this machine.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
