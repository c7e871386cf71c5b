//go:build !windows

package lock

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/safefile"
)

// within fails the test instead of hanging it when fn blocks.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("%s blocked for 2 s", what)
	}
}

func TestSymlinkedLockLeavesTheVictimAlone(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	path := filepath.Join(dir, "daemon.lock")
	os.Symlink(victim, path)

	if l, err := Acquire(path, 4242); !errors.Is(err, safefile.ErrNotRegular) {
		if l != nil {
			l.Release()
		}
		t.Fatalf("Acquire through a symlink = %v, want ErrNotRegular", err)
	}
	if _, err := ReadRecord(path); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("ReadRecord through a symlink = %v", err)
	}
	if _, err := Probe(path); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("Probe through a symlink = %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Errorf("victim changed: %q", data)
	}
}

func TestFIFOLockNeverBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, "Acquire(fifo)", func() {
		if _, err := Acquire(path, 1); !errors.Is(err, safefile.ErrNotRegular) {
			t.Errorf("Acquire(fifo) = %v", err)
		}
	})
	within(t, "ReadRecord(fifo)", func() {
		if _, err := ReadRecord(path); !errors.Is(err, safefile.ErrNotRegular) {
			t.Errorf("ReadRecord(fifo) = %v", err)
		}
	})
	within(t, "Probe(fifo)", func() {
		if _, err := Probe(path); !errors.Is(err, safefile.ErrNotRegular) {
			t.Errorf("Probe(fifo) = %v", err)
		}
	})
}

// The record is written through the locked descriptor: swapping the path
// for a symlink after the lock is taken cannot redirect the write.
func TestRecordGoesToTheLockedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "daemon.lock")
	l, err := Acquire(path, 4242)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	fi, _ := os.Lstat(path)
	held, _ := l.h.stat()
	if !os.SameFile(fi, held) {
		t.Fatal("the handle is not the file at the path")
	}
	if err := writeRecord(l, []byte(FormatRecord(7))); err != nil {
		t.Fatal(err)
	}
	if pid, err := ReadRecord(path); err != nil || pid != 7 {
		t.Errorf("record = %d, %v", pid, err)
	}
}
