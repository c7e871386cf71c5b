package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
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
	// --no-fork: flock becomes the command, so killing it ends the lock
	// and leaves no `sleep` behind.
	other := exec.Command("flock", "--exclusive", "--no-fork", path, "sleep", "600")
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

// The table is written a page per read and each read restarts its walk at
// an index, so a lock released in between shifts the entries after it by
// one and the one at the boundary is skipped (a CI run under load: a hung
// daemon's lock line skipped, the daemon reported as a stranger). Other
// locks come and go here while the table grows past a page, one lock at a
// time, moving the held one across the read boundaries; the holder must be
// named every time.
func TestFlockHoldersWhileOtherLocksComeAndGo(t *testing.T) {
	dir := t.TempDir()
	lockFile := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		return f
	}
	held := lockFile("daemon.lock")
	path := held.Name()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		f := lockFile(fmt.Sprintf("churn%d", i))
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				unix.Flock(int(f.Fd()), unix.LOCK_EX)
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()

	misses := 0
	for i := range 160 {
		lockFile(fmt.Sprintf("pad%d", i))
		for range 10 {
			pids, err := FlockHolders(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pids, []int{os.Getpid()}) {
				misses++
				t.Logf("pad %d: %v", i, pids)
			}
		}
	}
	if misses > 0 {
		t.Fatalf("the held lock went unnamed in %d of %d reads of the table", misses, 160*10)
	}
}

// HoldsFlock confirms a holder from its own open files: this process
// while it holds the lock and not after, another process (flock(1)) while
// it does, and no one else meanwhile.
func TestHoldsFlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	if err := os.WriteFile(path, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	holds := func(pid int) bool {
		t.Helper()
		held, err := HoldsFlock(pid, path)
		if err != nil {
			t.Fatalf("HoldsFlock(%d): %v", pid, err)
		}
		return held
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if holds(os.Getpid()) {
		t.Fatal("an open file without a lock counts as holding it")
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if !holds(os.Getpid()) {
		t.Fatal("this process holds the lock, HoldsFlock says not")
	}
	// A shared lock on another file of the same process is not this one.
	g, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	unix.Flock(int(g.Fd()), unix.LOCK_SH)
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	if holds(os.Getpid()) {
		t.Fatal("released, and still said to hold it")
	}

	other := exec.Command("flock", "--exclusive", "--no-fork", path, "sleep", "600") // as above
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	if !poll.Until(context.Background(), 10*time.Second, func() bool { return holds(other.Process.Pid) }) {
		t.Fatal("flock(1) was never seen to hold the lock")
	}
	if holds(os.Getpid()) {
		t.Fatal("this process is said to hold flock(1)'s lock")
	}
	other.Process.Kill()
	other.Wait()
	if holds(other.Process.Pid) {
		t.Fatal("a process that is gone is said to hold the lock")
	}
}
