package store

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A write with a key is a duplicate only of a memory with that key, so the
// key is kept and a later write with it replaces the stale fact; one
// without a key is a duplicate of any memory saying the same.
func TestDuplicateKeepsTheKey(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	plain := mustPut(t, s, NewMemory{Text: "cache ttl is 5 minutes", Project: "web"})
	keyed := mustPut(t, s, NewMemory{Text: "cache ttl is 5 minutes", Project: "web", Key: "cache-ttl"})
	if keyed.Status != StatusCreated || keyed.ID == plain.ID {
		t.Fatalf("the same text with a key: %+v, want a new memory beside %s", keyed, plain.ID)
	}
	if m, err := s.Get(ctx, keyed.ID); err != nil || m.Key != "cache-ttl" {
		t.Fatalf("keyed memory: %+v %v", m, err)
	}
	for _, m := range []NewMemory{
		{Text: "cache ttl is 5 minutes", Project: "web", Key: "cache-ttl"},
		{Text: "cache ttl is 5 minutes", Project: "web"},
	} {
		if r := mustPut(t, s, m); r.Status != StatusDuplicate {
			t.Errorf("%+v: %q, want duplicate", m, r.Status)
		}
	}
	if r := mustPut(t, s, NewMemory{Text: "cache ttl is 10 minutes", Project: "web", Key: "cache-ttl"}); r.Status != StatusReplaced {
		t.Fatalf("new text for the key: %q, want replaced", r.Status)
	}
	if m, _ := s.Get(ctx, keyed.ID); m.SupersededBy == "" {
		t.Fatalf("the keyed 5 minutes is still live: %+v", m)
	}
}

// A duplicate never makes a memory expire sooner: without an expiry it
// keeps the memory for good, with a later one it extends it, with an
// earlier one it changes nothing.
func TestDuplicateNeverExpiresSooner(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	in := func(d time.Duration) *time.Time { e := c.t.Add(d); return &e }
	expiry := func(id string) *time.Time {
		t.Helper()
		m, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m.ExpiresAt
	}
	temp := mustPut(t, s, NewMemory{Text: "temporary, then wanted", ExpiresAt: in(time.Hour)})
	if r := mustPut(t, s, NewMemory{Text: "temporary, then wanted"}); r.Status != StatusDuplicate || r.ID != temp.ID {
		t.Fatalf("re-put without expiry: %+v", r)
	}
	if e := expiry(temp.ID); e != nil {
		t.Fatalf("still expires at %v after a write without expiry", e)
	}
	perm := mustPut(t, s, NewMemory{Text: "permanent"})
	mustPut(t, s, NewMemory{Text: "permanent", ExpiresAt: in(2 * time.Second)})
	if e := expiry(perm.ID); e != nil {
		t.Fatalf("a permanent memory given an expiry by a duplicate: %v", e)
	}
	ext := mustPut(t, s, NewMemory{Text: "extended", ExpiresAt: in(time.Hour)})
	mustPut(t, s, NewMemory{Text: "extended", ExpiresAt: in(2 * time.Hour)})
	mustPut(t, s, NewMemory{Text: "extended", ExpiresAt: in(30 * time.Minute)})
	if e := expiry(ext.ID); e == nil || !e.Equal(*in(2 * time.Hour)) {
		t.Fatalf("expires at %v, want the later %v", e, in(2*time.Hour))
	}
}

// An import is by id alone: two memories that say the same (PATCH can
// make them so) both arrive.
func TestImportIsByIDAlone(t *testing.T) {
	s := openTest(t, Options{})
	a := mustPut(t, s, NewMemory{Text: "roundtrip alpha"})
	mustPut(t, s, NewMemory{Text: "roundtrip beta"})
	id := "01M8ZD30000000000000000001"
	r := mustPut(t, s, NewMemory{ID: id, Text: "roundtrip alpha", CreatedAt: a.CreatedAt})
	if r.Status != StatusCreated || r.ID != id {
		t.Fatalf("import of a memory that says what %s says: %+v, want created as %s", a.ID, r, id)
	}
	if s.Count() != 3 {
		t.Fatalf("count %d, want 3", s.Count())
	}
}

// Forgetting the newer memory of a key brings back the one it replaced;
// forgetting one in the middle of a chain hands its predecessor on; an
// expiry purge does the same, also for a memory and its successor purged
// together.
func TestGoneMemoriesStopSuperseding(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	// OnWrite's texts, in order (a memory live again is one). The hooks
	// run after the callers are answered, so the test waits for them.
	var mu sync.Mutex
	var written []string
	s := openTest(t, Options{Now: c.now, OnWrite: func(m Memory) { mu.Lock(); written = append(written, m.Text); mu.Unlock() }})
	announced := func(n int, last string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := slices.Clone(written)
			mu.Unlock()
			if len(got) == n && got[n-1] == last {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("OnWrite saw %q; want %d, the last %q", got, n, last)
			}
			time.Sleep(time.Millisecond)
		}
	}
	ctx := context.Background()
	supersededBy := func(id string) string {
		t.Helper()
		m, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m.SupersededBy
	}
	put := func(text, key string, expires *time.Time) string {
		c.t = c.t.Add(time.Millisecond)
		return mustPut(t, s, NewMemory{Text: text, Key: key, Project: "p", ExpiresAt: expires}).ID
	}

	monthly := put("rotation monthly", "rot", nil)
	weekly := put("rotation weekly", "rot", nil)
	if err := s.Delete(ctx, weekly); err != nil {
		t.Fatal(err)
	}
	if by := supersededBy(monthly); by != "" {
		t.Fatalf("after forgetting its successor, monthly is superseded by %s", by)
	}
	if p, _ := s.List(ctx, Query{Q: "rotation"}); len(p.Memories) != 1 || p.Memories[0].ID != monthly {
		t.Fatalf("recall after the forget: %+v", p.Memories)
	}
	announced(3, "rotation monthly") // the two writes, then monthly live again

	v1 := put("colour one", "colour", nil)
	v2 := put("colour two", "colour", nil)
	v3 := put("colour three", "colour", nil)
	if err := s.Delete(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if by := supersededBy(v1); by != v3 {
		t.Fatalf("v1 superseded by %q after v2 was forgotten, want v3 %s", by, v3)
	}

	soon := c.t.Add(time.Hour)
	base := put("port 80", "port", nil)
	put("port 8080", "port", &soon)
	put("port 8443", "port", &soon)
	c.t = soon
	if res := s.send(ctx, &request{kind: opPurge}); res.err != nil {
		t.Fatal(res.err)
	}
	if by := supersededBy(base); by != "" {
		t.Fatalf("after both successors expired, port 80 is superseded by %s", by)
	}
	announced(10, "port 80") // 3 rotations, 3 colours, 3 ports, then port 80 live again
	// monthly, colour three, port 80
	if st, _ := s.Stats(ctx); st.Count != 3 || s.Count() != 3 {
		t.Fatalf("count %d / cached %d, want 3", st.Count, s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// An edit never puts updated_at before created_at (a memory imported from
// a clock ahead of this one), which an import of the export would refuse.
func TestUpdateNeverBeforeCreated(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	future := c.t.Add(24 * time.Hour)
	r := mustPut(t, s, NewMemory{ID: "01M8ZD30000000000000000009", Text: "from a clock ahead", CreatedAt: future})
	m, err := s.Update(ctx, r.ID, Patch{AddTags: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.UpdatedAt.Before(m.CreatedAt) {
		t.Fatalf("updated_at %v before created_at %v", m.UpdatedAt, m.CreatedAt)
	}
}

// A -wal file with no store beside it is refused, not replayed into a new
// store: it holds the old store's last writes.
func TestOrphanWALRefused(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/cairn.db"
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, NewMemory{Text: "only in the wal"})
	wal, err := os.ReadFile(path + "-wal")
	if err != nil || len(wal) == 0 {
		t.Fatalf("no WAL to leave behind: %d bytes, %v", len(wal), err)
	}
	s.Close()
	os.Remove(path)
	if err := os.WriteFile(path+"-wal", wal, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(path); !errors.Is(err, ErrOrphanWAL) {
		t.Errorf("CheckHeader beside an orphan WAL: %v, want ErrOrphanWAL", err)
	}
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrOrphanWAL) || !strings.Contains(err.Error(), path+"-wal") {
		t.Fatalf("open beside an orphan WAL: %v, want ErrOrphanWAL naming it", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a store file was made: %v", err)
	}
}

// Imports older than the live memory of their key arrive superseded by
// it, several by the same one; forgetting it brings back the newest of
// them only, the others superseded by that one: a key keeps one live
// memory.
func TestForgetWithSeveralItReplaced(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC) }
	live := mustPut(t, s, NewMemory{ID: "01M8ZD30000000000000000031", Text: "value three", Key: "k", CreatedAt: at(3)})
	oldest := mustPut(t, s, NewMemory{ID: "01M8ZD30000000000000000032", Text: "value one", Key: "k", CreatedAt: at(1)})
	middle := mustPut(t, s, NewMemory{ID: "01M8ZD30000000000000000033", Text: "value two", Key: "k", CreatedAt: at(2)})
	if err := s.Delete(ctx, live.ID); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Get(ctx, middle.ID)
	o, _ := s.Get(ctx, oldest.ID)
	if m.SupersededBy != "" || o.SupersededBy != middle.ID {
		t.Fatalf("after forgetting the live one: two superseded by %q, one by %q; want two live, one superseded by two", m.SupersededBy, o.SupersededBy)
	}
	if s.Count() != 1 {
		t.Fatalf("count %d, want 1", s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// The chains a third review built: the live memory forgotten while its
// predecessor has expired (not yet purged), and a purge that takes two of
// a chain while an import older than the newest arrived superseded by it.
// Each key ends with one live memory, the right one.
func TestChainsAcrossExpiry(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	put := func(m NewMemory) string {
		c.t = c.t.Add(time.Millisecond)
		return mustPut(t, s, m).ID
	}
	live := func(key string) []string {
		t.Helper()
		p, err := s.List(ctx, Query{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range p.Memories {
			if m.Key == key {
				out = append(out, m.Text)
			}
		}
		return out
	}
	hour := c.t.Add(time.Hour)

	put(NewMemory{Text: "first value one", Key: "first"})
	put(NewMemory{Text: "first value two", Key: "first", ExpiresAt: &hour})
	three := put(NewMemory{Text: "first value three", Key: "first"})

	old := c.t
	put(NewMemory{Text: "second value a", Key: "second"})
	put(NewMemory{Text: "second value b", Key: "second", ExpiresAt: &hour})
	put(NewMemory{Text: "second value c", Key: "second", ExpiresAt: &hour})
	put(NewMemory{ID: "01M8ZD30000000000000000061", Text: "second value x", Key: "second", CreatedAt: old.Add(2 * time.Millisecond)})

	c.t = hour
	if err := s.Delete(ctx, three); err != nil {
		t.Fatal(err)
	}
	if got := live("first"); len(got) != 1 || got[0] != "first value one" {
		t.Fatalf("first, its live one forgotten while two had expired: %q, want one", got)
	}
	if res := s.send(ctx, &request{kind: opPurge}); res.err != nil {
		t.Fatal(res.err)
	}
	if got := live("first"); len(got) != 1 || got[0] != "first value one" {
		t.Fatalf("first after the purge: %q, want one", got)
	}
	if got := live("second"); len(got) != 1 || got[0] != "second value x" {
		t.Fatalf("second after b and c expired: %q, want x alone", got)
	}
	if s.Count() != 2 {
		t.Fatalf("count %d, want 2", s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A key whose live memory has expired (not yet purged) keeps it as its
// live one when another of its memories is forgotten: bringing an older
// one back beside it left the key with two for good (a review's case).
func TestForgetBesideAnExpiredLiveOne(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	put := func(text string, expires *time.Time) string {
		c.t = c.t.Add(time.Millisecond)
		return mustPut(t, s, NewMemory{Text: text, Key: "k", ExpiresAt: expires}).ID
	}
	hour := c.t.Add(time.Hour)
	a := put("value a", nil)
	put("value c", nil)
	put("value b", &hour)
	c.t = hour
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	put("value n", nil)
	if res := s.send(ctx, &request{kind: opPurge}); res.err != nil {
		t.Fatal(res.err)
	}
	p, err := s.List(ctx, Query{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(p.Memories); len(got) != 1 || got[0] != "value n" {
		t.Fatalf("live memories of k: %q, want value n alone", got)
	}
	if s.Count() != 1 {
		t.Fatalf("count %d, want 1", s.Count())
	}
}
