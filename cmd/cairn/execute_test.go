package main

import (
	"io"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/daemon/launch"
)

// FuzzSupervisorCommandLine: whatever launch.ParseArgs accepts (and
// execute then runs without cobra), cobra's serve command reads the same
// way: serve, --foreground, the same port, nothing else. Otherwise the two
// paths would start different daemons. Arguments are separated by NUL.
func FuzzSupervisorCommandLine(f *testing.F) {
	for _, port := range []int{1, 7070, 65535} {
		f.Add(strings.Join(launch.Args(port), "\x00"))
	}
	for _, near := range []string{
		"serve\x00--foreground\x00--port\x0007070",
		"serve\x00--foreground\x00--port\x00+7070",
		"serve\x00--foreground\x00--port\x000x1b9e",
		"serve\x00--foreground\x00--port\x000",
		"serve\x00--foreground\x00--port=7070",
		"serve\x00--port\x007070\x00--foreground",
		"serve\x00--foreground=false\x00--port\x007070",
	} {
		f.Add(near)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		port, ok := launch.ParseArgs(args)
		if !ok {
			return
		}
		cmd, rest, err := newRoot(io.Discard, io.Discard).Find(args)
		if err != nil {
			t.Fatalf("launch.ParseArgs accepts %q, cobra finds no command: %v", args, err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("launch.ParseArgs accepts %q, cobra refuses its flags: %v", args, err)
		}
		foreground, _ := cmd.Flags().GetBool("foreground")
		flagPort, _ := cmd.Flags().GetInt("port")
		if cmd.Name() != "serve" || !foreground || flagPort != port || len(cmd.Flags().Args()) > 0 {
			t.Fatalf("launch.ParseArgs reads %q as port %d; cobra as %q, foreground %v, port %d, arguments %q",
				args, port, cmd.CommandPath(), foreground, flagPort, cmd.Flags().Args())
		}
	})
}
