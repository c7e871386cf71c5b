//go:build !windows

package launch

import "syscall"

// detached puts the daemon in its own session: it outlives the terminal,
// the `cairn start` and the tray that started it, and no terminal signal
// (a Ctrl-C aimed at the tray) reaches it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
