//go:build !linux

package instance

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// confirmLockHolder reports whether rec, the process the lock record names,
// is the one that holds the lock. These OSes do not say who holds a lock,
// so the record is trusted only when it names a `cairn serve` daemon that,
// where its environment can be read, serves this data dir: a record naming
// another data dir's daemon, or any other program, makes the holder unknown.
func confirmLockHolder(ctx context.Context, p paths.Paths, rec *proc.Process) error {
	if !rec.IsCairnDaemon() {
		return fmt.Errorf("the daemon lock %s names %s, which is not a Cairn daemon, so who holds it is unknown", p.Lock, rec)
	}
	env, err := proc.Environ(ctx, rec.PID)
	if err != nil {
		// macOS does not show another process's environment: the
		// command line (`cairn serve --foreground`) is all there is.
		if errors.Is(err, proc.ErrNoProcess) {
			return fmt.Errorf("the daemon lock %s names %s, which is gone", p.Lock, rec)
		}
		return nil
	}
	if err := sameDataDir(env, p.DataDir, os.Getenv("CAIRN_HOME")); err != nil {
		return fmt.Errorf("the daemon lock %s names the Cairn daemon %s, but %v, so who holds the lock is unknown", p.Lock, rec, err)
	}
	return nil
}
