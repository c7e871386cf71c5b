package instance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/service"
)

type fakeStatus struct{ st service.Status }

func (f fakeStatus) Status(context.Context) (service.Status, error) { return f.st, nil }

func TestWaitServiceStopsAtTheServiceExit(t *testing.T) {
	p := paths.ForDataDir(t.TempDir(), t.TempDir())
	_, err := WaitService(context.Background(), fakeStatus{service.Status{Installed: true, LastExit: 5, State: "failed"}}, p, time.Minute)
	var exit *ServiceExitError
	if !errors.As(err, &exit) || exit.Code != 5 {
		t.Fatalf("err = %v, want the service's exit code 5", err)
	}
	_, err = WaitService(context.Background(), fakeStatus{service.Status{Installed: true, State: "activating"}}, p, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not serve within 50ms (state: activating)") {
		t.Fatalf("err = %v, want the timeout with the manager's state", err)
	}
}
