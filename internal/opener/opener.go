// Package opener is the one table of how each OS shows a URL or a folder
// with the desktop's default handler. The tray starts it and moves on; the
// CLI waits a moment to report a launcher that fails at once.
package opener

import "os/exec"

// Command returns the command that shows target with the default handler.
func Command(target string) *exec.Cmd {
	return exec.Command(launcher[0], append(launcher[1:], target)...)
}
