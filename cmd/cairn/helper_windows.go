package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// runHelper runs the program at path with this process's standard streams
// and ends with its exit code. Windows has no exec: cairn waits for it.
// When the AI tool ends cairn instead of closing its end of the pipes,
// the helper still ends once the tool lets go of them, since it reads
// them to their end (the MCP client closes stdin to stop a server).
func runHelper(path string, args []string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &silentExit{code: exit.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	return nil
}
