package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// flockTableReads bounds how often FlockHolders reads the lock table when
// it names no holder of the file (see FlockHolders).
const flockTableReads = 8

// lockTableChunk is the read size for /proc/locks: at least a page, which is
// what the kernel fills per read(2), so a table of up to a page (about 70
// locks) comes out of one walk.
const lockTableChunk = 64 << 10

// tableReadSize is the read size of FlockHolders' nth read of the table:
// lockTableChunk first, then each reread smaller than a page and different
// from the others, so the walk restarts at other entries (FlockHolders says
// why that matters).
func tableReadSize(n int) int {
	if n == 0 {
		return lockTableChunk
	}
	return 1024 + n*409
}

// FlockHolders lists the PIDs that hold an flock(2) on the file at path, as
// the kernel's lock table says: the only witness of who holds a lock that
// does not rely on what the holder wrote into the file.
//
// The table is not a snapshot. The kernel writes it a page per read(2), and
// each read restarts its walk at an index into lists that every process's
// locks join and leave meanwhile (SQLite takes and drops POSIX locks at
// every transaction), so an entry that stays put is skipped when an earlier
// one goes between two reads. An exclusive lock has one holder, which such a
// skip turns into none: a table naming no holder is read again, up to
// flockTableReads times, before it is believed. A CI run under load caught
// it: a hung daemon, its lock line skipped, was reported as a stranger on
// the port. The rereads are in other sizes: read a page at a time, the
// walk restarts at the same entries each time, and an entry right after one
// of them, with other locks churning before it, was skipped by all eight
// reads in 3 of 120 runs of TestFlockHoldersWhileOtherLocksComeAndGo (1,600
// calls each; 0 of 290 runs with these sizes).
func FlockHolders(path string) ([]int, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("stat the lock file: %w", err)
	}
	var pids []int
	for n := range flockTableReads {
		data, err := readLockTable(tableReadSize(n))
		if err != nil {
			return nil, fmt.Errorf("read the kernel's lock table: %w", err)
		}
		if pids = flockHoldersOf(ParseLocks(data), unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino); len(pids) > 0 {
			break
		}
	}
	return pids, nil
}

// HoldsFlock reports whether the process pid holds an flock(2) on the file
// at path, from that process's own open files: the fd in /proc/PID/fd that
// is the file, and the "lock:" lines of its /proc/PID/fdinfo entry, which
// the kernel writes from the file's own lock list under that list's lock.
// It is how a holder named by the lock record is confirmed without
// FlockHolders: reading /proc/locks takes the kernel's file-lock semaphore
// for writing, which waits out an RCU grace period (10–17 ms measured on a
// 2-CPU VM for a process that had not read it a moment before), and that
// was most of a `cairn status`.
//
// False means pid holds no flock on the file (it may be gone, or hold
// another file). An error means its open files cannot be read (another
// user's process, or /proc without them), and only FlockHolders can tell.
func HoldsFlock(pid int, path string) (bool, error) {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return false, fmt.Errorf("stat the lock file: %w", err)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	fds, err := os.ReadDir(dir + "/fd")
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // no such process
	}
	if err != nil {
		return false, fmt.Errorf("read the open files of PID %d: %w", pid, err)
	}
	for _, fd := range fds {
		var st unix.Stat_t
		// Stat follows the fd's link to the open file, whatever its path
		// now is; an fd closed meanwhile is skipped.
		if unix.Stat(dir+"/fd/"+fd.Name(), &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		info, err := os.ReadFile(dir + "/fdinfo/" + fd.Name())
		if err != nil {
			continue
		}
		// Its "lock:" lines are lines of the lock table without the prefix.
		var table []byte
		for line := range bytes.Lines(info) {
			if rest, ok := bytes.CutPrefix(line, []byte("lock:")); ok {
				table = append(table, rest...)
			}
		}
		if len(flockHoldersOf(ParseLocks(table), unix.Major(want.Dev), unix.Minor(want.Dev), want.Ino)) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// readLockTable reads /proc/locks in reads of chunk bytes (at most
// lockTableChunk); the kernel restarts its walk (FlockHolders says why that
// matters) after every read, or every page when chunk is larger.
func readLockTable(chunk int) ([]byte, error) {
	f, err := os.Open("/proc/locks")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, lockTableChunk)
	for {
		if cap(buf)-len(buf) < chunk {
			buf = slices.Grow(buf, lockTableChunk)
		}
		n, err := f.Read(buf[len(buf) : len(buf)+chunk])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func flockHoldersOf(locks []FileLock, major, minor uint32, ino uint64) []int {
	var pids []int
	for _, l := range locks {
		// A walk restarted (FlockHolders) may show an entry twice.
		if l.Kind == "FLOCK" && !l.Blocked && l.Major == major && l.Minor == minor && l.Inode == ino && !slices.Contains(pids, l.PID) {
			pids = append(pids, l.PID)
		}
	}
	return pids
}
