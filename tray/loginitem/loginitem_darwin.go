package loginitem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// newBackend: a LaunchAgent in ~/Library/LaunchAgents.
func newBackend() (backend, error) {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return nil, errors.New("cannot find ~/Library/LaunchAgents: HOME is not set")
	}
	return &launchAgent{
		dir:      filepath.Join(home, "Library", "LaunchAgents"),
		label:    AgentLabel,
		disabled: launchctlDisabled,
		enable:   launchctlEnable,
	}, nil
}

func guiDomain() string { return "gui/" + strconv.Itoa(os.Getuid()) }

func launchctlDisabled(label string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "launchctl", "print-disabled", guiDomain()).Output()
	if err != nil {
		return false, fmt.Errorf("launchctl print-disabled %s: %w", guiDomain(), err)
	}
	return parsePrintDisabled(out, label), nil
}

func launchctlEnable(label string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "launchctl", "enable", guiDomain()+"/"+label).CombinedOutput(); err != nil {
		return fmt.Errorf("launchctl enable %s/%s: %v: %s", guiDomain(), label, err, out)
	}
	return nil
}
