package launch

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// detached starts the daemon with a console of its own that is never
// shown (so no window flashes, and closing the terminal or the tray does
// not end it) in a process group of its own.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_NO_WINDOW,
		HideWindow:    true,
	}
}
