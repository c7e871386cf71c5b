//go:build !windows

package instance

import (
	"syscall"
)

func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
func kill(pid int) error      { return syscall.Kill(pid, syscall.SIGKILL) }

// detached puts the daemon in its own session so it outlives the terminal
// and the `cairn start` that spawned it, and no terminal signal reaches it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
