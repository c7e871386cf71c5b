package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIdleCheckpoint: a while after the last write housekeeping copies
// the WAL into the database and truncates it, on a connection it opens
// for that, and the store goes on writing and reading as before. Not
// parallel: it shortens the idle wait for the stores it opens.
func TestIdleCheckpoint(t *testing.T) {
	old := optimizeIdleFor
	optimizeIdleFor = 50 * time.Millisecond
	defer func() { optimizeIdleFor = old }()
	path := filepath.Join(t.TempDir(), "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan [2]int64, 4)
	s.onCheckpoint = func(before, after int64) { done <- [2]int64{before, after} } // before the first write
	mustPut(t, s, NewMemory{Text: "written before the store went idle"})
	select {
	case ck := <-done:
		if ck[0] == 0 || ck[1] != 0 {
			t.Errorf("the idle checkpoint had %d bytes of WAL in use and left %d; want some, then none", ck[0], ck[1])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no idle checkpoint within 30 s of the last write")
	}
	if size := fileSize(path + "-wal"); size != 0 {
		t.Errorf("after the idle checkpoint the WAL file is %d bytes; want it truncated", size)
	}
	r := mustPut(t, s, NewMemory{Text: "written after the idle checkpoint"})
	if m, err := s.Get(context.Background(), r.ID); err != nil || m.Text != "written after the idle checkpoint" {
		t.Errorf("Get after the idle checkpoint: %+v, %v", m, err)
	}
}

// TestIdleCheckpointLeavesAMovedStoreAlone: the idle checkpoint opens the
// database by name, so when the file has been moved away while the store
// is open it fails to (dsnName's mode=rw) and says why, where SQLite would have made a new,
// empty database in its place. Not parallel, as above.
func TestIdleCheckpointLeavesAMovedStoreAlone(t *testing.T) {
	old := optimizeIdleFor
	optimizeIdleFor = 50 * time.Millisecond
	defer func() { optimizeIdleFor = old }()
	dir := t.TempDir()
	path := filepath.Join(dir, "cairn.db")
	warned := make(chan string, 4)
	log := slog.New(slog.NewTextHandler(lineFunc(func(line string) {
		if strings.Contains(line, "moved or deleted") {
			warned <- line
		}
	}), nil))
	s, err := Open(path, Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, NewMemory{Text: "written before the file was moved"})
	moveStore(t, path, filepath.Join(dir, "moved.db"))
	// A write after the move (the writer's open file went with it) starts
	// the idle wait again, so the checkpoint comes after the move even if
	// the one the first write started already ran.
	mustPut(t, s, NewMemory{Text: "written after the file was moved"})
	select {
	case <-warned:
	case <-time.After(30 * time.Second):
		t.Fatal("no warning from the idle checkpoint within 30 s of the last write")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the idle checkpoint left a file where the store was: %v", err)
	}
}

// lineFunc is an io.Writer that hands each write (slog writes a line at a
// time) to f.
type lineFunc func(string)

func (f lineFunc) Write(p []byte) (int, error) { f(string(p)); return len(p), nil }
