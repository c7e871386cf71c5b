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
