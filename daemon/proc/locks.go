package proc

import (
	"strconv"
	"strings"
)

// FileLock is one lock of the Linux lock table (/proc/locks).
type FileLock struct {
	Kind    string // FLOCK, POSIX, OFDLCK, LEASE, …
	Blocked bool   // a waiter ("->"): it does not hold the lock
	PID     int    // who took it; -1 for an OFD lock, which no process owns
	Major   uint32 // device of the locked inode
	Minor   uint32
	Inode   uint64
}

// ParseLocks parses the text of /proc/locks. Each line reads
//
//	1: FLOCK  ADVISORY  WRITE 4242 fd:01:1835010 0 EOF
//	1: -> FLOCK  ADVISORY  WRITE 4343 fd:01:1835010 0 EOF
//
// where the device is MAJOR:MINOR in hex and the inode in decimal (the
// kernel's "%02x:%02x:%lu"). Lines it cannot read are skipped: the table is
// only ever used to confirm a holder, never to find someone to signal.
func ParseLocks(data []byte) []FileLock {
	var out []FileLock
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		f = f[1:]
		l := FileLock{}
		if f[0] == "->" {
			l.Blocked, f = true, f[1:]
		}
		if len(f) < 5 {
			continue
		}
		l.Kind = f[0]
		pid, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		l.PID = pid
		dev := strings.Split(f[4], ":")
		if len(dev) != 3 {
			continue
		}
		major, err1 := strconv.ParseUint(dev[0], 16, 32)
		minor, err2 := strconv.ParseUint(dev[1], 16, 32)
		ino, err3 := strconv.ParseUint(dev[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		l.Major, l.Minor, l.Inode = uint32(major), uint32(minor), ino
		out = append(out, l)
	}
	return out
}
