package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A ranked page's cursor goes on among the memories there were when the
// first page was asked for: a match written between pages does not push
// what one page showed onto the next.
func TestRankedCursorIgnoresLaterWrites(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		mustPut(t, s, NewMemory{Text: fmt.Sprintf("zeta item %d", i)})
	}
	first, err := s.List(ctx, Query{Q: "zeta", Limit: 2})
	if err != nil || len(first.Memories) != 2 || first.NextCursor == "" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	mustPut(t, s, NewMemory{Text: "zeta item 4"})
	next, err := s.List(ctx, Query{Q: "zeta", Limit: 2, Cursor: first.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range append(first.Memories, next.Memories...) {
		if seen[m.ID] {
			t.Fatalf("%q on two pages: %v then %v", m.Text, texts(first.Memories), texts(next.Memories))
		}
		seen[m.ID] = true
	}
	if len(seen) != 3 || next.NextCursor != "" {
		t.Fatalf("pages %v then %v (more: %v), want items 1-3 once each", texts(first.Memories), texts(next.Memories), next.NextCursor != "")
	}
	// A new question sees the new memory.
	if p, _ := s.List(ctx, Query{Q: "zeta", Limit: 10}); len(p.Memories) != 4 {
		t.Fatalf("a fresh recall finds %d, want 4", len(p.Memories))
	}
}

// A cursor keeps working when the common-term cutoff changes between its
// pages (it moves as memories are written): it is tied to the question,
// not to the MATCH expression made of it.
func TestCursorSurvivesCommonTermChange(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := range 6 {
		mustPut(t, s, NewMemory{Text: fmt.Sprintf("alpha bravo %d", i)})
	}
	q := Query{Q: "alpha bravo", Limit: 2}
	first, err := s.List(ctx, q)
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	s.common.Store(&commonTerms{docs: map[string]int64{"alpha": 6}, rows: 6})
	q.Cursor = first.NextCursor
	if _, err := s.List(ctx, q); err != nil {
		t.Fatalf("the next page after the cutoff changed: %v", err)
	}
}

// max_bytes: a page always holds one memory when any match, and says
// truncated when that one alone is longer than the bound.
func TestMaxBytesFlagsAnOversizeMemory(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	mustPut(t, s, NewMemory{Text: "aaaa " + strings.Repeat("x", 100)})
	for _, q := range []Query{{Q: "aaaa", MaxBytes: 10}, {MaxBytes: 10}} {
		p, err := s.List(ctx, q)
		if err != nil || len(p.Memories) != 1 || !p.Truncated {
			t.Errorf("List(%+v): %d memories, truncated %v, %v; want 1, true", q, len(p.Memories), p.Truncated, err)
		}
	}
	if p, _ := s.List(ctx, Query{Q: "aaaa", MaxBytes: 1000}); p.Truncated {
		t.Error("truncated under a bound it fits")
	}
}

func texts(ms []Memory) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}
