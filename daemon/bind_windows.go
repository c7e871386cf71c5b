package daemon

import (
	"errors"

	"golang.org/x/sys/windows"
)

// isAddrInUse also counts WSAEACCES: Windows answers it when another socket
// holds the port with SO_EXCLUSIVEADDRUSE.
func isAddrInUse(err error) bool {
	return errors.Is(err, windows.WSAEADDRINUSE) || errors.Is(err, windows.WSAEACCES)
}
