//go:build !windows

package daemon

import (
	"errors"
	"net"
	"syscall"
)

func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// acceptBacklog is the listen backlog of the daemon's sockets, in place of
// Go's default (net.core.somaxconn, 4096 here). The kernel's accept queue is
// first come, first served, and another user's connect flood filled the
// default one to 3,700 connections, over a second of accepts in front of
// the owner's probe, whose whole budget is a second: `cairn status` and the
// tray called the live daemon "not responding". A short queue drains in
// milliseconds; a SYN that finds it full is dropped, which stalls the
// flooder's connect for the kernel's retransmission timeout, while the
// owner's client starts a new connect every 200 ms (client.dialRedialing).
const acceptBacklog = 128

// shortenBacklog sets ln's backlog to acceptBacklog: listen(2) again on a
// listening socket only changes its backlog.
func shortenBacklog(ln net.Listener) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), acceptBacklog) }); err != nil {
		return err
	}
	return lerr
}
