package supervisor

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// terminate has no graceful signal to send on Windows; the API shutdown
// came first, so the caller goes on to Kill.
func terminate(*os.Process) error { return errors.New("no graceful signal on Windows") }

// ownSession starts the daemon hidden, in its own process group, so it
// outlives the tray and no console window flashes.
func ownSession() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_NO_WINDOW,
		HideWindow:    true,
	}
}
