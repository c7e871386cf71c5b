package tray

import "os/exec"

// OpenDefault shows a URL or folder with the default handler, through the
// shell's file protocol handler (no console window, no cmd.exe quoting).
func OpenDefault(target string) error {
	return exec.Command("rundll32", "url.dll,FileProtocolHandler", target).Start()
}
