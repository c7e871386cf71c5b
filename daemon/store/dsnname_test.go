//go:build !windows

package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
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
	// A name cut at '#' or '%' would be another file, here or above.
	for d, want := range map[string][]string{root: {filepath.Base(dir)}, dir: {"cairn.db", "cairn.db-shm", "cairn.db-wal"}} {
		entries, _ := os.ReadDir(d)
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if !slices.Equal(got, want) && !slices.Equal(got, want[:len(want)-1]) && !slices.Equal(got, []string{"cairn.db"}) {
			t.Errorf("%s holds %q, want %q", d, got, want)
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
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, filepath.Join(dir, "moved.db"+suffix)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(context.Background()); err == nil {
		t.Error("Check of a store moved away passed")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a new connection left a file where the store was: %v", err)
	}
}
