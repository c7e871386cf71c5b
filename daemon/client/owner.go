package client

import (
	"net/netip"

	"github.com/cairnlabs/cairn/daemon/proc"
)

// listenerUID says which user owns the socket that a connection to addr
// reaches: the listener on exactly addr, else a wildcard one on its port
// (the kernel prefers the exact one; a dual-stack [::] listener takes IPv4
// connections too). Known only where the OS tells
// cheaply (Linux). The proof is what keeps the token safe; this check
// names another user's squatter before the challenge is even sent.
func listenerUID(addr netip.AddrPort) (int, bool) {
	socks, ok := proc.ListeningSockets(addr.Port())
	if !ok {
		return 0, false
	}
	uid, found := 0, false
	for _, s := range socks {
		switch {
		case s.Addr == addr:
			return s.UID, true
		case s.Addr.Addr().IsUnspecified() && (s.Addr.Addr().Is6() || addr.Addr().Is4()):
			uid, found = s.UID, true
		}
	}
	return uid, found
}
