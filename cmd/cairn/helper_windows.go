package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"
)

// runHelper runs the program at path with this process's standard streams
// and ends with its exit code. Windows has no exec, so cairn waits for it,
// and a job object ties the helper to cairn: a tool that ends cairn.exe
// (TerminateProcess) rather than closing its stdin ends the helper too,
// which would otherwise keep the tool's pipes open. The job lets the
// helper's own children out (the daemon it starts must outlive it).
func runHelper(path string, args []string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	// Best effort: without the job the helper still ends when the tool
	// closes its stdin, as MCP clients do to stop a server. (A tool that
	// kills cairn.exe in the moment between Start and the assignment
	// leaves the helper out too: exec cannot start it suspended.)
	if job, err := killOnCloseJob(); err == nil {
		if h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid)); err == nil {
			_ = windows.AssignProcessToJobObject(job, h)
			windows.CloseHandle(h)
		}
		// The job's handle stays open until this process ends; Windows
		// then closes it, and the job ends the helper.
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &silentExit{code: exit.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	return nil
}

// killOnCloseJob is a job object whose processes end when its last handle
// closes, and whose processes' children are not in it.
func killOnCloseJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, err
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | windows.JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, err
	}
	return job, nil
}
