package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openTest opens a store in the test's own temp dir and closes it at the end.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "cairn.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPut(t testing.TB, s *Store, m NewMemory) PutResult {
	t.Helper()
	r, err := s.Put(context.Background(), m)
	if err != nil {
		t.Fatalf("Put(%q): %v", m.Text, err)
	}
	return r
}

// clock is a settable clock for Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// moveStore renames the store at path, with its -wal and -shm, to dst, as
// a user moving it away while it is open would.
func moveStore(t testing.TB, path, dst string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, dst+suffix); err != nil {
			t.Fatal(err)
		}
	}
}
