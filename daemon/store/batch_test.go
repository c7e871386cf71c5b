package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/poll"
)

// TestFailedRequestInABatch: a batch runs without savepoints, so a request
// that fails in it rolls the batch back and the batch runs again with one
// savepoint per request. Each caller gets its own answer, the requests that
// can succeed are written in one commit, and nothing of the failed ones is.
func TestFailedRequestInABatch(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	full := mustPut(t, s, NewMemory{Text: "a memory with many tags", Tags: []string{
		"t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13", "t14", "t15", "t16"}})

	// Hold the writer in the commit of a first write until the rest of
	// the requests are queued, so they make up the next batch together.
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.failCommit = func() bool {
		once.Do(func() { close(held); <-release })
		return false
	}
	var wg sync.WaitGroup
	wg.Go(func() { mustPut(t, s, NewMemory{Text: "the write that holds the writer"}) })
	<-held

	const missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	text := "replaced text"
	type answer struct {
		put PutResult
		err error
	}
	answers := make([]answer, 6)
	requests := []func() answer{
		func() answer { r, err := s.Put(ctx, NewMemory{Text: "first of the batch"}); return answer{r, err} },
		func() answer { _, err := s.Update(ctx, missing, Patch{Text: &text}); return answer{err: err} },
		func() answer { r, err := s.Put(ctx, NewMemory{Text: "second of the batch"}); return answer{r, err} },
		func() answer { return answer{err: s.Delete(ctx, missing)} },
		func() answer {
			_, err := s.Update(ctx, full.ID, Patch{Text: &text, AddTags: []string{"t17"}})
			return answer{err: err}
		},
		func() answer { r, err := s.Put(ctx, NewMemory{Text: "third of the batch"}); return answer{r, err} },
	}
	for i, req := range requests {
		wg.Go(func() { answers[i] = req() })
	}
	if !poll.Until(ctx, 5*time.Second, func() bool { return len(s.reqs) == len(requests) }) {
		t.Fatalf("%d of %d requests queued", len(s.reqs), len(requests))
	}
	before, _ := s.Stats(ctx)
	close(release)
	wg.Wait()

	for _, i := range []int{0, 2, 5} {
		if a := answers[i]; a.err != nil || a.put.Status != StatusCreated {
			t.Fatalf("put %d of the batch: %+v", i, a)
		}
		if _, err := s.Get(ctx, answers[i].put.ID); err != nil {
			t.Fatalf("put %d of the batch: %v", i, err)
		}
	}
	for _, i := range []int{1, 3} {
		if !errors.Is(answers[i].err, ErrNotFound) {
			t.Fatalf("request %d on a missing id: %v, want ErrNotFound", i, answers[i].err)
		}
	}
	if err := answers[4].err; err == nil || !strings.Contains(err.Error(), "17 tags") {
		t.Fatalf("update to 17 tags: %v, want refused", err)
	}
	m, err := s.Get(ctx, full.ID)
	if err != nil || m.Text != "a memory with many tags" || len(m.Tags) != 16 {
		t.Fatalf("the refused update changed the memory: %+v, %v", m, err)
	}
	after, _ := s.Stats(ctx)
	// The held write's commit, then the batch's one.
	if n := after.Commits - before.Commits; n != 2 {
		t.Fatalf("the held write and the batch took %d commits, want 2", n)
	}
	if s.Count() != 5 {
		t.Fatalf("count %d, want 5", s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFailedLoneRequest: a batch of one request that fails is rolled back
// and answered with its error; nothing is committed.
func TestFailedLoneRequest(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	mustPut(t, s, NewMemory{Text: "something"})
	before, _ := s.Stats(ctx)
	if err := s.Delete(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete of a missing id: %v", err)
	}
	after, _ := s.Stats(ctx)
	if after.Commits != before.Commits {
		t.Fatalf("a failed lone request committed (%d → %d commits)", before.Commits, after.Commits)
	}
	mustPut(t, s, NewMemory{Text: "something else"})
	if s.Count() != 2 {
		t.Fatalf("count %d, want 2", s.Count())
	}
}

// TestChangedInTheBatchThatWroteIt: a batch indexes its new memories just
// before it commits, so a request later in the same batch that changes or
// deletes one of them (through the index's triggers) must find it indexed
// already. Imports give the ids up front, so one batch can hold both.
func TestChangedInTheBatchThatWroteIt(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.failCommit = func() bool {
		once.Do(func() { close(held); <-release })
		return false
	}
	var wg sync.WaitGroup
	wg.Go(func() { mustPut(t, s, NewMemory{Text: "the write that holds the writer"}) })
	<-held

	const changed, deleted = "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAW"
	beta := "beta words replaced them"
	errs := make([]error, 5)
	requests := []func() error{
		func() error { _, err := s.Put(ctx, NewMemory{ID: changed, Text: "alpha words"}); return err },
		func() error { _, err := s.Put(ctx, NewMemory{ID: deleted, Text: "gamma words"}); return err },
		func() error { _, err := s.Update(ctx, changed, Patch{Text: &beta}); return err },
		func() error { return s.Delete(ctx, deleted) },
		func() error { _, err := s.Put(ctx, NewMemory{Text: "delta words, indexed at the commit"}); return err },
	}
	// In this order: each waits until the one before it is queued.
	for i, req := range requests {
		wg.Go(func() { errs[i] = req() })
		if !poll.Until(ctx, 5*time.Second, func() bool { return len(s.reqs) == i+1 }) {
			t.Fatalf("request %d not queued", i)
		}
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	for q, want := range map[string]int{"alpha": 0, "beta": 1, "gamma": 0, "delta": 1, "words": 2, "replaced": 1} {
		p, err := s.List(ctx, Query{Q: q})
		if err != nil || len(p.Memories) != want {
			t.Fatalf("recall %q: %d memories (%v), want %d", q, len(p.Memories), err, want)
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
