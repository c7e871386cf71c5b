package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/internal/proctest"
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

// TestExecuteSkipsCobraOnlyForTheSupervisorsLine: the command line every
// supervisor writes runs the daemon without cobra (execute returns no
// command), every other spelling of it through cobra, and both reach the
// same daemon: here it refuses a data dir others can write, before it
// binds anything.
func TestExecuteSkipsCobraOnlyForTheSupervisorsLine(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("CAIRN_HOME", data)
	t.Setenv(instance.OutputTagEnv, "")
	port := proctest.FreePort(t)
	for _, c := range []struct {
		args  []string
		cobra bool
	}{
		{launch.Args(port), false},
		{[]string{"serve", "--foreground", "--port=" + strconv.Itoa(port)}, true},
		{[]string{"serve", "--port", strconv.Itoa(port), "--foreground"}, true},
	} {
		var stderr strings.Builder
		cmd, err := execute(context.Background(), c.args, io.Discard, &stderr)
		if ranCobra := cmd != nil; ranCobra != c.cobra {
			t.Errorf("%q: ran cobra %v, want %v", c.args, ranCobra, c.cobra)
		}
		if code := exitcode.Of(err); code != exitcode.DataDirBad || !strings.Contains(err.Error(), "group or others") {
			t.Errorf("%q: exit %d (%v), want %d for the data dir others can write\n%s", c.args, code, err, exitcode.DataDirBad, stderr.String())
		}
	}
}
