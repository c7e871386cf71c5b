package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Watching: what the supervisor learns of the outside world. The data dir
// watcher, the daemon's event stream and its health probes say when to
// look (look.go).

type (
	evChanged   struct{} // the data dir's discovery file or lock changed
	evProbeTick struct{ gen int }
	evMemories  struct {
		gen   int
		count int64
	}
	evProbe struct {
		gen int
		Health
		err error
	}
	evStopping    struct{ gen int } // the stream announced a clean shutdown
	evStreamEnded struct{ gen int }
)

// watchDataDir posts evChanged for every change of the discovery file or
// the lock, until ctx ends. Without a watcher the supervisor still sees
// its own daemons and the adopted one's stream; it says so in the log.
func (s *Supervisor) watchDataDir(ctx context.Context) {
	kick := make(chan struct{}, 1)
	err := s.cfg.Daemon.Changes(ctx, func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	if err != nil {
		s.cfg.Log.Warn("cannot watch the data dir; changes made outside the tray show at the next check", "err", err)
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
				s.post(evChanged{})
			}
		}
	}()
}

// watch starts the health probes and the event stream of the current daemon.
func (s *Supervisor) watch(ctx context.Context) { s.watchAfter(ctx, 0) }

// watchAfter is watch with the stream opened after delay.
func (s *Supervisor) watchAfter(ctx context.Context, delay time.Duration) {
	s.stopGen()
	s.misses = 0
	gctx, cancel := context.WithCancel(ctx)
	s.cancelGen = cancel
	gen := s.gen
	stream := func() {
		if gctx.Err() != nil {
			return
		}
		// The stream ends the moment the daemon shuts down or dies.
		s.cfg.Daemon.Events(gctx, func(n int64) { s.post(evMemories{gen, n}) }, func() { s.post(evStopping{gen}) })
		if gctx.Err() == nil {
			s.post(evStreamEnded{gen})
		}
	}
	if delay == 0 {
		go stream()
	} else {
		s.cfg.Clock.AfterFunc(delay, func() { go stream() })
	}
	s.cfg.Clock.AfterFunc(s.cfg.ProbeInterval, func() { s.post(evProbeTick{gen}) })
}

// streamEnded: the daemon shut down, died, or only the stream broke. Our
// own child's death comes as its exit event; anything else is looked at.
func (s *Supervisor) streamEnded(ctx context.Context) {
	if s.status.Owned {
		s.probe(ctx)
		return
	}
	if s.looking {
		s.lookAgain = true
		return
	}
	s.look(ctx, toFollow)
}

func (s *Supervisor) probe(ctx context.Context) {
	gen := s.gen
	go func() {
		pctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout)
		defer cancel()
		h, err := s.cfg.Daemon.Health(pctx)
		s.post(evProbe{gen, h, err})
	}()
}

func (s *Supervisor) probed(ctx context.Context, ev evProbe) {
	gen := s.gen
	next := func() { s.cfg.Clock.AfterFunc(s.cfg.ProbeInterval, func() { s.post(evProbeTick{gen}) }) }
	switch {
	case ev.err == nil && ev.PID == s.status.PID:
		s.misses = 0
		if s.status.State == NotResponding {
			s.setState(Running, "")
		}
		if ev.Memories != s.status.Memories {
			s.set(func(st *Status) { st.Memories = ev.Memories })
		}
		next()
	case ev.err == nil || !s.status.Owned && !errors.Is(ev.err, context.DeadlineExceeded):
		// Another daemon answers, or an adopted one is gone: look again.
		// (Our own child's death arrives as its exit event.)
		if s.status.Owned {
			next()
			return
		}
		if !s.looking {
			s.look(ctx, toFollow)
		}
	default:
		s.misses++
		s.cfg.Log.Warn("health probe missed", "pid", s.status.PID, "misses", s.misses, "err", ev.err)
		if s.misses >= s.cfg.MaxMisses && s.status.State == Running {
			s.setState(NotResponding, fmt.Sprintf("No answer to %d health probes.", s.misses))
		}
		if s.status.State == Running {
			// Ask again soon: a hang is told within seconds, not after
			// three whole probe intervals.
			s.cfg.Clock.AfterFunc(s.cfg.MissInterval, func() { s.post(evProbeTick{gen}) })
			return
		}
		next()
	}
}
