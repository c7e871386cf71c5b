package supervisor

import (
	"context"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
)

// Clock is time as the supervisor sees it; tests drive a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f after d, in its own goroutine, unless stopped.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Process is a spawned daemon.
type Process interface {
	PID() int
	// Done is closed when the process has exited and been reaped.
	Done() <-chan struct{}
	// ExitCode is valid once Done is closed.
	ExitCode() int
	// Terminate asks the process to exit (SIGTERM; on Windows there is no
	// such signal and the API shutdown is the graceful path).
	Terminate() error
	Kill() error
	// CrashReport returns the last lines the process printed and the file
	// where its whole crash output was kept.
	CrashReport(lines int) (last []string, keptAt string)
	// LastLine is the final line the process printed: the daemon's
	// one-line reason for a non-crash exit.
	LastLine() string
}

// Spawner starts `cairn serve --foreground` as the tray's child.
type Spawner interface {
	Spawn(port int) (Process, error)
}

// Daemon is what the supervisor asks of the daemon and its files.
type Daemon interface {
	Diagnose(ctx context.Context, port int) instance.Diagnosis
	// CleanStale removes a dead daemon's lock and discovery files.
	CleanStale() bool
	// WaitReady waits until the discovery file names pid and /health
	// answers with it; it returns early when exited is closed.
	WaitReady(ctx context.Context, pid int, exited <-chan struct{}) (addr string, err error)
	// Health probes the discovered daemon.
	Health(ctx context.Context) (Health, error)
	// ManagedBy asks the daemon who started it (/v1/status).
	ManagedBy(ctx context.Context) string
	// Events holds /v1/events open until the stream ends or ctx is done.
	// memories is called with the live count after each change, stopping
	// when the daemon announces a clean shutdown (draining, stopping).
	Events(ctx context.Context, memories func(count int64), stopping func()) error
	// Changes calls changed whenever the data dir's discovery file or
	// lock changes, until ctx ends; it returns at once.
	Changes(ctx context.Context, changed func()) error
	// LastLines is what the daemon pid last printed to daemon.out (the
	// lines of a run that `cairn start` or a tray started), oldest first.
	LastLines(pid, n int) []string
	// OutputFile is daemon.out, where an adopted daemon's output went.
	OutputFile() string
	// Takeover stops the holder of the port or lock, which must be expect
	// (instance.TakeoverOptions.Expect), and says what it did.
	Takeover(ctx context.Context, port int, expect *instance.Holder) (string, error)
	// Shutdown asks the daemon with this PID to shut down through the API.
	Shutdown(ctx context.Context, pid int) error
	// Stop stops an adopted daemon the way `cairn stop` does (through its
	// service manager when one runs it).
	Stop(ctx context.Context) error

	// ServiceInstalled reports whether a Cairn service for this data dir
	// and port is installed, and the name of its manager ("systemd").
	ServiceInstalled(ctx context.Context) (manager string, ok bool)
	// StartService and RestartService ask the service manager; they
	// return once it has acted, not once the daemon serves.
	StartService(ctx context.Context) error
	RestartService(ctx context.Context) error
	// WaitServing waits until a healthy Cairn daemon answers at the
	// discovered address.
	WaitServing(ctx context.Context) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Health is what a probe learns of a serving daemon.
type Health struct {
	PID      int
	Addr     string
	Memories int64 // live memories; -1 when unknown
}
