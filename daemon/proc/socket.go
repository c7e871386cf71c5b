package proc

import "errors"

// PeerSocket is what the kernel says of one connected TCP socket (TCPSocket).
type PeerSocket struct {
	UID int // its owner
	// Open: a process holds it. The other end of a connection that was
	// closed or reset before the daemon accepted it is not: its UID says
	// nothing about who sent what is still in the daemon's buffer.
	Open bool
	// State is the kernel's TCP state (unix.BPF_TCP_*): FIN_WAIT2 for a
	// client whose half-close the other end has seen.
	State uint8
}

var (
	// ErrCannotAsk: the OS cannot be asked who owns a socket (off Linux, or
	// without sock_diag).
	ErrCannotAsk = errors.New("the kernel cannot be asked who owns a socket here")
	// ErrNoSocket: the kernel has no such socket.
	ErrNoSocket = errors.New("no such socket")
)
