// Package safefile opens the files of Cairn's data dir so that none of them
// can be turned against Cairn: a symlink is never followed, a FIFO never
// blocks an open or a read, and only a regular file is accepted. Reads are
// capped, because every file we read (token, lock record, discovery file) is
// a few bytes and a planted /dev/zero or multi-gigabyte file must not be
// slurped into memory.
//
// Every data-dir file is opened through Open or ReadFile; files written by a
// library that takes no opener (lumberjack's logs) are checked with Check
// first.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular means the path names something other than a regular file: a
// symlink, a FIFO, a directory, a device or a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge means a file is larger than its reader accepts.
var ErrTooLarge = errors.New("file is too large")

// Open opens path with flag and perm (as os.OpenFile) without following a
// symlink at path and without blocking on a FIFO, and returns the file only
// when it is a regular file. The check is made on the open descriptor, so
// the file cannot be swapped between the check and the use.
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := open(path, flag, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, fi.Mode())
	}
	return f, nil
}

// ReadFile reads the regular file at path, at most max bytes; a larger file
// is an ErrTooLarge error, not a truncated read.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w (more than %d bytes); remove it", path, ErrTooLarge, max)
	}
	return data, nil
}

// Check reports an error when path exists and is not a regular file (a
// symlink counts as not regular: it is not followed). A missing path is
// fine. It is for files that a library opens by name, where Open cannot be
// used; the check and the library's open are two steps, so it is only enough
// in a directory that no other user can write.
func Check(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return notRegular(path, fi.Mode())
	}
	return nil
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%s is %s, %w; remove it (Cairn recreates its files)", path, kind(m), ErrNotRegular)
}

// kind names a file type for error messages.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "not a plain file (" + m.Type().String() + ")"
	}
}
