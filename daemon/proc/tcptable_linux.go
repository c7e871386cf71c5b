package proc

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Socket is one listening TCP socket from the kernel's table: its address
// and the user that owns it.
type Socket struct {
	Addr netip.AddrPort
	UID  int
}

// ListeningSockets lists the listening TCP sockets on port, IPv4 and IPv6,
// from /proc/net/tcp{,6}: one small read, where Listeners (which names the
// processes) walks every process's descriptors. ok is false when the
// tables cannot be read.
func ListeningSockets(port uint16) (socks []Socket, ok bool) {
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			if table == "/proc/net/tcp6" && os.IsNotExist(err) {
				continue // no IPv6 on this machine
			}
			return nil, false
		}
		socks = append(socks, parseTCPTable(bufio.NewScanner(f), port)...)
		f.Close()
	}
	return socks, true
}

// parseTCPTable reads the listening sockets on port from one table. The
// kernel lists listening sockets before all others, so it stops at the
// first socket in another state: under a flood of connections the table is
// long, but its head is not.
func parseTCPTable(sc *bufio.Scanner, port uint16) []Socket {
	var out []Socket
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		if f[3] != "0A" { // TCP_LISTEN
			break
		}
		addr, ok := parseTableAddr(f[1])
		if !ok || addr.Port() != port {
			continue
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			continue
		}
		out = append(out, Socket{Addr: addr, UID: uid})
	}
	return out
}

// parseTableAddr reads "0100007F:1B9E": the address as the kernel's 32-bit
// words in host byte order, printed in hex, then the port in hex.
func parseTableAddr(s string) (netip.AddrPort, bool) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(raw); i += 4 {
		w := binary.BigEndian.Uint32(raw[i:])
		binary.NativeEndian.PutUint32(raw[i:], w)
		// The word was printed as a host-order integer: put its bytes back
		// in memory order.
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}
