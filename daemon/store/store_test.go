package store

import (
	"context"
	"errors"
	"testing"
)

func TestPutGetList(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	r := mustPut(t, s, NewMemory{Text: "deploy prod-east with node.js", Tags: []string{"Ops", "ops", "deploy"}, Project: "cairn"})
	if r.Status != StatusCreated {
		t.Fatalf("status %q", r.Status)
	}
	m, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "deploy prod-east with node.js" || len(m.Tags) != 2 || m.Tags[0] != "deploy" || m.Tags[1] != "ops" {
		t.Fatalf("got %+v", m)
	}
	p, err := s.List(ctx, Query{Q: "prod-east"})
	if err != nil || len(p.Memories) != 1 || p.Memories[0].Score <= 0 {
		t.Fatalf("List: %+v %v", p, err)
	}
	if s.Count() != 1 {
		t.Fatalf("count %d", s.Count())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// Every reader keeps a 1 MiB page cache, not SQLite's 2 MB: the readers'
// caches are most of what the daemon's RSS grows by (the 40 MiB goal).
func TestReadersKeepASmallCache(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	conns := make([]interface{ Close() error }, 0, readers)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range readers { // hold each so the pool opens them all
		c, err := s.rdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var kib int
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib); err != nil {
			t.Fatal(err)
		}
		if kib != -1024 {
			t.Errorf("reader cache_size %d, want -1024 (1 MiB)", kib)
		}
	}
}
