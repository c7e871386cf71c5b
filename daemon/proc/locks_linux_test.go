package proc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnlabs/cairn/daemon/poll"
)

func TestFlockHoldersOf(t *testing.T) {
	locks := ParseLocks([]byte(strings.Join([]string{
		"1: FLOCK  ADVISORY  WRITE 100 08:01:5 0 EOF",
		"1: -> FLOCK  ADVISORY  WRITE 101 08:01:5 0 EOF", // waits: not a holder
		"2: POSIX  ADVISORY  WRITE 102 08:01:5 0 EOF",    // another kind of lock
		"3: FLOCK  ADVISORY  WRITE 103 08:02:5 0 EOF",    // same inode, other device
		"4: FLOCK  ADVISORY  WRITE 104 08:01:6 0 EOF",    // other inode
	}, "\n")))
	if got := flockHoldersOf(locks, 8, 1, 5); !reflect.DeepEqual(got, []int{100}) {
		t.Errorf("holders of 08:01:5 = %v, want [100]", got)
	}
}

// The real kernel table names the process that holds an flock, and only
// while it holds it.
func TestFlockHoldersOfARealLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	if err := os.WriteFile(path, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pids, err := FlockHolders(path); err != nil || len(pids) != 0 {
		t.Fatalf("unlocked file: holders %v, %v", pids, err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if pids, err := FlockHolders(path); err != nil || !slices.Equal(pids, []int{os.Getpid()}) {
		t.Fatalf("locked by this test: holders %v, %v; want [%d]", pids, err, os.Getpid())
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)

	// Another process, through flock(1): the table names it, not us.
	other := exec.Command("flock", "--exclusive", path, "sleep", "600")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	if !poll.Until(context.Background(), 10*time.Second, func() bool {
		pids, err := FlockHolders(path)
		return err == nil && slices.Equal(pids, []int{other.Process.Pid})
	}) {
		t.Fatal("flock(1) was never named as the holder")
	}
}
