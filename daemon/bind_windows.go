package daemon

import (
	"errors"
	"net"

	"golang.org/x/sys/windows"
)

// isAddrInUse also counts WSAEACCES: Windows answers it when another socket
// holds the port with SO_EXCLUSIVEADDRUSE.
func isAddrInUse(err error) bool {
	return errors.Is(err, windows.WSAEADDRINUSE) || errors.Is(err, windows.WSAEACCES)
}

// shortenBacklog keeps Windows's own backlog (bind_unix.go says why the
// Unix daemons shorten theirs).
func shortenBacklog(net.Listener) error { return nil }
