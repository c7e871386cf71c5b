// Package lock is the daemon's PID lock file: an exclusive OS lock (flock(2)
// on Unix, github.com/gofrs/flock's LockFileEx on Windows) held for the daemon's whole life, plus a record of
// the holder's PID that other processes can read while the lock is held.
//
// The kernel drops the lock when its holder dies, so a lock left by a dead
// process is reclaimed by simply taking it again; the record is only ever
// trusted while the lock is held.
package lock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cairnlabs/cairn/daemon/safefile"
)

// ErrHeld means another live process holds the lock.
var ErrHeld = errors.New("lock is held by another process")

// ErrBadRecord means the record is empty or not a PID.
var ErrBadRecord = errors.New("lock record is not a PID")

// Lock is a held lock. Release it exactly once.
type Lock struct {
	path string
	h    *handle // the open, locked file (per OS)
}

// maxRaceRetries bounds how often Acquire starts over when the file it
// locked was unlinked by a releasing holder in between open and lock.
const maxRaceRetries = 20

// maxRecordSize bounds a record read: a PID and a newline are a few bytes.
const maxRecordSize = 64

// Acquire takes the lock at path without waiting and records pid in it.
// It returns ErrHeld when a live process holds it. The lock file is opened
// through safefile: a symlink, FIFO or directory at path is an error, never
// followed or waited on.
func Acquire(path string, pid int) (*Lock, error) {
	for range maxRaceRetries {
		h, ok, err := tryLock(path, true)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !ok {
			return nil, ErrHeld
		}
		// A holder releasing the lock removes the file while still holding
		// it. If we opened the file before that unlink and locked it after,
		// we now hold a lock on a file nobody else can see: start over.
		same, err := namesLockedFile(h, path)
		if err != nil {
			h.unlock()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !same {
			h.unlock()
			continue
		}
		l := &Lock{path: path, h: h}
		if err := writeRecord(l, []byte(FormatRecord(pid))); err != nil {
			l.Release()
			return nil, fmt.Errorf("write lock record %s: %w", recordPath(path), err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("lock %s: the file kept being replaced while locking it", path)
}

// namesLockedFile reports whether path still names the file we locked. It
// looks at the entry itself (Lstat): a symlink put in its place is not it.
func namesLockedFile(h *handle, path string) (bool, error) {
	held, err := h.stat()
	if err != nil {
		return false, err
	}
	named, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, named), nil
}

// Path is the lock file's path.
func (l *Lock) Path() string { return l.path }

// Release removes the lock file and its record while still holding the lock,
// so no successor can lose a file it just created, then drops the lock.
func (l *Lock) Release() error {
	return release(l)
}

// Probe reports whether a live process holds the lock at path right now. It
// takes the lock for an instant when it is free, so call it only to tell a
// stale record from a live one, never on a hot path. A lock file that is not
// a regular file is an error, never waited on.
func Probe(path string) (bool, error) {
	h, ok, err := tryLock(path, false)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ok {
		h.unlock()
		return false, nil
	}
	return true, nil
}

// ReadRecord reads the PID recorded for the lock at path, through safefile
// and capped at maxRecordSize.
func ReadRecord(path string) (int, error) {
	data, err := safefile.ReadFile(recordPath(path), maxRecordSize)
	if err != nil {
		return 0, err
	}
	return ParseRecord(data)
}

// RecordPath is where the PID record of the lock at path lives: the lock
// file itself, except on Windows, where the locked file cannot be read.
func RecordPath(path string) string { return recordPath(path) }

// FormatRecord is the record's text: the PID in decimal and a newline.
func FormatRecord(pid int) string { return strconv.Itoa(pid) + "\n" }

// ParseRecord parses a record. Only the first line counts; it must hold a
// positive PID that fits in 32 bits.
func ParseRecord(data []byte) (int, error) {
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return 0, ErrBadRecord
	}
	pid, err := strconv.ParseInt(line, 10, 32)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%w: %q", ErrBadRecord, truncate(line, 32))
	}
	return int(pid), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
