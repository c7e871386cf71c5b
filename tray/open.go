package tray

import "github.com/cairnlabs/cairn/internal/opener"

// OpenDefault shows a URL or folder with the desktop's default handler.
// The handler is started, not waited for (a browser may run for hours),
// and reaped in the background.
func OpenDefault(target string) error {
	cmd := opener.Command(target)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
