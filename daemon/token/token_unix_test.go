//go:build !windows

package token

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO or a link to /dev/zero at the token path is refused at once by Read
// and replaced by LoadOrCreate; neither blocks or reads without bound.
func TestSpecialTokenFilesNeverBlock(t *testing.T) {
	for name, plant := range map[string]func(string) error{
		"fifo":     func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"dev-zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "control.token")
			if err := plant(path); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				if _, err := Read(path); err == nil {
					done <- os.ErrInvalid
					return
				}
				_, _, err := LoadOrCreate(path)
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Read accepted it or LoadOrCreate failed: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("blocked for 2 s")
			}
			if _, err := Read(path); err != nil {
				t.Errorf("the replacement token: %v", err)
			}
		})
	}
}
