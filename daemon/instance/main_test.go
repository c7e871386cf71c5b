//go:build !windows

package instance

import (
	"fmt"
	"os"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// The real binaries, built once for this package's tests: cairn, and
// holdport, a stand-in for another program on the port.
var cairnBin, holdportBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-instance-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := proctest.Build(dir, "github.com/cairnlabs/cairn/cmd/cairn", "github.com/cairnlabs/cairn/internal/proctest/holdport")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	cairnBin = bins["github.com/cairnlabs/cairn/cmd/cairn"]
	holdportBin = bins["github.com/cairnlabs/cairn/internal/proctest/holdport"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
