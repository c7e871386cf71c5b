package client

import (
	"net"
	"net/netip"

	"github.com/cairnlabs/cairn/daemon/proc"
)

// listenerUID says which user owns the daemon's end of conn, where the OS
// tells cheaply (Linux: the kernel's socket table, by sock_diag): an
// accepted socket belongs to its listener's owner. The proof is what keeps
// the token safe; this check names another user's squatter before the
// challenge is even sent.
func listenerUID(conn net.Conn) (int, bool) {
	local, err1 := netip.ParseAddrPort(conn.LocalAddr().String())
	remote, err2 := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return proc.TCPOwner(remote, local)
}
