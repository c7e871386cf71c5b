package tray

import "os/exec"

// OpenDefault shows a URL or folder with the default handler (Finder, the
// default browser).
func OpenDefault(target string) error {
	return exec.Command("open", target).Run()
}
