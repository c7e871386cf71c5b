package proc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// FlockHolders lists the PIDs that hold an flock(2) on the file at path, as
// the kernel's lock table says: the only witness of who holds a lock that
// does not rely on what the holder wrote into the file.
func FlockHolders(path string) ([]int, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("stat the lock file: %w", err)
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil, fmt.Errorf("read the kernel's lock table: %w", err)
	}
	return flockHoldersOf(ParseLocks(data), unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino), nil
}

func flockHoldersOf(locks []FileLock, major, minor uint32, ino uint64) []int {
	var pids []int
	for _, l := range locks {
		if l.Kind == "FLOCK" && !l.Blocked && l.Major == major && l.Minor == minor && l.Inode == ino {
			pids = append(pids, l.PID)
		}
	}
	return pids
}
