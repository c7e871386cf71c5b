//go:build !windows

package proc

import "syscall"

// Terminate asks pid to exit (SIGTERM).
func Terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// Kill ends pid at once (SIGKILL).
func Kill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
