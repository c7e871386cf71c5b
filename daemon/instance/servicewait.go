package instance

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/poll"
	"github.com/cairnlabs/cairn/daemon/service"
)

// ServiceStatus is what WaitService asks of a service manager.
type ServiceStatus interface {
	Status(ctx context.Context) (service.Status, error)
}

// ServiceExitError is a service whose daemon exited instead of serving.
type ServiceExitError struct{ Code int }

func (e *ServiceExitError) Error() string {
	return fmt.Sprintf("the service's daemon exited with code %d", e.Code)
}

// WaitService is the second half of "start through the service manager,
// then wait until it serves", for `cairn service start` and the tray:
// it waits until this data dir's daemon answers and proves itself, or the
// manager reports that the service's daemon exited (*ServiceExitError),
// or timeout passes. The manager offers no event to wait on, so it polls,
// backing off from 10 ms to 200 ms.
func WaitService(ctx context.Context, m ServiceStatus, p paths.Paths, timeout time.Duration) (StartResult, error) {
	deadline := time.Now().Add(timeout)
	wait := poll.New(10*time.Millisecond, 200*time.Millisecond)
	for {
		if h, addr, err := client.Probe(ctx, p); err == nil {
			return StartResult{PID: h.PID, Addr: addr.String(), Log: p.DaemonLog}, nil
		}
		var st service.Status
		var err error
		if m != nil {
			st, err = m.Status(ctx)
			if err == nil && st.Installed && st.LastExit != 0 && !st.Running {
				return StartResult{}, &ServiceExitError{Code: st.LastExit}
			}
		}
		if time.Now().After(deadline) {
			return StartResult{}, fmt.Errorf("the service's daemon did not serve within %s (state: %s)", timeout, orUnknown(st.State))
		}
		if !wait.Sleep(ctx) {
			return StartResult{}, fmt.Errorf("no Cairn daemon answered: %w", ctx.Err())
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
