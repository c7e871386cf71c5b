//go:build !windows

package mcp

import (
	"fmt"
	"os"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// cairnBin is the real cairn binary, which a Daemon starts when none runs.
var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-mcp-bin")
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
