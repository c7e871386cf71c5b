package daemon

import (
	"context"
	"os"

	"github.com/cairnlabs/cairn/daemon/proc"
)

// checkSharedPort finds listeners that share our port. On macOS Go sets
// SO_REUSEADDR, so binding 127.0.0.1 succeeds even beside a 0.0.0.0 or [::]
// wildcard listener; clients would then reach either of us. Only a scan of
// the socket table shows it.
func checkSharedPort(ctx context.Context, port int) error {
	ls, err := proc.Listeners(ctx, port)
	if err != nil {
		return nil // cannot scan: the bind itself is all we have
	}
	if others := proc.OtherListeners(ls, os.Getpid()); len(others) > 0 {
		return portInUse(others[0].Addr, port, others)
	}
	return nil
}
