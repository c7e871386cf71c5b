package proctest

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// HoldFlock holds an exclusive flock on path from an unrelated process
// (util-linux flock(1) running a sleep) until the test ends, and returns
// once the lock is held. The whole process group is killed at cleanup, so
// the sleep that inherited the locked descriptor goes too.
func HoldFlock(t testing.TB, path string) *exec.Cmd {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := exec.Command("flock", "--exclusive", "--nonblock", path, "sh", "-c", "echo locked; exec sleep 600")
	// An *os.File, not a buffer: Wait then does not wait for the sleep,
	// which keeps the write end, to close it.
	c.Stdout = w
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		w.Close()
		t.Fatalf("start flock(1) on %s: %v", path, err)
	}
	w.Close()
	t.Cleanup(func() {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
	})
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(r).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("flock(1) did not take the lock on %s: %q, %v", path, line, err)
	}
	return c
}
