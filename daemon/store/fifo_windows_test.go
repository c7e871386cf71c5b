package store

import "os"

// Windows has no FIFOs in the file system; a directory stands in as the
// non-regular file the store must refuse.
func mkfifo(path string) error { return os.Mkdir(path, 0o700) }
