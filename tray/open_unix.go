//go:build !windows && !darwin

package tray

import "os/exec"

// OpenDefault shows a URL or folder with the desktop's default handler.
// The handler is started, not waited for: a browser may run for hours.
func OpenDefault(target string) error {
	cmd := exec.Command("xdg-open", target)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
