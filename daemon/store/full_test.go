package store

import (
	"context"
	"errors"
	"fmt"
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

// PutAll stops at a batch that fails with a full disk: the memories after
// it are not written (and say why), those before it are.
func TestPutAllStopsOnAFullDisk(t *testing.T) {
	s, err := Open(t.TempDir()+"/cairn.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var commits atomic.Int64
	s.failCommit = func() bool { return commits.Add(1) >= 2 } // the second commit on fails
	ms := make([]NewMemory, 3*maxBatch)
	for i := range ms {
		ms[i] = NewMemory{Text: fmt.Sprintf("imported line %d", i)}
	}
	out := s.PutAll(context.Background(), ms)
	firstFail := -1
	for i, o := range out {
		if o.Err != nil && firstFail < 0 {
			firstFail = i
		}
		if firstFail >= 0 && !errors.Is(o.Err, ErrFull) {
			t.Fatalf("line %d after the first failure (%d): %v, want ErrFull", i, firstFail, o.Err)
		}
	}
	if firstFail < 0 || int64(firstFail) != s.Count() {
		t.Fatalf("first failure at %d, %d stored; want the lines before it stored and none after", firstFail, s.Count())
	}
}

// An invalid memory among those PutAll gives up on after a full disk
// still says what is wrong with it, not that the disk is full.
func TestPutAllNamesInvalidLinesAfterAFullDisk(t *testing.T) {
	s, err := Open(t.TempDir()+"/cairn.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var commits atomic.Int64
	s.failCommit = func() bool { return commits.Add(1) >= 2 }
	ms := make([]NewMemory, 3*maxBatch)
	for i := range ms {
		if i%7 == 6 {
			continue // empty text: invalid
		}
		ms[i] = NewMemory{Text: fmt.Sprintf("imported line %d", i)}
	}
	for i, o := range s.PutAll(context.Background(), ms) {
		var ve *ValidationError
		if i%7 == 6 && !errors.As(o.Err, &ve) {
			t.Fatalf("line %d (empty): %v, want its validation error", i, o.Err)
		}
	}
}
