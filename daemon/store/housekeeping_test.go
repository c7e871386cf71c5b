package store

import (
	"context"
	"path/filepath"
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
