//go:build !windows

package proctest

import (
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// Freeze stops pid with SIGSTOP and returns once the kernel reports it
// stopped, so the test sees a hung daemon and not one still finishing the
// request in flight: kill(2) returns before the signal is delivered, and a
// CI run once caught a "frozen" daemon answering. It resumes the process
// when the test ends; on Linux os.FindProcess holds a pidfd, so that
// SIGCONT cannot reach a process that reused the PID.
func Freeze(t testing.TB, pid int) {
	t.Helper()
	proc, err := os.FindProcess(pid)
	if err == nil {
		err = proc.Signal(syscall.SIGSTOP)
	}
	if err != nil {
		t.Fatalf("SIGSTOP to %d: %v", pid, err)
	}
	t.Cleanup(func() {
		proc.Signal(syscall.SIGCONT)
		proc.Release()
	})
	Eventually(t, 10*time.Second, "the process to stop", func() bool {
		p, err := process.NewProcess(int32(pid))
		if err != nil {
			return false
		}
		st, err := p.Status()
		return err == nil && slices.Contains(st, process.Stop)
	})
}
