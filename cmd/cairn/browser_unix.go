//go:build !windows && !darwin

package main

import "context"

// openBrowser shows url with the desktop's default handler.
func openBrowser(ctx context.Context, url string) error { return launch(ctx, "xdg-open", url) }
