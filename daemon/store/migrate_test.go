package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrateV1 makes a database with migration 1 alone (no search index),
// fills it, and opens it with this binary: migration 2 must index what is
// already there.
func TestMigrateV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	v1, err := open(context.Background(), path, Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := mustPut(t, v1, NewMemory{Text: "written by version one", Tags: []string{"old"}})
	mustPut(t, v1, NewMemory{Text: "another early memory"})
	if err := v1.Close(); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, path); v != 1 {
		t.Fatalf("v1 database has user_version %d", v)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := userVersion(t, path); v != SchemaVersion {
		t.Fatalf("after Open: user_version %d, want %d", v, SchemaVersion)
	}
	p, err := s.List(ctx, Query{Q: "version"})
	if err != nil || len(p.Memories) != 1 || p.Memories[0].ID != a.ID {
		t.Fatalf("recall over migrated rows: %+v %v", p.Memories, err)
	}
	if s.Count() != 2 {
		t.Fatalf("count %d", s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// New writes after the migration are indexed by the triggers.
	mustPut(t, s, NewMemory{Text: "fresh after migration"})
	if p, _ := s.List(ctx, Query{Q: "fresh"}); len(p.Memories) != 1 {
		t.Fatal("new memory not indexed")
	}
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, NewMemory{Text: "from the future"})
	s.Close()
	db, _ := sql.Open("sqlite", path)
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := CheckHeader(path); !errors.Is(err, ErrTooNew) {
		t.Fatalf("CheckHeader of a newer database: %v, want ErrTooNew", err)
	}
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrTooNew) || !strings.Contains(err.Error(), "upgrade Cairn") {
		t.Fatalf("Open of a newer database: %v, want ErrTooNew", err)
	}
	if v := userVersion(t, path); v != 99 {
		t.Fatalf("the newer database was changed to version %d", v)
	}
}

// TestCheckHeader: the header check passes a missing, empty or current
// store and refuses what is not a database.
func TestCheckHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cairn.db")
	if err := CheckHeader(path); err != nil {
		t.Fatalf("missing store: %v", err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(path); err != nil {
		t.Fatalf("empty store: %v", err)
	}
	os.Remove(path)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := CheckHeader(path); err != nil {
		t.Fatalf("current store: %v", err)
	}
	for name, data := range map[string]string{
		"short":   "SQLite format 3",
		"garbage": strings.Repeat("not a database ", 10),
	} {
		p := filepath.Join(dir, name+".db")
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := CheckHeader(p); err == nil || errors.Is(err, ErrTooNew) {
			t.Fatalf("%s file: %v, want refused as not a database", name, err)
		}
	}
}

// TestCheckHeaderCutShort: a store file shorter than its header says is
// refused as cut short, unless the WAL holds frames (a checkpoint that
// stopped half way, which SQLite completes from the WAL); a store that
// only grew is fine.
func TestCheckHeaderCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		mustPut(t, s, NewMemory{Text: fmt.Sprintf("memory %d about the staging rotation", i)})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(path); err != nil {
		t.Fatalf("a whole store: %v", err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	err = CheckHeader(path)
	if !errors.Is(err, ErrCutShort) || !strings.Contains(err.Error(), fmt.Sprint(fi.Size()/2)) {
		t.Fatalf("a store cut to half: %v, want ErrCutShort naming its size", err)
	}
	if err := os.WriteFile(path+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(path); err != nil {
		t.Fatalf("cut short with frames in the WAL: %v, want it left to Open", err)
	}
}

func TestRefusesOddFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.db")
	os.WriteFile(target, nil, 0o600)

	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.db")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	walLink := filepath.Join(dir, "wal.db")
	if err := os.Symlink(target, walLink+"-wal"); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.db")
	if err := os.Symlink(filepath.Join(dir, "nothing"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, fifo, walLink, dangling} {
		s, err := Open(p, Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", filepath.Base(p))
			continue
		}
		if !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Open(%s): %v, want 'not a regular file'", filepath.Base(p), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a dangling symlink's target was created")
	}
}

func TestCreatedPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s := openAt(t, path)
	mustPut(t, s, NewMemory{Text: "x"})
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestOpenCountFromMeta: Open takes the live count and the last write
// from the meta row the triggers keep, not from a scan; after creates,
// supersessions, an update, deletes and an import they must equal a scan.
func TestOpenCountFromMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := Open(path, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []string
	for i := range 20 {
		c.t = c.t.Add(time.Millisecond)
		m := NewMemory{Text: fmt.Sprintf("note %d", i)}
		if i%3 == 0 {
			m.Key = "k" // supersedes the previous one with this key
		}
		ids = append(ids, mustPut(t, s, m).ID)
	}
	text := "changed"
	if _, err := s.Update(ctx, ids[1], Patch{Text: &text}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids[2], ids[3], ids[0]} { // live, live, superseded
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mustPut(t, s, NewMemory{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Text: "imported", CreatedAt: old, UpdatedAt: old})
	want := s.Count()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var scan, last, inOrder int64
	if err := db.QueryRow("SELECT count(*) FILTER (WHERE superseded_by IS NULL), max(updated_at) FROM memories").Scan(&scan, &last); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT in_order FROM meta").Scan(&inOrder); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if inOrder != 0 {
		t.Error("an import older than the newest memory left meta.in_order set")
	}
	s, err = Open(path, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Count() != scan || s.Count() != want {
		t.Fatalf("Count() %d after reopen; a scan counts %d, before closing %d", s.Count(), scan, want)
	}
	if got := s.lastWrite.Load(); got != last {
		t.Fatalf("last write %d after reopen, a scan finds %d", got, last)
	}
}

// TestOpenCanceled: an open given up on says so, and leaves the file for
// the next Open to create or migrate.
func TestOpenCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenContext(ctx, path, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenContext with a canceled context: %v, want context.Canceled", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after a canceled open: %v", err)
	}
	defer s.Close()
	mustPut(t, s, NewMemory{Text: "after a canceled open"})
	if v := userVersion(t, path); v != SchemaVersion {
		t.Fatalf("user_version %d, want %d", v, SchemaVersion)
	}
}

// TestMigrateV3: a store whose index was kept by an insert trigger goes on
// finding what it held, and what is written after the upgrade, with the
// writer indexing instead (once, not twice: Check compares the index with
// the memories).
func TestMigrateV3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	v3, err := open(context.Background(), path, Options{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, v3, NewMemory{Text: "indexed by the trigger"})
	if err := v3.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, NewMemory{Text: "indexed by the writer"})
	ctx := context.Background()
	for q, want := range map[string]int{"trigger": 1, "writer": 1, "indexed": 2} {
		if p, err := s.List(ctx, Query{Q: q}); err != nil || len(p.Memories) != want {
			t.Fatalf("recall %q: %d memories (%v), want %d", q, len(p.Memories), err, want)
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
