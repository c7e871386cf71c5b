//go:build !windows

package instance

import (
	"errors"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// unwritableFolder is the folder that keeps a file at path from being
// made by this user: path's folder, or the nearest one above it that
// exists when it does not, if this user cannot write into it; "" when it
// can (or when that cannot be told).
func unwritableFolder(path string) string {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		err := unix.Access(dir, unix.W_OK|unix.X_OK)
		switch {
		case err == nil:
			return ""
		case errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir:
			continue
		case errors.Is(err, fs.ErrPermission) || errors.Is(err, unix.EROFS):
			return dir
		}
		return ""
	}
}
