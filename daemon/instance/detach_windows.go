package instance

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// detached starts the daemon without a console window and outside this
// console's process group, so closing the terminal does not end it.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS,
		HideWindow:    true,
	}
}
