package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWritersAndReaders: 8 writers and 8 readers for 3 s. Every
// acknowledged id is there at the end, the counts add up, and the writer
// batched (fewer commits than writes).
func TestConcurrentWritersAndReaders(t *testing.T) {
	s := openTest(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				r, err := s.Put(context.Background(), NewMemory{
					Text: fmt.Sprintf("writer %d note %d about deploys", w, i),
					Tags: []string{fmt.Sprintf("w%d", w)},
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked[r.ID] = true
				mu.Unlock()
			}
		})
	}
	for r := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for ctx.Err() == nil {
				q := Query{Q: "deploys note", Limit: 10}
				if rng.IntN(2) == 0 {
					q = Query{Tags: []string{fmt.Sprintf("w%d", rng.IntN(8))}, Limit: 10}
				}
				if _, err := s.List(context.Background(), q); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Count != int64(len(acked)) || s.Count() != st.Count {
		t.Fatalf("%d acknowledged, Stats counts %d, Count() %d", len(acked), st.Count, s.Count())
	}
	for id := range acked {
		if _, err := s.Get(context.Background(), id); err != nil {
			t.Fatalf("acknowledged %s: %v", id, err)
		}
	}
	t.Logf("%d writes in %d commits (%.1f per commit)", st.Writes, st.Commits, float64(st.Writes)/float64(st.Commits))
	if st.Commits >= st.Writes {
		t.Fatalf("%d commits for %d writes: no batching", st.Commits, st.Writes)
	}
	// Check runs on pooled readers that served the queries above: a stale
	// view in one of them fails here (it did with mmap).
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The durability test re-runs this test binary as a child that writes and
// prints each acknowledged id; the parent kills it with SIGKILL mid-stream
// and reopens the store.
const childEnv = "CAIRN_STORE_TEST_CHILD_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		childWriter(path)
		return
	}
	os.Exit(m.Run())
}

func childWriter(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				r, err := s.Put(context.Background(), NewMemory{Text: fmt.Sprintf("child %d memory %d", w, i)})
				if err != nil {
					fmt.Println("put:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Println(r.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestDurableAfterSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	var printed []string
	for sc.Scan() {
		line := sc.Text()
		if len(line) != 26 {
			t.Fatalf("child: %s", line)
		}
		printed = append(printed, line)
		if len(printed) == 2000 {
			// Killed while its writers are mid-batch: nothing is closed.
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			break
		}
	}
	// Lines already in the pipe were printed after their ack too.
	for sc.Scan() {
		if line := sc.Text(); len(line) == 26 {
			printed = append(printed, line)
		}
	}
	cmd.Wait()
	if len(printed) < 2000 {
		t.Fatalf("child printed only %d ids", len(printed))
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range printed {
		if _, err := s.Get(context.Background(), id); err != nil {
			t.Fatalf("acknowledged %s lost after SIGKILL: %v", id, err)
		}
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged ids all present; %d memories stored", len(printed), s.Count())
}

// TestReadersSeeEveryCommit: a pooled reader caches FTS5's segment
// structure between queries; each query must still see the index as the
// last commit left it (FTS5 re-reads the structure when a query's cursor
// opens and data_version moved), across the segment merges that many
// small commits cause. Only PRAGMA integrity_check skips that re-read,
// which is why Check uses a fresh connection (docs/ARCHITECTURE.md).
func TestReadersSeeEveryCommit(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := range 64 { // 64 commits: FTS5 merges its segments every few
		r := mustPut(t, s, NewMemory{Text: fmt.Sprintf("fresh%d marker", i)})
		for _, q := range []string{fmt.Sprintf("fresh%d", i), "marker"} {
			p, err := s.List(ctx, Query{Q: q, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Memories) != 1 || p.Memories[0].ID != r.ID {
				t.Fatalf("after write %d, %q found %+v, want the memory just written", i, q, p.Memories)
			}
		}
	}
}
