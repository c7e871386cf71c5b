package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// procStat is what /proc/<pid>/stat says about a process: its parent and
// the CPU time of all its threads, in clock ticks.
type procStat struct {
	state byte
	ppid  int
	ticks uint64 // utime + stime
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: bad utime/stime %q %q", pid, f[11], f[12])
	}
	return procStat{state: f[0][0], ppid: ppid, ticks: utime + stime}, nil
}

// rssKiB is VmRSS from /proc/<pid>/status.
func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, rest)
			}
			return kib, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// clockTicks is the kernel's USER_HZ, the unit of utime and stime, read
// from the process's auxiliary vector (AT_CLKTCK) since Go has no sysconf.
// 100 is what Linux uses on every common architecture, hence the fallback.
var clockTicks = sync.OnceValue(func() uint64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil || strconv.IntSize != 64 { // parsed as 64-bit pairs only
		return 100
	}
	for i := 0; i+16 <= len(b); i += 16 { // 64-bit pairs of key, value
		if binary.NativeEndian.Uint64(b[i:]) == atClkTck {
			if v := binary.NativeEndian.Uint64(b[i+8:]); v > 0 {
				return v
			}
		}
	}
	return 100
})

// alive reports whether pid is a running, not zombie, process.
func alive(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z'
}

// loadAvg is the machine's 1-minute load average, for the report: the
// figures are only as quiet as the machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
