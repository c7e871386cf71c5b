//go:build !linux

package proc

import (
	"net"
	"net/netip"
)

// TCPOwner is unknown off Linux: macOS and Windows have no cheap, cgo-free
// way to name the owner of a connection's other end.
func TCPOwner(src, dst netip.AddrPort) (int, bool) { return 0, false }

// TCPSocket is never known off Linux (TCPOwner).
func TCPSocket(src, dst netip.AddrPort) (PeerSocket, error) { return PeerSocket{}, ErrCannotAsk }

// HoldsAddress is never known off Linux (TCPOwner).
func HoldsAddress(conn net.Conn) (bool, error) { return false, ErrCannotAsk }
