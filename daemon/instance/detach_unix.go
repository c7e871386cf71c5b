//go:build !windows

package instance

import "syscall"

// detached puts the daemon in its own session so it outlives the terminal
// and the `cairn start` that spawned it, and no terminal signal reaches it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
