//go:build !windows

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withDeadline fails the test instead of hanging it when fn blocks.
func withDeadline(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Second):
		t.Fatalf("%s blocked for 2 s", what)
		return nil
	}
}

func TestFIFONeverBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY, os.O_RDWR, os.O_CREATE | os.O_WRONLY | os.O_APPEND} {
		err := withDeadline(t, "Open(fifo)", func() error {
			f, err := Open(path, flag, 0o600)
			if f != nil {
				f.Close()
			}
			return err
		})
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("Open(fifo, %#x) = %v, want a FIFO ErrNotRegular", flag, err)
		}
	}
	err := withDeadline(t, "ReadFile(fifo)", func() error { _, err := ReadFile(path, 64); return err })
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile(fifo) = %v", err)
	}
}

func TestDevZeroRefused(t *testing.T) {
	link := filepath.Join(t.TempDir(), "token")
	os.Symlink("/dev/zero", link)
	err := withDeadline(t, "ReadFile(-> /dev/zero)", func() error { _, err := ReadFile(link, 64); return err })
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile(link to /dev/zero) = %v", err)
	}
	err = withDeadline(t, "ReadFile(/dev/zero)", func() error { _, err := ReadFile("/dev/zero", 64); return err })
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "device") {
		t.Errorf("ReadFile(/dev/zero) = %v", err)
	}
}
