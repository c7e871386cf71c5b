package instance

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// terminate has no graceful form on Windows for a process in another
// console: the API shutdown is the graceful path there, so this reports
// failure and Stop escalates only with --force.
func terminate(pid int) error { return errors.New("graceful signals are not available on Windows") }

func kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill() // TerminateProcess
}

// detached starts the daemon without a console window and outside this
// console's process group, so closing the terminal does not end it.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS,
		HideWindow:    true,
	}
}
