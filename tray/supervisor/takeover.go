package supervisor

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// Take over: one command, one owner. The engine runs off the loop with the
// holder the user was shown; the recheck and any look under way are voided
// first, so nothing else acts on the same conflict; Cairn is started when
// the engine is done, and the result rides on the Running that follows.

type evTakenOver struct {
	gen  int
	what string
	err  error
}

func (s *Supervisor) takeover(ctx context.Context) {
	st := s.status
	if st.State != Conflict && st.State != NotResponding || st.NoTakeover != "" || st.Owned || s.child != nil {
		// Nothing to take over (or a take over is already under way: the
		// menu and a notification's button both asked).
		s.cfg.Log.Info("take over: nothing to do", "state", st.State, "owned", st.Owned)
		return
	}
	expect, err := expectedHolder(st)
	if err != nil {
		s.set(func(st *Status) { st.TakeoverFailed = err.Error() })
		return
	}
	s.stopGen() // voids the recheck and any look under way
	s.lookAgain = false
	s.then = thenNothing
	s.cfg.Log.Info("take over", "holder", st.Holder, "holder_pid", st.HolderPID)
	s.set(func(st *Status) {
		*st = Status{State: TakingOver, PID: st.PID, Holder: st.Holder, HolderPID: st.HolderPID, Takeover: st.Takeover}
	})
	gen := s.gen
	go func() {
		what, err := s.cfg.Daemon.Takeover(ctx, s.cfg.Port, expect)
		s.post(evTakenOver{gen, what, err})
	}()
}

func (s *Supervisor) takenOver(ctx context.Context, ev evTakenOver) {
	stop := s.then == thenStop
	s.then = thenNothing
	if ev.err != nil {
		s.cfg.Log.Error("take over failed", "err", ev.err)
		s.takeoverFailed = ev.err.Error()
		s.look(ctx, toStart)
		return
	}
	s.cfg.Log.Info("take over done; starting our daemon", "result", ev.what)
	if stop {
		s.setState(Stopped, ev.what)
		return
	}
	s.tookOver = ev.what
	s.start(ctx)
}

// expectedHolder is the holder st showed the user, which the engine stops
// or nothing. A daemon that stopped answering its probes was shown by its
// PID alone, so only the PID must match.
func expectedHolder(st Status) (*instance.Holder, error) {
	switch {
	case st.Takeover != nil:
		return st.Takeover, nil
	case st.State == NotResponding && st.PID > 0:
		return &instance.Holder{Processes: []*proc.Process{{PID: st.PID, Name: "cairn"}}}, nil
	}
	return nil, errors.New("the tray has not identified who holds the port; wait for its next check, then take over again")
}

// takingOverWhom names the holder in "Taking over …".
func takingOverWhom(st Status) string {
	switch {
	case st.Holder != "":
		return st.Holder
	case st.PID > 0:
		return fmt.Sprintf("PID %d", st.PID)
	}
	return "the other process"
}
