package safefile

import "os"

// open on Windows has no O_NOFOLLOW or FIFOs to guard against; the analogue
// of a symlink is a reparse point (symlink or junction), which Lstat reports
// and we refuse before opening. The gap between Lstat and open is only
// reachable by someone who can write the data dir, and %LOCALAPPDATA% is
// private to the user through its ACL.
func open(path string, flag int, perm os.FileMode) (*os.File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	return os.OpenFile(path, flag, perm)
}
