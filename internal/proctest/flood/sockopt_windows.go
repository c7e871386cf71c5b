package main

import "syscall"

// tinyReceiveBuffer is a net.Dialer Control that sets the smallest receive
// buffer the kernel allows before the connect, so the window it advertises
// takes almost none of the server's answers.
func tinyReceiveBuffer(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
	}); err != nil {
		return err
	}
	return serr
}
