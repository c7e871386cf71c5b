//go:build !windows

package safefile

import (
	"errors"
	"os"
	"syscall"
)

// open adds O_NOFOLLOW (a symlink as the last component fails with ELOOP)
// and O_NONBLOCK (opening a FIFO returns at once instead of waiting for a
// writer; on a regular file the flag has no effect).
func open(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if err == nil {
		return f, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, notRegular(path, os.ModeSymlink)
	}
	// O_WRONLY|O_NONBLOCK on a FIFO without a reader fails with ENXIO.
	if errors.Is(err, syscall.ENXIO) {
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return nil, notRegular(path, fi.Mode())
		}
	}
	return nil, err
}
