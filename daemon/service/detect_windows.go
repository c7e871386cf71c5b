package service

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/cairnlabs/cairn/internal/runkey"
)

// Detect returns the HKCU Run logon entry.
func Detect() (Manager, error) {
	reg, err := runkey.Default()
	if err != nil {
		return nil, err
	}
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	return &WindowsLogon{
		Entry:          runkey.Entry{Name: RunValueName, Reg: reg},
		Conhost:        filepath.Join(root, "System32", "conhost.exe"),
		DefaultDataDir: defaultWindowsDataDir(),
		Spawn:          spawnHidden,
		StopDaemon:     stopThroughAPI,
	}, nil
}

// spawnHidden starts the daemon with no console (so no window) outside this
// console's process group, so it outlives the terminal.
func spawnHidden(exe string, args []string) error {
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS,
		HideWindow:    true,
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
