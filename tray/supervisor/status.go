// Package supervisor is the one owner of what the tray believes about the
// daemon: it adopts a healthy daemon it finds, or spawns `cairn serve
// --foreground` as its child, waits for it to be ready, restarts it (or an
// adopted one that died) on a crash with backoff, gives up on a crash loop,
// follows the outside world (the data dir watcher, the event stream, health
// probes), takes over a conflict on request, and stops it on request.
//
// It is GUI-free and reaches time, processes and the daemon only through
// small seams (Clock, Spawner, Daemon), so every transition is unit-tested
// with fakes on every OS.
package supervisor

import (
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
)

// State is what the tray shows.
type State string

// The states. Transitions are listed in docs/ARCHITECTURE.md.
const (
	Starting      State = "starting"       // spawned, or waiting out a backoff, not yet ready
	Running       State = "running"        // a healthy daemon: ours or adopted
	Stopping      State = "stopping"       // shutting our child down
	Stopped       State = "stopped"        // nothing runs, by request or because it was stopped elsewhere
	Conflict      State = "conflict"       // the port or lock is held by someone else
	NotResponding State = "not_responding" // a daemon holds the lock but misses its health probes
	Crashed       State = "crashed"        // crash loop: gave up restarting
	Failed        State = "failed"         // the daemon cannot run here (exit 5: data dir unusable)
	TakingOver    State = "taking_over"    // the take over engine stops the holder; Cairn starts next
)

// Status is the supervisor's one state value; the tray renders nothing else.
type Status struct {
	State State
	Port  int

	// The daemon, when one runs.
	PID       int
	Addr      string
	Owned     bool      // our child (stopped on Quit), as opposed to adopted
	ManagedBy string    // who runs an adopted daemon: terminal, cli, systemd, launchd
	StartedAt time.Time // for the uptime in the status line
	Memories  int64     // live memories at the last probe; 0 before the first

	// Conflict: who holds the port or the lock, e.g. "python3 (PID 4242)".
	Holder    string
	HolderPID int
	// NoTakeover says why no take over is offered (another user's or the
	// system's process, PID 1, …); empty when one is.
	NoTakeover string
	// Takeover is the holder of the diagnosis that the menu and the
	// notification show; a take over passes it to the engine, which stops
	// it and nothing else (instance.TakeoverOptions.Expect). Nil when the
	// status comes from missed probes rather than a diagnosis: the menu
	// then shows only the daemon's PID.
	Takeover *instance.Holder

	// Parked marks a conflict (or a hung holder) found while nothing was
	// meant to run: the menu shows it with Start, the tray does not notify
	// a conflict's "can't start" (a hung Cairn daemon is still told), and
	// when the holder leaves the tray goes back to the Stopped or Crashed
	// it showed before.
	Parked bool

	Crashes int    // crashes in the current crash window
	Message string // why: the daemon's error, or the last lines of a crash
	LogFile string // where the crash output was kept

	// RestartedAfterCrash is set on the Running status that follows an
	// automatic restart, so the tray can say so once.
	RestartedAfterCrash bool
	// TookOver is what a take over did, set on the Running status that
	// follows it, so the tray says so once Cairn serves.
	TookOver string
	// TakeoverFailed is why a take over failed, set on the status that
	// follows it.
	TakeoverFailed string
}

// Idle reports whether nothing runs and nothing is meant to: the user
// stopped Cairn, a crash loop gave up, or the daemon cannot run here.
func (st Status) Idle() bool {
	switch st.State {
	case Stopped, Crashed, Failed:
		return true
	}
	return false
}

// TakingOverWhom names the holder a take over is stopping.
func (st Status) TakingOverWhom() string { return takingOverWhom(st) }
