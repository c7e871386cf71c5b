//go:build !windows

package main

import (
	"fmt"
	"os"
	"syscall"
)

// runHelper replaces this process with the program at path: the AI tool
// that started `cairn mcp` keeps one process, with its PID, its standard
// streams and its signals, and nothing of cairn stays behind to relay.
func runHelper(path string, args []string) error {
	err := syscall.Exec(path, append([]string{path}, args...), os.Environ())
	return fmt.Errorf("run %s: %w", path, err)
}
