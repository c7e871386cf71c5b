//go:build !windows

package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOddPathNames: a data dir whose name has the characters a SQLite URI
// escapes or treats specially holds a store like any other.
func TestOddPathNames(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "100%41 #1 notes & co")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := mustPut(t, s, NewMemory{Text: "kept under an odd name"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m, err := s.Get(context.Background(), r.ID); err != nil || m.Text != "kept under an odd name" {
		t.Fatalf("after reopening: %+v, %v", m, err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A name cut at '#' or read with '%41' as 'A' would be another file,
	// here or above: the store's files are the only ones.
	for d, prefix := range map[string]string{root: filepath.Base(dir), dir: "cairn.db"} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), prefix) {
				t.Errorf("%s holds %q, not a file of the store's", d, e.Name())
			}
		}
	}
}

// TestNewConnectionsNeedTheStoreFile: a connection opened by name after
// the store was moved away while open (Check's, a reader the pool adds)
// fails, where SQLite would have made a new, empty database there.
// Not on Windows, which refuses to move a database SQLite has open.
func TestNewConnectionsNeedTheStoreFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, NewMemory{Text: "written before the move"})
	moveStore(t, path, filepath.Join(dir, "moved.db"))
	if err := s.Check(context.Background()); err == nil {
		t.Error("Check of a store moved away passed")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a new connection left a file where the store was: %v", err)
	}
}
