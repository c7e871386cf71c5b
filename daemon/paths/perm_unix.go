//go:build !windows

package paths

import "os"

// tighten makes dir private to its owner: the token and discovery files in it
// are what keeps other local users out of the API.
func tighten(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return os.Chmod(dir, fi.Mode().Perm()&0o700)
}
