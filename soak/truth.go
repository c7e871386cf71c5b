// Package soak is `make soak`: a seeded chaos run of the real cairn-tray
// and real daemons through random faults, with Cairn's promises checked
// as invariants the whole time (soak_linux_test.go, behind the `soak`
// build tag), plus the pure parts it is built from, tested on their own:
// what the tray should show for what the world is (this file) and the
// run's figures (report.go).
package soak

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// World is what the soak sees from the outside, the way `cairn status`
// and the process table see it, at one moment.
type World struct {
	Port int
	// Serving is the PID of the Cairn daemon of this data dir that answers
	// on the port and proves itself (client.Probe); 0 when none does.
	Serving int
	// Frozen is the PID of a Cairn daemon that holds the lock but is
	// stopped (SIGSTOP): it cannot answer.
	Frozen int
	// Foreign is true while something that is not this data dir's Cairn
	// daemon listens on the port (another program, or a squatter).
	Foreign bool
}

func (w World) String() string {
	switch {
	case w.Frozen != 0:
		return fmt.Sprintf("frozen daemon PID %d", w.Frozen)
	case w.Serving != 0:
		return fmt.Sprintf("daemon PID %d serving", w.Serving)
	case w.Foreign:
		return "another program on the port"
	default:
		return "nothing running"
	}
}

// Promises are the bounds the tray promises (tray/supervisor's defaults,
// docs/ARCHITECTURE.md "States and transitions"). The one place to adapt
// when the tray changes (issue 11: fsnotify on the discovery file).
type Promises struct {
	ProbeInterval time.Duration // health probe and conflict recheck period
	ProbeTimeout  time.Duration
	MaxMisses     int           // probes missed before "Not responding"
	BackoffMax    time.Duration // longest restart delay after a crash
	ReadyTimeout  time.Duration // spawn to serving
	StopGrace     time.Duration // each step of a stop
	// FollowsOutside: the tray notices a daemon started or stopped outside
	// it while it shows Stopped or Crashed (DESIGN: the discovery file is
	// watched). With it false, such a mismatch is a Gap, reported, not a
	// violation: for a tray that only looks when clicked.
	FollowsOutside bool
}

// TrayPromises are the promises of the tray in this tree.
var TrayPromises = Promises{
	ProbeInterval: 5 * time.Second,
	ProbeTimeout:  2 * time.Second,
	MaxMisses:     3,
	BackoffMax:    30 * time.Second,
	ReadyTimeout:  20 * time.Second,
	StopGrace:     5 * time.Second,
	// The supervisor watches the data dir (fsnotify) and the event stream
	// (issue 11), so a start or stop outside it is a violation if missed.
	FollowsOutside: true,
}

// Bound is how long after the world settled the tray may take to show it:
// a crash's longest backoff, then a start that may take the whole ready
// timeout, then one probe period to see the result.
func (p Promises) Bound() time.Duration {
	return p.BackoffMax + p.ReadyTimeout + p.ProbeInterval + p.ProbeTimeout
}

// NotRespondingBound is how long a frozen daemon may go before the tray
// says "Not responding": MaxMisses probes that each time out, one period
// apart, plus one period of phase.
func (p Promises) NotRespondingBound() time.Duration {
	return time.Duration(p.MaxMisses+1)*p.ProbeInterval + p.ProbeTimeout
}

// Verdict is how a tray status line compares with the world.
type Verdict int

const (
	// Wrong: the line does not (yet) say what the world is.
	Wrong Verdict = iota
	// Right: the line says what the world is.
	Right
	// Gap: the line is stale in a way the tray does not promise to fix
	// (Promises.FollowsOutside false): reported, and the soak resyncs.
	Gap
)

var (
	runningRE  = regexp.MustCompile(`^Running · (?:[0-9,]+ memor(?:y|ies) · )?127\.0\.0\.1:(\d+) · PID (\d+) · up `)
	conflictRE = regexp.MustCompile(`^Port (\d+) in use by `)
	crashedRE  = regexp.MustCompile(`^Crashed \d+ times — gave up$`)
)

// RunningPID is the PID a "Running · …" line names, or 0.
func RunningPID(line string, port int) int {
	m := runningRE.FindStringSubmatch(line)
	if m == nil || m[1] != strconv.Itoa(port) {
		return 0
	}
	pid, _ := strconv.Atoi(m[2])
	return pid
}

// Judge says whether the tray's status line tells the truth about w. It
// is the one place that decides what the tray should show.
func (p Promises) Judge(w World, line string) Verdict {
	idle := line == "Stopped" || crashedRE.MatchString(line)
	switch {
	case w.Frozen != 0:
		// A daemon that holds the lock and does not answer: "Not
		// responding" once the probes have missed, and until then the
		// line it had.
		// (h-tray's rework adds the PID: "Not responding · PID N".)
		if line == "Not responding" || line == fmt.Sprintf("Not responding · PID %d", w.Frozen) || RunningPID(line, w.Port) == w.Frozen {
			return Right
		}
	case w.Serving != 0:
		if RunningPID(line, w.Port) == w.Serving {
			return Right
		}
		if idle && !p.FollowsOutside {
			return Gap
		}
	case w.Foreign:
		if m := conflictRE.FindStringSubmatch(line); m != nil && m[1] == strconv.Itoa(w.Port) {
			return Right
		}
		if idle && !p.FollowsOutside {
			return Gap
		}
	default:
		if idle {
			return Right
		}
	}
	return Wrong
}
