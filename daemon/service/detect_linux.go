package service

import (
	"fmt"
	"os/exec"
)

// Detect returns the systemd user manager, when systemctl is installed.
func Detect() (Manager, error) {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return nil, fmt.Errorf("%w: systemctl is not installed; run 'cairn serve --foreground' under your init system instead", ErrNoManager)
	}
	return NewSystemdUser()
}
