package main

import "context"

// openBrowser shows url in the default browser through the shell's file
// protocol handler (no console window, no cmd.exe quoting of & in the URL).
func openBrowser(ctx context.Context, url string) error {
	return launch(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
}
