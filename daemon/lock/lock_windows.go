package lock

import (
	"os"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
)

// recordPath is a sidecar on Windows: LockFileEx, as gofrs/flock uses it,
// blocks other processes from reading the locked file (gofrs/flock issue 54).
func recordPath(path string) string { return path + ".pid" }

func writeRecord(l *Lock, data []byte) error {
	return atomicfile.Write(recordPath(l.path), data, 0o600)
}

// release removes the sidecar while the lock is still held (a successor
// cannot have written its own yet), then unlocks and removes the lock file;
// Windows refuses to delete it while any process has it open (issue 41), in
// which case a successor owns it now and it stays.
func release(l *Lock) error {
	os.Remove(recordPath(l.path))
	if err := l.fl.Unlock(); err != nil {
		return err
	}
	os.Remove(l.path)
	return nil
}
