package main

import "context"

// openBrowser shows url in the default browser.
func openBrowser(ctx context.Context, url string) error { return launch(ctx, "open", url) }
