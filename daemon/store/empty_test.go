package store

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "write empty.db again from the migrations")

// schemaOf is what makes two stores the same store: the schema version,
// every table, index, trigger and virtual table as SQL, and FTS5's own
// configuration rows.
func schemaOf(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "user_version %d\n", v)
	for _, q := range []string{
		"SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name",
		"SELECT 'config', k, v, '' FROM memories_fts_config ORDER BY k",
		"SELECT 'meta', live, last_write, max_created || ' ' || in_order FROM meta",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b2, c, d string
			if err := rows.Scan(&a, &b2, &c, &d); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %s %s\n", a, b2, c, d)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestEmptyStoreIsTheMigrations: a new store is a copy of empty.db; it must
// be exactly what the migrations make of an empty file, so a store created
// either way is the same store.
func TestEmptyStoreIsTheMigrations(t *testing.T) {
	dir := t.TempDir()
	migrated := filepath.Join(dir, "migrated.db")
	saved := emptyStore
	emptyStore = nil // the migrations, as before the template
	s, err := Open(migrated, Options{})
	emptyStore = saved
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if *update {
		data, err := os.ReadFile(migrated)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("empty.db", data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote empty.db (%d bytes) at schema version %d", len(data), SchemaVersion)
		return
	}

	copied := filepath.Join(dir, "copied.db")
	s, err = Open(copied, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustPut(t, s, NewMemory{Text: "the first memory in a copied store", Tags: []string{"x"}})
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := s.List(ctx, Query{Q: "copied", Tags: []string{"x"}}); err != nil || len(p.Memories) != 1 {
		t.Fatalf("recall in a copied store: %+v, %v", p.Memories, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The schema of a fresh copy, not of one with a memory in it.
	fresh := filepath.Join(dir, "fresh.db")
	if err := os.WriteFile(fresh, emptyStore, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := schemaOf(t, fresh), schemaOf(t, migrated); got != want {
		t.Fatalf("empty.db is not what the migrations make; run\n\tgo test ./daemon/store -run TestEmptyStoreIsTheMigrations -update\nempty.db:\n%s\nmigrations:\n%s", got, want)
	}
	if fi, err := os.Stat(copied); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("a copied store's mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if !bytes.HasPrefix(emptyStore, []byte("SQLite format 3\x00")) {
		t.Fatal("empty.db is not a SQLite database")
	}
}
