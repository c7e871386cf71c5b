//go:build !windows

package instance

import (
	"fmt"
	"os"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// cairnBin is the real cairn binary, built once for this package's tests.
var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-instance-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := proctest.Build(dir, "github.com/cairnlabs/cairn/cmd/cairn")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	cairnBin = bins["github.com/cairnlabs/cairn/cmd/cairn"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
