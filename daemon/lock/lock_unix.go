//go:build !windows

package lock

import (
	"errors"
	"os"
	"syscall"

	"github.com/cairnlabs/cairn/daemon/safefile"
)

func recordPath(path string) string { return path }

// handle is the lock file opened through safefile and flock(2)ed. We take
// the lock ourselves rather than through gofrs/flock: flock opens the path
// with os.OpenFile, following a symlink there, and does not expose its file
// handle, so the record would have to be written by opening the path again.
type handle struct{ f *os.File }

// tryLock opens path (creating it 0600 when create) without following a
// symlink or blocking on a FIFO, checks it is a regular file, and takes an
// exclusive flock without waiting. ok is false when another process holds it.
func tryLock(path string, create bool) (h *handle, ok bool, err error) {
	flag := os.O_RDONLY
	if create {
		flag = os.O_CREATE | os.O_RDWR
	}
	f, err := safefile.Open(path, flag, 0o600)
	if err != nil {
		return nil, false, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, false, err
	}
	var lockErr error
	if err := rc.Control(func(fd uintptr) {
		for {
			lockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if lockErr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		f.Close()
		return nil, false, err
	}
	if errors.Is(lockErr, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, false, nil
	}
	if lockErr != nil {
		f.Close()
		return nil, false, lockErr
	}
	return &handle{f}, true, nil
}

func (h *handle) stat() (os.FileInfo, error) { return h.f.Stat() }

// unlock drops the lock by closing the only descriptor that holds it.
func (h *handle) unlock() error { return h.f.Close() }

// writeRecord writes the PID into the locked file itself, through the handle
// that holds the lock, so what is written is exactly the file we locked. A
// reader racing with it may see an empty or shorter file, which ParseRecord
// rejects; it never sees another process's PID.
func writeRecord(l *Lock, data []byte) error {
	if _, err := l.h.f.WriteAt(data, 0); err != nil {
		return err
	}
	return l.h.f.Truncate(int64(len(data)))
}

// release removes the path only while it still names the file we locked:
// if someone deleted it and a successor created and locked a new one, that
// file is the successor's.
func release(l *Lock) error {
	var rmErr error
	if same, _ := namesLockedFile(l.h, l.path); same {
		rmErr = os.Remove(l.path)
	}
	if err := l.h.unlock(); err != nil {
		return err
	}
	if rmErr != nil && !os.IsNotExist(rmErr) {
		return rmErr
	}
	return nil
}
