package instance

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// confirmLockHolder reports whether rec, the process the lock record names,
// is the one that holds the lock: the record is only text that anyone who
// holds the lock could have written, so it is trusted only when the
// kernel names the same PID: first from that process's own open files
// (cheap; proc.HoldsFlock), and only when they do not show it from the
// kernel's lock table, which names whoever does hold it. The error says
// why not.
func confirmLockHolder(ctx context.Context, p paths.Paths, rec *proc.Process) error {
	if held, err := proc.HoldsFlock(rec.PID, p.Lock); err == nil && held {
		return nil
	}
	pids, err := proc.FlockHolders(p.Lock)
	if err != nil {
		return fmt.Errorf("cannot tell who holds the daemon lock %s (%v), so its record (%s) is not trusted", p.Lock, err, rec)
	}
	if slices.Contains(pids, rec.PID) {
		return nil
	}
	if len(pids) == 0 {
		return fmt.Errorf("the daemon lock %s names %s, but the kernel's lock table names no holder this user can see", p.Lock, rec)
	}
	var names []string
	for _, pid := range pids {
		if h, err := proc.Lookup(ctx, pid); err == nil {
			names = append(names, h.String())
		} else {
			names = append(names, fmt.Sprintf("PID %d", pid))
		}
	}
	return fmt.Errorf("the daemon lock %s names %s, but %s holds it", p.Lock, rec, strings.Join(names, ", "))
}
