package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cairnlabs/cairn/internal/memgen"
)

// TestFullDiskTmpfs fills a real 2 MiB tmpfs: SQLite's own ENOSPC path.
// It needs root (or CAP_SYS_ADMIN) for the mount, as make test has.
func TestFullDiskTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700"); err != nil {
		t.Fatalf("mount a 2 MiB tmpfs on %s: %v; this test needs root (or CAP_SYS_ADMIN): run it as make test does", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	// A filler to free later, as a user would delete something.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 512<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the store closes before the unmount.
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	gen := memgen.New(3)
	var acked []string
	var fullErr error
	for i := 0; i < 100000 && fullErr == nil; i++ {
		r, err := s.Put(ctx, NewMemory{Text: gen.Text() + " " + gen.Text()})
		switch {
		case err == nil:
			acked = append(acked, r.ID)
		case errors.Is(err, ErrFull):
			fullErr = err
		default:
			t.Fatalf("after %d writes: %v, want ErrFull", len(acked), err)
		}
	}
	if fullErr == nil {
		t.Fatal("the 2 MiB tmpfs never filled")
	}
	t.Logf("full after %d writes: %v", len(acked), fullErr)
	// Still full: reads work. (A further small write may fit in the WAL
	// space the rolled-back batch left, so it is not asserted to fail.)
	if _, err := s.Get(ctx, acked[0]); err != nil {
		t.Fatalf("read on the full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	after := mustPut(t, s, NewMemory{Text: "space is back"})
	acked = append(acked, after.ID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("acknowledged %s lost: %v", id, err)
		}
	}
	if got := s.Count(); got != int64(len(acked)) {
		t.Fatalf("count %d after reopen, want %d", got, len(acked))
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
