// Command gen draws Cairn's icons into assets/icons. Run it through
// `go generate ./assets`; the assets tests fail if the committed files
// differ from what it draws.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cairnlabs/cairn/assets/internal/artwork"
)

func main() {
	out := flag.String("out", "icons", "directory to write the icons to")
	flag.Parse()
	if err := artwork.Write(*out); err != nil {
		fmt.Fprintf(os.Stderr, "gen: writing icons to %s: %v\n", *out, err)
		os.Exit(1)
	}
}
