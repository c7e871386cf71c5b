package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkPut measures durable writes (synchronous=FULL: each commit is
// fsynced) at 1 and 8 concurrent writers; writes/s is the figure the HTTP
// benchmark is compared with.
func BenchmarkPut(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openTest(b, Options{})
			gen := newTextGen(1)
			texts := make([]string, b.N)
			for i := range texts {
				texts[i] = gen.text()
			}
			var next sync.Mutex
			i := 0
			b.ResetTimer()
			start := time.Now()
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
			st, _ := s.Stats(context.Background())
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
			b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "writes/commit")
		})
	}
}

// textGen makes deterministic pseudo-English: words drawn from a list with
// a Zipf-like skew (as in real text a few words are everywhere and most are
// rare), sentences of 8-40 words, plus some identifiers.
type textGen struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

var baseWords = strings.Fields(`the a to of and in is for on that with it this be as are was by at or from
	deploy server database config build test release branch merge review issue bug fix error log cache
	query index memory store user account token session login password auth api endpoint request response
	timeout retry backoff queue worker job schedule cron backup restore migrate schema table column row
	docker kubernetes pod node cluster region prod staging dev east west north south latency throughput
	metric alert dashboard grafana prometheus nginx proxy dns certificate tls ssh key ci pipeline github
	gitlab pull commit tag version semver changelog dependency package module library framework rust go
	python javascript typescript react vue svelte css html sql postgres sqlite redis kafka rabbitmq s3
	bucket lambda function handler middleware router controller model view template component hook state
	prefers likes uses wants needs decided agreed remember always never usually meeting monday tuesday
	friday week month quarter team manager customer ticket priority urgent blocked done todo later idea
	note reminder project plan roadmap milestone deadline estimate budget cost invoice contract legal`)

func newTextGen(seed uint64) *textGen {
	rng := rand.New(rand.NewPCG(seed, 42))
	vocab := slices.Clone(baseWords)
	// A long tail of rarer made-up words, as names and jargon are.
	syll := strings.Fields("ka lo mi nu ra te zo vi pe su an el or ix ub")
	for range 20000 {
		n := 2 + rng.IntN(3)
		var w strings.Builder
		for range n {
			w.WriteString(syll[rng.IntN(len(syll))])
		}
		vocab = append(vocab, w.String())
	}
	return &textGen{rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1)), vocab: vocab}
}

func (g *textGen) word() string { return g.vocab[g.zipf.Uint64()] }

func (g *textGen) text() string {
	n := 8 + g.rng.IntN(33)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.word()
	}
	if g.rng.IntN(4) == 0 {
		ws = append(ws, fmt.Sprintf("v%d.%d.%d", g.rng.IntN(5), g.rng.IntN(20), g.rng.IntN(10)))
	}
	return strings.Join(ws, " ") + "."
}

const recallRows = 100_000

var benchTags = []string{"work", "home", "ops", "idea", "todo", "infra", "people", "docs"}

// recallDB builds (once per run, cached in the temp dir) a store of
// recallRows generated memories and returns its path.
func recallDB(b *testing.B) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-store-bench-%d", os.Getpid()))
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
	gen := newTextGen(7)
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
		tags := []string{benchTags[i%len(benchTags)]}
		if i%3 == 0 {
			tags = append(tags, benchTags[(i/3)%len(benchTags)])
		}
		ch <- NewMemory{Text: gen.text(), Tags: tags, Project: fmt.Sprintf("p%d", i%5)}
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
	gen := newTextGen(99)
	for _, tc := range []struct {
		name string
		tags bool
	}{{"words", false}, {"words+tag", true}} {
		b.Run(tc.name, func(b *testing.B) {
			qs := make([]Query, 1000)
			for i := range qs {
				n := 1 + gen.rng.IntN(5)
				ws := make([]string, n)
				for j := range ws {
					ws[j] = gen.word()
				}
				qs[i] = Query{Q: strings.Join(ws, " "), Limit: 10}
				if tc.tags {
					qs[i].Tags = []string{benchTags[i%len(benchTags)]}
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
