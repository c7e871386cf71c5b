package proc

import (
	"errors"
	"os"
)

// Terminate has no graceful form on Windows for a process in another
// console: the API shutdown is the graceful path there, so this reports
// failure and Stop escalates only with --force.
func Terminate(pid int) error { return errors.New("graceful signals are not available on Windows") }

// Kill ends pid at once (TerminateProcess).
func Kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
