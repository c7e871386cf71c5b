package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// openPTY opens a pseudo-terminal pair: what the test types goes into
// master, and slave is the terminal the command reads.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// askedTakeover runs `cairn takeover args...` with a terminal on stdin,
// waits for its question on the stream that carries it, types answer, and
// returns the exit code, stdout and stderr.
func askedTakeover(t *testing.T, env *proctest.Env, answer string, args ...string) (int, string, string) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(cairnBin, append([]string{"takeover", "--grace", "1s"}, args...)...)
	cmd.Env = env.Environ()
	cmd.Stdin = slave
	var stdout, stderr bytes.Buffer
	pr, pw, _ := os.Pipe()
	asked := &stdout
	if len(args) > 0 && args[0] == "--json" {
		asked = &stderr
		cmd.Stdout, cmd.Stderr = &stdout, pw
	} else {
		cmd.Stdout, cmd.Stderr = pw, &stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	question := make(chan struct{})
	read := make(chan struct{})
	go func() {
		defer close(read)
		r := bufio.NewReader(pr)
		seen := false
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			asked.WriteByte(b)
			if !seen && strings.HasSuffix(asked.String(), "[y/N] ") {
				seen = true
				close(question)
			}
		}
	}()
	select {
	case <-question:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no question within 20 s\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
	master.WriteString(answer + "\n")
	err := cmd.Wait()
	<-read
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// On a terminal, takeover asks first; with --json the question goes to
// stderr and stdout carries only the one JSON object.
func TestTakeoverAsksOnATerminal(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	holder := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port))
	question := fmt.Sprintf("Port %d is in use by holdport (PID %d).\nStop it and start Cairn? [y/N] ", env.Port, holder.PID())

	code, out, errOut := askedTakeover(t, env, "n", "--json")
	if code != 1 || !strings.HasPrefix(errOut, question) {
		t.Errorf("takeover --json, answered no: exit %d\nstderr: %q\nwant it to start with %q", code, errOut, question)
	}
	var e withSchema[errorJSON]
	if topKeys(t, "takeover --json", out); jsonUnmarshal(out, &e) != nil || e.Schema != schemaError || e.Body.Error != "not confirmed; nothing was stopped" {
		t.Errorf("takeover --json, answered no: stdout %q", out)
	}
	if !proc.Alive(t.Context(), holder.PID()) {
		t.Fatal("the holder was stopped although the answer was no")
	}

	code, out, errOut = askedTakeover(t, env, "y")
	if code != 0 || !strings.HasPrefix(out, question) || !strings.Contains(out, fmt.Sprintf("Stopped holdport (PID %d).\nCairn is running at 127.0.0.1:%d", holder.PID(), env.Port)) {
		t.Errorf("takeover, answered yes: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	holder.Wait(t, 10*time.Second)
	assertOursServes(t, env, holder.PID())
}

// A command that reads its input from standard input does not wait on a
// terminal for it: remember and import without a file say what to give.
func TestInputCommandsRefuseATerminal(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"remember"}, "give the text as arguments"},
		{[]string{"import"}, "give the file to import ('cairn import memories.jsonl'), or pipe it in; standard input is a terminal"},
		{[]string{"import", "-"}, "give the file to import"},
	} {
		_, slave := openPTY(t)
		cmd := exec.Command(cairnBin, tc.args...)
		cmd.Env = env.Environ()
		cmd.Stdin = slave
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("%q on a terminal: %v, stderr %q; want exit 2 and %q", tc.args, err, stderr.String(), tc.want)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%q waited on the terminal for 20 s", tc.args)
		}
	}
}
