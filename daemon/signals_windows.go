package daemon

import (
	"os"
	"syscall"
)

// shutdownSignals end the daemon in order. Go delivers Ctrl-C and
// Ctrl-Break as os.Interrupt, and console close, logoff and shutdown as
// SIGTERM.
var shutdownSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
