// Command gen draws Cairn's tray icons into assets/icons (embedded in the
// binaries) and the application icon at every size the packages install
// into build/icons (not embedded). Run it through `go generate ./assets`;
// the assets tests fail if the committed files differ from what it draws.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cairnlabs/cairn/assets/internal/artwork"
)

func main() {
	out := flag.String("out", "icons", "directory to write the tray icons to")
	app := flag.String("app", "", "directory to write the packages' application icons to (none if empty)")
	flag.Parse()
	if err := artwork.Write(*out); err != nil {
		fmt.Fprintf(os.Stderr, "gen: writing icons to %s: %v\n", *out, err)
		os.Exit(1)
	}
	if *app == "" {
		return
	}
	if err := artwork.WriteApp(*app); err != nil {
		fmt.Fprintf(os.Stderr, "gen: writing application icons to %s: %v\n", *app, err)
		os.Exit(1)
	}
}
