package lock

import (
	"fmt"
	"os"

	"github.com/gofrs/flock"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/daemon/safefile"
)

// recordPath is a sidecar on Windows: LockFileEx, as gofrs/flock uses it,
// blocks other processes from reading the locked file (gofrs/flock issue 54).
func recordPath(path string) string { return path + ".pid" }

// handle is gofrs/flock's LockFileEx lock. flock opens the path by name, so
// safefile.Check refuses a reparse point (symlink, junction) first, and the
// locked file is checked again after locking; %LOCALAPPDATA%'s per-user ACL
// keeps others from swapping it in between.
type handle struct{ fl *flock.Flock }

func tryLock(path string, create bool) (*handle, bool, error) {
	if err := safefile.Check(path); err != nil {
		return nil, false, err
	}
	opts := []flock.Option{flock.SetPermissions(0o600)}
	if !create {
		opts = append(opts, flock.SetFlag(os.O_RDONLY)) // a probe never creates the file
	}
	fl := flock.New(path, opts...)
	ok, err := fl.TryLock()
	if err != nil || !ok {
		return nil, ok, err
	}
	fi, err := fl.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file, %w; remove it", path, safefile.ErrNotRegular)
	}
	if err != nil {
		fl.Close()
		return nil, false, err
	}
	return &handle{fl}, true, nil
}

func (h *handle) stat() (os.FileInfo, error) { return h.fl.Stat() }

func (h *handle) unlock() error { return h.fl.Unlock() }

func writeRecord(l *Lock, data []byte) error {
	return atomicfile.Write(recordPath(l.path), data, 0o600)
}

// release removes the sidecar while the lock is still held (a successor
// cannot have written its own yet), then unlocks and removes the lock file;
// Windows refuses to delete it while any process has it open (issue 41), in
// which case a successor owns it now and it stays.
func release(l *Lock) error {
	os.Remove(recordPath(l.path))
	if err := l.h.unlock(); err != nil {
		return err
	}
	os.Remove(l.path)
	return nil
}
