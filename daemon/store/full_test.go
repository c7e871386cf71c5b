package store

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestFullSeam: a commit that fails as SQLITE_FULL answers every caller of
// that batch ErrFull, loses nothing acknowledged before, and the next
// batch works.
func TestFullSeam(t *testing.T) {
	path := t.TempDir() + "/cairn.db"
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var full atomic.Bool
	s.failCommit = full.Load // set before the first request: the channel send orders it
	ctx := context.Background()
	a := mustPut(t, s, NewMemory{Text: "before the disk filled"})
	full.Store(true)
	_, err = s.Put(ctx, NewMemory{Text: "while the disk is full"})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Put on a full disk: %v, want ErrFull", err)
	}
	if err := s.Delete(ctx, a.ID); !errors.Is(err, ErrFull) {
		t.Fatalf("Delete on a full disk: %v, want ErrFull", err)
	}
	full.Store(false)
	b := mustPut(t, s, NewMemory{Text: "after space was freed"})
	if b.Status != StatusCreated {
		t.Fatalf("status %q", b.Status)
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if p, _ := s.List(ctx, Query{Q: "full"}); len(p.Memories) != 0 {
		t.Fatalf("the failed write is visible: %+v", p.Memories)
	}
	if s.Count() != 2 {
		t.Fatalf("count %d, want 2", s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
