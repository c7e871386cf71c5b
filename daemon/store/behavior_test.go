package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDuplicate(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	a := mustPut(t, s, NewMemory{Text: "same", Tags: []string{"b", "a"}, Project: "p"})
	cases := []struct {
		m    NewMemory
		want string
	}{
		{NewMemory{Text: "same", Tags: []string{"a", "B", "a"}, Project: "p", Source: "other"}, StatusDuplicate},
		{NewMemory{Text: "same", Tags: []string{"a"}, Project: "p"}, StatusCreated},
		{NewMemory{Text: "same", Tags: []string{"a", "b"}, Project: "q"}, StatusCreated},
		{NewMemory{Text: "same ", Tags: []string{"a", "b"}, Project: "p"}, StatusCreated},
	}
	for _, c := range cases {
		r := mustPut(t, s, c.m)
		if r.Status != c.want {
			t.Errorf("%+v: status %q, want %q", c.m, r.Status, c.want)
		}
		if c.want == StatusDuplicate && (r.ID != a.ID || !r.CreatedAt.Equal(a.CreatedAt)) {
			t.Errorf("duplicate answered %+v, want the first memory %+v", r, a)
		}
	}
	if st, _ := s.Stats(ctx); st.Count != 4 || s.Count() != 4 {
		t.Fatalf("count %d / cached %d, want 4", st.Count, s.Count())
	}
}

func TestSupersedeByKey(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	old := mustPut(t, s, NewMemory{Text: "editor is vim", Key: "editor", Project: "me"})
	other := mustPut(t, s, NewMemory{Text: "editor is ed", Key: "editor", Project: "elsewhere"})
	nw := mustPut(t, s, NewMemory{Text: "editor is helix", Key: "editor", Project: "me"})
	if nw.Status != StatusReplaced || other.Status != StatusCreated {
		t.Fatalf("statuses %q %q", nw.Status, other.Status)
	}
	got, err := s.Get(ctx, old.ID)
	if err != nil || got.SupersededBy != nw.ID {
		t.Fatalf("old memory: %+v %v; want superseded by %s", got, err, nw.ID)
	}
	p, _ := s.List(ctx, Query{Q: "editor"})
	if len(p.Memories) != 2 {
		t.Fatalf("List shows %d, want the new one and the other project's", len(p.Memories))
	}
	for _, m := range p.Memories {
		if m.ID == old.ID {
			t.Fatal("superseded memory listed")
		}
	}
	p, _ = s.List(ctx, Query{Project: "me", IncludeSuperseded: true})
	if len(p.Memories) != 2 {
		t.Fatalf("IncludeSuperseded shows %d, want 2", len(p.Memories))
	}
	if s.Count() != 2 {
		t.Fatalf("count %d, want 2 live", s.Count())
	}
	// The replaced text can come back: the old one is superseded, not live.
	if r := mustPut(t, s, NewMemory{Text: "editor is vim", Key: "editor", Project: "me"}); r.Status != StatusReplaced {
		t.Fatalf("re-put of the superseded text: %q", r.Status)
	}
}

func TestExpiry(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	exp := c.t.Add(time.Hour)
	r := mustPut(t, s, NewMemory{Text: "temporary note", ExpiresAt: &exp})
	keep := mustPut(t, s, NewMemory{Text: "permanent note"})
	if m, err := s.Get(ctx, r.ID); err != nil || m.ExpiresAt == nil || !m.ExpiresAt.Equal(exp) {
		t.Fatalf("before expiry: %+v %v", m, err)
	}
	c.t = exp
	if _, err := s.Get(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired Get: %v", err)
	}
	for _, q := range []Query{{}, {Q: "note"}} {
		p, _ := s.List(ctx, q)
		if len(p.Memories) != 1 || p.Memories[0].ID != keep.ID {
			t.Fatalf("List(%+v) after expiry: %+v", q, p.Memories)
		}
	}
	// An expired memory is no duplicate: the same text is stored anew.
	if r2 := mustPut(t, s, NewMemory{Text: "temporary note"}); r2.Status != StatusCreated {
		t.Fatalf("re-put after expiry: %q", r2.Status)
	}
	// Housekeeping's purge, run directly: the row is gone for good.
	if res := s.send(ctx, &request{kind: opPurge}); res.err != nil {
		t.Fatal(res.err)
	}
	var n int
	s.rdb.QueryRow("SELECT count(*) FROM memories WHERE id = ?", r.ID).Scan(&n)
	if n != 0 || s.Count() != 2 {
		t.Fatalf("after purge: row count %d, cached count %d", n, s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestUpdate(t *testing.T) {
	var written []Memory
	s := openTest(t, Options{OnWrite: func(m Memory) { written = append(written, m) }})
	ctx := context.Background()
	r := mustPut(t, s, NewMemory{Text: "first words", Tags: []string{"a", "b"}})
	text := "second thoughts"
	m, err := s.Update(ctx, r.ID, Patch{Text: &text, AddTags: []string{"C"}, RemoveTags: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != text || strings.Join(m.Tags, ",") != "b,c" {
		t.Fatalf("updated: %+v", m)
	}
	if p, _ := s.List(ctx, Query{Q: "first"}); len(p.Memories) != 0 {
		t.Fatal("old text still indexed")
	}
	if p, _ := s.List(ctx, Query{Q: "thoughts", Tags: []string{"c"}}); len(p.Memories) != 1 {
		t.Fatal("new text or tag not found")
	}
	if _, err := s.Update(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", Patch{Text: &text}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing id: %v", err)
	}
	if len(written) != 2 || written[1].Text != text {
		t.Fatalf("OnWrite saw %d writes: %+v", len(written), written)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCursorStableWhileWriting(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: func() time.Time { return c.t }})
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 95 {
		// Several memories per millisecond, so the cursor's seq tiebreak matters.
		if i%3 == 0 {
			c.t = c.t.Add(time.Millisecond)
		}
		want[mustPut(t, s, NewMemory{Text: fmt.Sprintf("memory %d", i), Tags: []string{"page"}}).ID] = true
	}
	seen := map[string]bool{}
	q := Query{Limit: 10, Tags: []string{"page"}}
	for pages := 0; ; pages++ {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Memories {
			if seen[m.ID] {
				t.Fatalf("%s on two pages", m.ID)
			}
			seen[m.ID] = true
		}
		// New memories arrive between pages; they are newer than the
		// cursor, so they must not shift what the next page holds.
		c.t = c.t.Add(time.Millisecond)
		mustPut(t, s, NewMemory{Text: fmt.Sprintf("newcomer %d", pages), Tags: []string{"page"}})
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	for id := range want {
		if !seen[id] {
			t.Fatalf("%s never listed", id)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d, want %d", len(seen), len(want))
	}
}

func TestRankedCursorAndRefusedCursors(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := range 25 {
		mustPut(t, s, NewMemory{Text: fmt.Sprintf("kubernetes note %d %s", i, strings.Repeat("pod ", i%5))})
	}
	seen := map[string]bool{}
	q := Query{Q: "kubernetes pod", Limit: 7}
	var last float64 = 1e18
	for {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Memories {
			if seen[m.ID] || m.Score > last {
				t.Fatalf("%s repeated or out of order (score %v after %v)", m.ID, m.Score, last)
			}
			seen[m.ID], last = true, m.Score
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d of 25", len(seen))
	}
	first, _ := s.List(ctx, Query{Q: "kubernetes", Limit: 5})
	bad := []Query{
		{Q: "pod", Cursor: first.NextCursor},                             // another query's
		{Cursor: first.NextCursor},                                       // ranked cursor on newest-first
		{Q: "kubernetes", Tags: []string{"x"}, Cursor: first.NextCursor}, // same words, other filter
		{Cursor: "!!!"},
		{Cursor: "bm90IGpzb24"},
	}
	for _, q := range bad {
		_, err := s.List(ctx, q)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "cursor" {
			t.Errorf("List(%+v): %v, want a cursor ValidationError", q, err)
		}
	}
	for _, l := range []int{-1, 201} {
		if _, err := s.List(ctx, Query{Limit: l}); err == nil {
			t.Errorf("limit %d accepted", l)
		}
	}
}

func TestMaxBytes(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := range 5 {
		mustPut(t, s, NewMemory{Text: fmt.Sprintf("%d%s", i, strings.Repeat("x", 99))}) // 100 bytes each
	}
	p, _ := s.List(ctx, Query{MaxBytes: 250})
	if len(p.Memories) != 2 || !p.Truncated || p.NextCursor == "" {
		t.Fatalf("MaxBytes 250: %d memories, truncated %v, cursor %q", len(p.Memories), p.Truncated, p.NextCursor)
	}
	p, _ = s.List(ctx, Query{MaxBytes: 10})
	if len(p.Memories) != 1 || !p.Truncated {
		t.Fatalf("MaxBytes below one memory: %d memories, truncated %v; want one", len(p.Memories), p.Truncated)
	}
	p, _ = s.List(ctx, Query{MaxBytes: 500})
	if len(p.Memories) != 5 || p.Truncated || p.NextCursor != "" {
		t.Fatalf("MaxBytes that fits all: %d, truncated %v", len(p.Memories), p.Truncated)
	}
	p, _ = s.List(ctx, Query{Limit: 2})
	if len(p.Memories) != 2 || p.Truncated || p.NextCursor == "" {
		t.Fatalf("Limit 2: %d, truncated %v, cursor %q", len(p.Memories), p.Truncated, p.NextCursor)
	}
}

func TestFilters(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: func() time.Time { return c.t }})
	ctx := context.Background()
	t0 := c.t
	mustPut(t, s, NewMemory{Text: "alpha one", Tags: []string{"x", "y"}, Project: "p"})
	c.t = c.t.Add(time.Hour)
	mustPut(t, s, NewMemory{Text: "alpha two", Tags: []string{"x"}, Project: "p"})
	c.t = c.t.Add(time.Hour)
	mustPut(t, s, NewMemory{Text: "alpha three", Tags: []string{"y"}, Project: "q"})
	cases := []struct {
		q    Query
		want string
	}{
		{Query{Tags: []string{"x", "y"}}, "alpha one"},
		{Query{Q: "alpha", Tags: []string{"X"}}, "alpha two,alpha one"},
		{Query{Project: "q"}, "alpha three"},
		{Query{Q: "alpha", Since: t0.Add(time.Hour)}, "alpha three,alpha two"},
		{Query{Until: t0.Add(time.Hour)}, "alpha one"},
		{Query{Q: "the of and"}, "alpha three,alpha two,alpha one"}, // only stop words: newest first
	}
	for _, tc := range cases {
		p, err := s.List(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range p.Memories {
			got = append(got, m.Text)
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("List(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
	tags, _ := s.Tags(ctx)
	if fmt.Sprint(tags) != "[{x 2} {y 2}]" {
		t.Errorf("Tags() = %v", tags)
	}
}
