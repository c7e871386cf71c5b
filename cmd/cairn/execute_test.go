package main

import (
	"io"
	"testing"

	"github.com/cairnlabs/cairn/daemon/launch"
)

// execute runs the supervisors' command line without cobra; cobra's serve
// command must read that command line the same way, or the two would
// start different daemons.
func TestSupervisorCommandLineParsesAlike(t *testing.T) {
	for _, port := range []int{1, 7070, 65535} {
		args := launch.Args(port)
		got, ok := launch.ParseArgs(args)
		if !ok || got != port {
			t.Fatalf("launch.ParseArgs(%q) = %d, %v", args, got, ok)
		}
		cmd, rest, err := newRoot(io.Discard, io.Discard).Find(args)
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatal(err)
		}
		foreground, _ := cmd.Flags().GetBool("foreground")
		flagPort, _ := cmd.Flags().GetInt("port")
		if cmd.Name() != "serve" || !foreground || len(cmd.Flags().Args()) > 0 {
			t.Fatalf("cobra reads %q as %q, foreground %v, arguments %q", args, cmd.CommandPath(), foreground, cmd.Flags().Args())
		}
		if p, err := resolvePort(flagPort); err != nil || p != port {
			t.Errorf("cobra reads %q as port %d (%v); execute uses %d", args, p, err, port)
		}
	}
}
