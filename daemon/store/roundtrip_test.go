package store

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cairnlabs/cairn/internal/memgen"
)

// randomText makes valid, NUL-free UTF-8 from every plane: ASCII, accents
// and combining marks, CJK, emoji, RTL, zero-width and private-use
// characters, lone surrogates excluded (Go cannot encode them), sizes from
// one byte to 64 KiB.
func randomText(rng *rand.Rand) string {
	pools := [][2]rune{{0x20, 0x7e}, {0x1, 0x1f}, {0xa0, 0x17f}, {0x300, 0x36f}, {0x590, 0x6ff},
		{0x4e00, 0x9fff}, {0x1f300, 0x1faff}, {0x200b, 0x200f}, {0xe000, 0xf8ff}, {0x10000, 0x10ffff}}
	size := 1 + rng.IntN(200)
	if rng.IntN(25) == 0 {
		size = 1 + rng.IntN(MaxTextBytes)
	}
	var b strings.Builder
	for b.Len() < size {
		p := pools[rng.IntN(len(pools))]
		r := p[0] + rune(rng.IntN(int(p[1]-p[0]+1)))
		if !utf8.ValidRune(r) || b.Len()+utf8.RuneLen(r) > size {
			if b.Len() == 0 {
				continue
			}
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestRoundTripProperty: random memories come back byte-identical from
// Get, and Export → Put(with ID) → Get into a second store is lossless;
// importing the export again is all "duplicate".
func TestRoundTripProperty(t *testing.T) {
	c := &clock{t: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	src := openTest(t, Options{Now: func() time.Time { return c.t }})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2024, 5))
	tagPool := []string{"a", "b.c", "d_e", "f-g", "0", strings.Repeat("z", 64)}
	ids := map[string]bool{}
	for range 200 {
		c.t = c.t.Add(time.Duration(rng.IntN(3)) * time.Millisecond)
		m := NewMemory{Text: randomText(rng), AllowSecret: true}
		for range rng.IntN(4) {
			m.Tags = append(m.Tags, tagPool[rng.IntN(len(tagPool))])
		}
		if rng.IntN(2) == 0 {
			m.Project = randomField(rng)
		}
		if rng.IntN(3) == 0 {
			m.Source = randomField(rng)
		}
		if rng.IntN(4) == 0 {
			m.Key = []string{"k1", "k2", "ключ"}[rng.IntN(3)] // repeats: supersession
		}
		if rng.IntN(5) == 0 {
			e := c.t.Add(24 * time.Hour)
			m.ExpiresAt = &e
		}
		r, err := src.Put(ctx, m)
		if err != nil {
			t.Fatalf("Put(%.30q): %v", m.Text, err)
		}
		if r.Status == StatusDuplicate {
			continue
		}
		ids[r.ID] = true
		got, err := src.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := normalizeTags(m.Tags)
		if got.Text != m.Text || got.Project != m.Project || got.Source != m.Source || got.Key != m.Key ||
			!reflect.DeepEqual(got.Tags, want) {
			t.Fatalf("round trip changed the memory:\n got %#v\nwant %#v", got, m)
		}
	}

	var exported []Memory
	if err := src.Export(ctx, func(m Memory) error { exported = append(exported, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(exported) != len(ids) {
		t.Fatalf("exported %d, stored %d", len(exported), len(ids))
	}
	dst, err := Open(filepath.Join(t.TempDir(), "import.db"), Options{Now: func() time.Time { return c.t }})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for pass, want := range []string{"", StatusDuplicate} {
		for _, m := range exported {
			r, err := dst.Put(ctx, NewMemory{ID: m.ID, Text: m.Text, Tags: m.Tags, Project: m.Project, Source: m.Source,
				Key: m.Key, ExpiresAt: m.ExpiresAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, AllowSecret: true})
			if err != nil {
				t.Fatalf("import %s: %v", m.ID, err)
			}
			if r.ID != m.ID || (want != "" && r.Status != want) || (want == "" && r.Status == StatusDuplicate) {
				t.Fatalf("import pass %d of %s: %+v", pass, m.ID, r)
			}
		}
	}
	for _, m := range exported {
		got, err := dst.Get(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("import is not lossless:\n got %+v\nwant %+v", got, m)
		}
	}
	if src.Count() != dst.Count() {
		t.Fatalf("live counts differ: %d vs %d", src.Count(), dst.Count())
	}
	if err := dst.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func randomField(rng *rand.Rand) string {
	s := []rune(randomText(rng))
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && !(r >= 0x7f && r < 0xa0) && !reordering(r) && len(string(out))+len(string(r)) <= MaxFieldBytes {
			out = append(out, r)
		}
	}
	return string(out)
}

// TestCheckpointBoundsWAL: once writes pass the threshold, a checkpoint
// runs (the writer's, between batches), copies everything and lets the
// WAL start over, and later writes reuse the file rather than truncate or
// grow it: over three checkpoints' worth of writes the file stays about
// one threshold large.
func TestCheckpointBoundsWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan [2]int64, 64)
	s.onCheckpoint = func(before, after int64) { done <- [2]int64{before, after} } // before the first write
	gen := memgen.New(11)
	ctx := context.Background()
	deadline := time.After(60 * time.Second)
	var peak int64
	for checkpoints := 0; checkpoints < 3; {
		if _, err := s.Put(ctx, NewMemory{Text: gen.Text()}); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, fileSize(path+"-wal"))
		select {
		case ck := <-done:
			checkpoints++
			t.Logf("checkpoint: %d bytes of WAL in use → %d; file %d bytes", ck[0], ck[1], fileSize(path+"-wal"))
			if ck[0] < walThreshold || ck[1] != 0 {
				t.Fatalf("checkpoint with %d bytes in use left %d; want one past %d that leaves none", ck[0], ck[1], walThreshold)
			}
			// Kept for the next commits to overwrite, not truncated.
			if size := fileSize(path + "-wal"); size < walThreshold {
				t.Fatalf("after a checkpoint under load the WAL file is %d bytes; want it kept (≥ %d)", size, walThreshold)
			}
		case <-deadline:
			t.Fatalf("%d checkpoints in 60 s; WAL is %d bytes", checkpoints, fileSize(path+"-wal"))
		default:
		}
	}
	// One write of a batch of one past the threshold, plus its frames.
	if limit := int64(walThreshold + 1<<20); peak > limit {
		t.Fatalf("the WAL file reached %d bytes over three checkpoints; a reused WAL stays under %d", peak, limit)
	}
}
