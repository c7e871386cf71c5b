package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/memgen"
)

// BenchmarkPut measures durable writes (synchronous=FULL: each commit is
// fsynced) at 1 and 8 concurrent writers; writes/s is the figure the HTTP
// benchmark is compared with.
func BenchmarkPut(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			benchPuts(b, openTest(b, Options{}), writers)
		})
	}
}

// benchPuts makes b.N durable writes to s from writers goroutines and
// reports writes/s and writes/commit.
func benchPuts(b *testing.B, s *Store, writers int) {
	gen := memgen.New(1)
	texts := make([]string, b.N)
	for i := range texts {
		texts[i] = gen.Text()
	}
	var next sync.Mutex
	i := 0
	c0, w0 := s.commits.Load(), s.writes.Load()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for {
				next.Lock()
				if i >= b.N {
					next.Unlock()
					return
				}
				text := texts[i]
				i++
				next.Unlock()
				if _, err := s.Put(context.Background(), NewMemory{Text: text, Tags: []string{"bench"}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
	if cpu := processCPU(); cpu > 0 {
		// CPU time moves less than wall time on a shared machine.
		b.ReportMetric(float64((cpu-cpu0).Microseconds())/float64(b.N), "cpu-µs/write")
	}
	b.ReportMetric(float64(s.writes.Load()-w0)/float64(max(s.commits.Load()-c0, 1)), "writes/commit")
}

const recallRows = 100_000

// recallDB builds (once per run, cached in the temp dir) a store of
// recallRows generated memories and returns its path. CAIRN_BENCH_DIR names
// the directory instead, so runs (a profile of the writes, say) can reuse
// one store rather than build and measure it each time.
func recallDB(b *testing.B) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-store-bench-%d", os.Getpid()))
	if d := os.Getenv("CAIRN_BENCH_DIR"); d != "" {
		dir = d
	}
	path := filepath.Join(dir, "recall.db")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	os.MkdirAll(dir, 0o700)
	tmp := filepath.Join(dir, "building.db")
	os.Remove(tmp)
	s, err := Open(tmp, Options{})
	if err != nil {
		b.Fatal(err)
	}
	gen := memgen.New(7)
	var wg sync.WaitGroup
	ch := make(chan NewMemory, 256)
	for range 64 { // many writers: the writer batches them, so building takes seconds
		wg.Go(func() {
			for m := range ch {
				if _, err := s.Put(context.Background(), m); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range recallRows {
		text, tags, project := gen.Memory(i)
		ch <- NewMemory{Text: text, Tags: tags, Project: project}
	}
	close(ch)
	wg.Wait()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkRecall runs 1-5 word questions over recallRows memories, with
// and without a tag filter, reporting p50 and p99 latency and the bytes
// the store takes per memory.
func BenchmarkRecall(b *testing.B) {
	path := recallDB(b)
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// The common-term cache is filled by housekeeping at Open; wait for it.
	s.refreshCommon(context.Background())
	st, _ := s.Stats(context.Background())
	gen := memgen.New(99)
	for _, tc := range []struct {
		name string
		tags bool
	}{{"words", false}, {"words+tag", true}} {
		b.Run(tc.name, func(b *testing.B) {
			qs := make([]Query, 1000)
			for i := range qs {
				qs[i] = Query{Q: gen.Words(1 + gen.IntN(5)), Limit: 10}
				if tc.tags {
					qs[i].Tags = []string{memgen.Tags[i%len(memgen.Tags)]}
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if _, err := s.List(context.Background(), qs[i%len(qs)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(st.DBBytes+st.WALBytes)/float64(st.Count), "bytes/memory")
		})
	}
}

// BenchmarkPutFull is BenchmarkPut into a copy of the recallRows store: the
// issue's goal is measured with 100,000 memories, whose indexes and FTS5
// segments a write touches.
func BenchmarkPutFull(b *testing.B) {
	src := recallDB(b)
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			data, err := os.ReadFile(src)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "cairn.db")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// Housekeeping's first common-term scan (~200 ms of CPU) would
			// otherwise land in the measurement.
			for deadline := time.Now().Add(time.Minute); s.common.Load().rows == 0; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatal("the first common-term scan did not run")
				}
			}
			benchPuts(b, s, writers)
		})
	}
}
