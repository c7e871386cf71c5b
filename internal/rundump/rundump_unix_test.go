//go:build !windows

package rundump

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestSignalWritesTheDump(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "dump.txt")
	OnSignal(ctx, path, "test", slog.New(slog.DiscardHandler))
	if err := syscall.Kill(os.Getpid(), Signal); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			if _, ok := Figures(b)["goroutines"]; ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no dump within 10 s of the signal")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
