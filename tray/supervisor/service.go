package supervisor

import (
	"context"
	"fmt"

	"github.com/cairnlabs/cairn/daemon/instance"
)

// Service routing: a daemon that systemd or launchd runs is started,
// restarted and stopped through its manager, so the tray never races a
// unit that would respawn it.

type (
	// evServiceDone: the service manager has been asked to start or
	// restart the daemon, and the wait for it to serve is over.
	evServiceDone struct {
		gen int
		err error
	}
	evAdoptedStop struct{ err error }
)

// isServiceManager reports whether managedBy names an OS service manager,
// which restarts its daemon itself and must be asked rather than bypassed.
func isServiceManager(managedBy string) bool {
	return managedBy == "systemd" || managedBy == "launchd"
}

// throughService asks the service manager to start or restart the daemon,
// off the loop, and waits for a daemon to serve; serviceDone then adopts it.
func (s *Supervisor) throughService(ctx context.Context, verb, manager string, do func(context.Context) error) {
	s.stopGen()
	s.cfg.Log.Info("asking the service manager", "verb", verb, "manager", manager)
	s.set(func(st *Status) { *st = Status{State: Starting, ManagedBy: manager} })
	gen := s.gen
	go func() {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
		defer cancel()
		err := do(sctx)
		if err == nil {
			err = s.cfg.Daemon.WaitServing(sctx)
		}
		if err != nil {
			err = fmt.Errorf("%s could not %s Cairn: %w", manager, verb, err)
		}
		s.post(evServiceDone{gen, err})
	}()
}

func (s *Supervisor) serviceDone(ctx context.Context, err error) {
	s.serviceErr = err
	s.look(ctx, toService)
}

// serviceLooked acts on the look that follows the service manager's start.
func (s *Supervisor) serviceLooked(ctx context.Context, l look) {
	err := s.serviceErr
	s.serviceErr = nil
	stop := s.then == thenStop
	s.then = thenNothing
	switch {
	case l.d.State == instance.StateRunning:
		s.adopt(ctx, l)
		if stop {
			s.stopAdopted()
		}
	case stop:
		s.setState(Stopped, "")
	case err != nil && l.d.State == instance.StateStopped:
		s.cfg.Log.Error("service did not start the daemon", "err", err)
		s.set(func(st *Status) {
			*st = Status{State: Failed, Message: err.Error() + "; run: cairn service status"}
		})
	default:
		s.act(ctx, l)
	}
}

// stopAdopted stops a daemon the tray did not start the way `cairn stop`
// does (through its service manager when one runs it), off the loop.
func (s *Supervisor) stopAdopted() {
	s.stopGen()
	s.setState(Stopping, "")
	go func() {
		err := s.cfg.Daemon.Stop(context.Background())
		s.post(evAdoptedStop{err})
	}()
}

func (s *Supervisor) adoptedStopped(ctx context.Context, err error) {
	if err != nil {
		s.cfg.Log.Warn("stop of adopted daemon failed", "err", err)
		s.then = thenNothing
		s.set(func(st *Status) { st.Message = "Could not stop the daemon: " + err.Error() })
		s.look(ctx, toStart)
		return
	}
	s.stopped(ctx)
}
