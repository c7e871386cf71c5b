//go:build !windows

package token

import "os"

// private looks at the entry itself (Lstat): a symlink is never private.
func private(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().Perm()&0o077 == 0
}
