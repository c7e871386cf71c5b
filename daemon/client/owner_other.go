//go:build !linux

package client

import "net/netip"

// listenerUID is unknown off Linux: no cheap listener-owner table exists
// without cgo, and the proof alone keeps the token safe.
func listenerUID(netip.AddrPort) (int, bool) { return 0, false }
