//go:build !windows

package daemon

import (
	"os"
	"syscall"
)

// shutdownSignals end the daemon in order. SIGHUP (a closed terminal) and
// SIGQUIT (Ctrl-\) would otherwise kill it with its lock and discovery
// files left behind, and SIGQUIT with a stack dump and exit 2, which
// supervisors read as "bad usage".
var shutdownSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
