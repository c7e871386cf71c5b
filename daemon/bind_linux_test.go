package daemon

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// The daemon's accept queue holds acceptBacklog connections, not Go's
// default of net.core.somaxconn: another user's churn flood filled a 4096
// one to 3,700, over a second of accepts in front of the owner's 1 s probe
// (TestChurnFromAnotherUser). Connections the daemon does not accept fill
// the queue; past its length the kernel stops completing connects.
func TestBindShortensTheAcceptQueue(t *testing.T) {
	lns, addr, err := bind(context.Background(), proctest.FreePort(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(lns)
	queued := 0
	for queued <= 2*acceptBacklog {
		c, err := net.DialTimeout("tcp4", addr.String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		defer c.Close()
		queued++
	}
	// Linux queues one past the backlog.
	if queued > acceptBacklog+1 {
		t.Fatalf("%s queued %d connections nobody accepted, want at most %d", addr, queued, acceptBacklog+1)
	}
	if queued < acceptBacklog {
		t.Fatalf("%s queued only %d connections, want %d", addr, queued, acceptBacklog)
	}
}
