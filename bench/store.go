package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/store"
	"github.com/cairnlabs/cairn/internal/memgen"
)

// The store section's goals (the numbers).
const (
	goalWrites1      = 1500 // durable writes/s, one client
	goalWrites8      = 5000 // durable writes/s, eight clients
	goalScale        = 2.3  // writes/s at 8 over at 1
	goalRecallP50    = 4 * time.Millisecond
	goalRecallP99    = 12 * time.Millisecond
	goalTagP99       = 20 * time.Millisecond
	goalSlowestClass = 50 * time.Millisecond
	goalBytesPerMem  = 550
	goalDaemonRSS    = 40 // MiB, under the 8-client write load
	goalWALPeak      = 32 // MiB, during the same load

	// writeFor is how long each write row runs per column: long enough for
	// several common-term refreshes and WAL checkpoints, the periodic costs
	// a short burst would miss. It is split into writeRounds that alternate
	// between the columns.
	writeFor    = 5 * time.Second
	writeRounds = 5
	// perClass is the number of timed questions in each recall class.
	perClass = 200
	// sampleEvery is how often RSS and the WAL's size are read during a
	// write load; the WAL is checkpointed at 4 MiB, so a coarser look
	// could miss its peak.
	sampleEvery = 10 * time.Millisecond

	corpusSeed   = 7  // memgen seed of the corpus
	questionSeed = 99 // of the questions: another seed, as users ask what they did not write
)

// recallClasses are the shapes of question timed, each against both
// columns. words1..words5 together are "1–5 word questions".
var recallClasses = []string{"1 word", "2 words", "3 words", "4 words", "5 words", "words + tag", "words + project", "tag only, newest first"}

// storeResult is the store section's every figure, HTTP and raw side by side.
type storeResult struct {
	n         int           // memories in the corpus
	buildTime time.Duration // building it in process
	http, raw storeSide
	// Start-to-ready with the corpus: first starts (the data dir holds only
	// the copied store), and restarts (one untimed start and stop first).
	first, restart [2][]sample // cairn, floor
	// overEmpty is restarts of cairn with the corpus against restarts of
	// cairn with an empty store (the corpus copied beside it as ballast):
	// what the memories themselves add to the start, free of the floor.
	overEmpty [2][]sample
}

// storeSide is one column: through the daemon's API, or in process.
type storeSide struct {
	writes1, writes8 float64 // durable writes/s
	bytesPerMem      float64
	recall           map[string][]sample // by class
	rssPeakKiB       int                 // HTTP only: the daemon's VmRSS peak under the 8-client load
	rssErr           error
	walPeak          int64 // bytes, during the 8-client load
	open             []sample
}

// backend is what a measurement needs from either column, so the two are
// timed by the same code.
type backend interface {
	put(ctx context.Context, m store.NewMemory) (string, error) // returns the status
	list(ctx context.Context, q store.Query) error
	stats(ctx context.Context) (api.Stats, error)
}

// runStore builds the corpus, measures the daemon and the store in process
// on two copies of it side by side, then start-to-ready with it.
func runStore(ctx context.Context, tmp string, progs [2]*program, corpusN, n, warmup int) (*storeResult, error) {
	dir, err := os.MkdirTemp(tmp, "store-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res := &storeResult{n: corpusN}

	fmt.Fprintf(os.Stderr, "%-24s ", "store: corpus")
	corpus := filepath.Join(dir, "corpus.db")
	t0 := time.Now()
	if err := buildCorpus(ctx, corpus, corpusN); err != nil {
		return nil, fmt.Errorf("build the %d-memory corpus: %w", corpusN, err)
	}
	res.buildTime = time.Since(t0)
	fmt.Fprintf(os.Stderr, "%d memories in %.1f s\n", corpusN, res.buildTime.Seconds())

	fmt.Fprintf(os.Stderr, "%-24s ", "store: HTTP and raw")
	if err := measureStore(ctx, dir, corpus, progs[0], n, res); err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr)

	for _, restart := range []bool{false, true} {
		label, into := "store: start-to-ready", &res.first
		if restart {
			label, into = "store: restart-to-ready", &res.restart
		}
		fmt.Fprintf(os.Stderr, "%-24s ", label)
		m := measurement{name: label, run: func(ctx context.Context, prog *program, root string) (sample, error) {
			return startToReadyWith(ctx, prog, root, corpus, restart, true)
		}}
		starts, err := runMeasurement(ctx, m, progs, dir, n, warmup)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, fmt.Errorf("%s with the corpus: %w", strings.TrimPrefix(label, "store: "), err)
		}
		into[0], into[1] = starts[progs[0].name], starts[progs[1].name]
	}

	// The same program twice, told apart by name: with the corpus as its
	// store, and with an empty store and the corpus beside it as ballast.
	fmt.Fprintf(os.Stderr, "%-24s ", "store: over an empty one")
	full, empty := *progs[0], *progs[0]
	empty.name += ", empty store"
	m := measurement{name: "store: over an empty one", run: func(ctx context.Context, prog *program, root string) (sample, error) {
		return startToReadyWith(ctx, prog, root, corpus, true, prog != &empty)
	}}
	starts, err := runMeasurement(ctx, m, [2]*program{&full, &empty}, dir, n, warmup)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("restart-to-ready with and without the corpus: %w", err)
	}
	res.overEmpty[0], res.overEmpty[1] = starts[full.name], starts[empty.name]
	return res, nil
}

// buildCorpus writes n generated memories into a new store at path through
// the store package: many concurrent Puts, which the writer batches into
// few transactions, so it takes seconds where the API would take minutes.
// The store is closed, so its WAL is checkpointed into the file.
func buildCorpus(ctx context.Context, path string, n int) error {
	s, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	ch := make(chan store.NewMemory, 256)
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for m := range ch {
				if _, err := s.Put(ctx, m); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	gen := memgen.New(corpusSeed)
	for i := 0; i < n && failed.Load() == nil && ctx.Err() == nil; i++ {
		text, tags, project := gen.Memory(i)
		ch <- store.NewMemory{Text: text, Tags: tags, Project: project}
	}
	close(ch)
	wg.Wait()
	cerr := s.Close()
	if p := failed.Load(); p != nil {
		return *p
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return cerr
}

// copyFile copies the corpus and fsyncs the copy, so its write-back does
// not land inside a later timed region.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// rawStore is the in-process column: the store package itself.
type rawStore struct{ s *store.Store }

func (r rawStore) put(ctx context.Context, m store.NewMemory) (string, error) {
	res, err := r.s.Put(ctx, m)
	return res.Status, err
}

func (r rawStore) list(ctx context.Context, q store.Query) error {
	_, err := r.s.List(ctx, q)
	return err
}

func (r rawStore) stats(ctx context.Context) (api.Stats, error) { return r.s.Stats(ctx) }

// httpStore is the API column: one proven client per concurrent caller, as
// separate processes would have (a shared client would pool only two
// connections and prove a new one for every other request).
type httpStore struct{ c *client.Client }

func (h httpStore) put(ctx context.Context, m store.NewMemory) (string, error) {
	res, err := h.c.Remember(ctx, client.RememberRequest{Text: m.Text, Tags: m.Tags, Project: m.Project}, "")
	return res.Status, err
}

func (h httpStore) list(ctx context.Context, q store.Query) error {
	v := url.Values{"limit": {fmt.Sprint(q.Limit)}}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Project != "" {
		v.Set("project", q.Project)
	}
	for _, t := range q.Tags {
		v.Add("tag", t)
	}
	_, err := h.c.Memories(ctx, v)
	return err
}

func (h httpStore) stats(ctx context.Context) (api.Stats, error) { return h.c.Stats(ctx) }

// column is one side of the table while it is measured: its figures, how
// to make a new caller, and what to watch under load.
type column struct {
	side *storeSide
	newB func() (backend, error) // a new caller: a new proven client over HTTP
	db   string                  // its database, for the WAL's size
	pid  int                     // the daemon's, for RSS; 0 in process
}

// measureStore opens one copy of the corpus in process and starts the real
// daemon on another, then times the same operations on both, alternating
// between them operation by operation (recall) or round by round (writes),
// so a burst of load from elsewhere on the machine lands on both columns
// alike instead of on whichever ran in that stretch.
func measureStore(ctx context.Context, dir, corpus string, cairn *program, n int, res *storeResult) error {
	rawPath := filepath.Join(dir, "raw.db")
	if err := copyFile(rawPath, corpus); err != nil {
		return err
	}
	// Open's own cost, the in-process counterpart of start-to-ready.
	for range n {
		t0 := time.Now()
		s, err := store.Open(rawPath, store.Options{})
		if err != nil {
			return err
		}
		res.raw.open = append(res.raw.open, sample{d: time.Since(t0), code: -1})
		if err := s.Close(); err != nil {
			return err
		}
	}
	s, err := store.Open(rawPath, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()

	sb, err := newSandbox(dir)
	if err != nil {
		return err
	}
	defer sb.remove()
	p := paths.ForDataDir(sb.data, sb.home)
	if err := copyFile(p.Store, corpus); err != nil {
		return err
	}
	d, err := startReady(ctx, cairn, sb)
	if err != nil {
		return err
	}
	defer d.kill()

	cols := [2]column{
		{side: &res.http, db: p.Store, pid: d.pid(), newB: func() (backend, error) {
			c, err := client.Discover(p)
			return httpStore{c}, err
		}},
		{side: &res.raw, db: rawPath, newB: func() (backend, error) { return rawStore{s}, nil }},
	}
	if err := measureReads(ctx, cols); err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, ".")
	if err := measureWrites(ctx, cols); err != nil {
		return err
	}
	return d.stop(ctx)
}

// measureReads takes bytes per memory from each store's stats, then times
// every recall class on both, after an untimed pass over every question
// that warms the page cache, lets each store's first common-term scan
// finish, and leaves the client's first-connection proof out of the samples.
func measureReads(ctx context.Context, cols [2]column) error {
	var bs [2]backend
	for i, col := range cols {
		var err error
		if bs[i], err = col.newB(); err != nil {
			return err
		}
		st, err := bs[i].stats(ctx)
		if err != nil {
			return err
		}
		if st.Count == 0 {
			return fmt.Errorf("the store at %s reports no memories", col.db)
		}
		col.side.bytesPerMem = float64(st.DBBytes+st.WALBytes) / float64(st.Count)
		col.side.recall = map[string][]sample{}
	}
	qs := questions()
	for pass := range 2 {
		for _, class := range recallClasses {
			for i, q := range qs[class] {
				for k := range 2 {
					c := (i + k) % 2 // who goes first alternates
					t0 := time.Now()
					if err := bs[c].list(ctx, q); err != nil {
						return fmt.Errorf("recall %+v: %w", q, err)
					}
					if pass == 1 {
						cols[c].side.recall[class] = append(cols[c].side.recall[class], sample{d: time.Since(t0), code: -1})
					}
				}
			}
		}
	}
	return nil
}

// questions are the same perClass questions per class for both columns:
// words from the corpus's vocabulary (its base words, and the seed's own
// tail of rare ones), the tags and projects it was built with, 10 results.
func questions() map[string][]store.Query {
	gen := memgen.New(questionSeed)
	qs := map[string][]store.Query{}
	for i := range perClass {
		for w := 1; w <= 5; w++ {
			qs[recallClasses[w-1]] = append(qs[recallClasses[w-1]], store.Query{Q: gen.Words(w), Limit: 10})
		}
		tag := memgen.Tags[i%len(memgen.Tags)]
		qs["words + tag"] = append(qs["words + tag"], store.Query{Q: gen.Words(1 + gen.IntN(5)), Tags: []string{tag}, Limit: 10})
		qs["words + project"] = append(qs["words + project"], store.Query{Q: gen.Words(1 + gen.IntN(5)), Project: fmt.Sprintf("p%d", i%memgen.Projects), Limit: 10})
		qs["tag only, newest first"] = append(qs["tag only, newest first"], store.Query{Tags: []string{tag}, Limit: 10})
	}
	return qs
}

// writer is one caller of a write load, with its own generator so its
// texts are new and differ from every other caller's.
type writer struct {
	b   backend
	gen *memgen.Gen
	i   int
}

// measureWrites runs new, unique memories from 1 and then 8 concurrent
// callers, writeFor per column in writeRounds rounds that alternate
// between the columns, and during the 8-caller rounds reads each column's
// WAL size and, for the daemon, its RSS.
func measureWrites(ctx context.Context, cols [2]column) error {
	for _, callers := range []int{1, 8} {
		var ws [2][]*writer
		for c, col := range cols {
			for i := range callers {
				b, err := col.newB()
				if err != nil {
					return err
				}
				ws[c] = append(ws[c], &writer{b: b, gen: memgen.New(uint64(1_000_000*(c+1) + 1000*callers + i))})
			}
		}
		var total [2]int64
		var spent [2]time.Duration
		for r := range writeRounds {
			for k := range 2 {
				c := (r + k) % 2
				stop := func() {}
				if callers == 8 {
					stop = sampleLoad(cols[c].db, cols[c].pid, cols[c].side)
				}
				n, d, err := writeLoad(ctx, ws[c], writeFor/writeRounds)
				stop()
				if err != nil {
					return fmt.Errorf("%d writers: %w", callers, err)
				}
				total[c] += n
				spent[c] += d
			}
		}
		for c, col := range cols {
			rate := float64(total[c]) / spent[c].Seconds()
			if callers == 1 {
				col.side.writes1 = rate
			} else {
				col.side.writes8 = rate
			}
		}
		fmt.Fprint(os.Stderr, ".")
	}
	return nil
}

// writeLoad has every writer write until d has passed and returns how many
// writes were acknowledged and how long they took. Each acknowledged write
// is a durable commit; a duplicate would be a write not made, and is an
// error.
func writeLoad(ctx context.Context, ws []*writer, d time.Duration) (int64, time.Duration, error) {
	var total atomic.Int64
	var failed atomic.Pointer[error]
	t0 := time.Now()
	end := t0.Add(d)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			for time.Now().Before(end) && failed.Load() == nil && ctx.Err() == nil {
				text, tags, project := w.gen.Memory(w.i)
				w.i++
				status, err := w.b.put(ctx, store.NewMemory{Text: text, Tags: tags, Project: project})
				if err == nil && status != store.StatusCreated {
					err = fmt.Errorf("write %q came back %q, want %q", text, status, store.StatusCreated)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				total.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if p := failed.Load(); p != nil {
		return 0, 0, *p
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	return total.Load(), elapsed, nil
}

// sampleLoad reads the WAL's size (and pid's VmRSS, when pid is not 0)
// every sampleEvery into side's peaks until the returned stop is called.
func sampleLoad(dbPath string, pid int, side *storeSide) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	look := func() {
		if fi, err := os.Stat(dbPath + "-wal"); err == nil {
			side.walPeak = max(side.walPeak, fi.Size())
		}
		if pid != 0 && side.rssErr == nil {
			kib, err := rssKiB(pid)
			side.rssErr = err
			side.rssPeakKiB = max(side.rssPeakKiB, kib)
		}
	}
	go func() {
		defer close(done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			look()
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); <-done }
}

// startToReadyWith is startToReady with the corpus in the data dir: cairn
// opens its 100k-memory store once its discovery files are written. The
// copy is made before the clock starts, for the floor too (below). With
// restart, an untimed start and stop come first, so the timed start finds
// what every start of a store that holds memories finds: the token, the
// log and ~/.cairn already made. A first start makes them while it is
// timed, which no store with memories in it ever needs. Without asStore
// the copy lies beside the data dir as ballast and cairn makes an empty
// store.
func startToReadyWith(ctx context.Context, prog *program, root, corpus string, restart, asStore bool) (sample, error) {
	s, err := newSandbox(root)
	if err != nil {
		return sample{}, err
	}
	defer s.remove()
	// The floor gets the copy too, though it never reads it: a 40 MB copy
	// just written (and the last run's just deleted) keeps the kernel's
	// journal and writeback busy for a while, and that must land on both.
	copyTo := filepath.Join(s.data, "cairn.db")
	if !asStore {
		copyTo = filepath.Join(s.dir, "ballast")
	}
	if err := copyFile(copyTo, corpus); err != nil {
		return sample{}, err
	}
	if restart {
		p, err := startReady(ctx, prog, s)
		if err != nil {
			return sample{}, err
		}
		if err := p.stop(ctx); err != nil {
			return sample{}, err
		}
	}
	p, t0, err := start(prog, s, "timed")
	if err != nil {
		return sample{}, err
	}
	defer p.kill()
	at, err := waitReady(ctx, p, s)
	if err != nil {
		return sample{}, err
	}
	return sample{d: at.Sub(t0), code: -1}, p.stop(ctx)
}

// reportStore prints the store's table: each figure through the daemon's
// API beside the same operation on the store in process.
func reportStore(w io.Writer, r *storeResult, n int) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The memory store: a %d-memory corpus of generated text (internal/memgen; built in process in %.1f s), copied for each column. Through HTTP: the real `cairn serve --foreground` on a copy, reached with daemon/client (one proven client per concurrent caller). Raw: the store package in this process on another copy, open at the same time. The columns alternate (recall: question by question; writes: %d rounds each), so noise from elsewhere lands on both. Writes: new unique memories for %.0f s per row and column, durable (synchronous=FULL); recall: %d questions per class, limit 10, after an untimed pass over them all. Start-to-ready: %d interleaved runs per program, as above, each on a fresh sandbox and copy; as a restart, an untimed start and stop of the same program come first in that sandbox.\n\n",
		r.n, r.buildTime.Seconds(), writeRounds, writeFor.Seconds(), perClass, n)
	fmt.Fprintln(w, "| measurement | through HTTP | raw SQLite (in process) | goal | status |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	h, raw := r.http, r.raw
	row := func(name, hv, rv, goal string, ok bool) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, hv, rv, goal, status(ok))
	}
	row("durable writes/s, 1 client", fmt.Sprintf("%.0f /s", h.writes1), fmt.Sprintf("%.0f /s", raw.writes1), fmt.Sprintf("≥ %d /s", goalWrites1), h.writes1 >= goalWrites1)
	row("durable writes/s, 8 concurrent clients", fmt.Sprintf("%.0f /s", h.writes8), fmt.Sprintf("%.0f /s", raw.writes8), fmt.Sprintf("≥ %d /s", goalWrites8), h.writes8 >= goalWrites8)
	hs, rs := h.writes8/h.writes1, raw.writes8/raw.writes1
	row("writes/s, 8 clients over 1", fmt.Sprintf("%.2f×", hs), fmt.Sprintf("%.2f×", rs), fmt.Sprintf("≥ %.1f×", goalScale), hs >= goalScale)

	words := func(s storeSide) []sample {
		var all []sample
		for _, c := range recallClasses[:5] {
			all = append(all, s.recall[c]...)
		}
		return all
	}
	hw, rw := words(h), words(raw)
	row("recall p50, 1–5 word questions", msStr(quantile(hw, 0.5)), msStr(quantile(rw, 0.5)), "≤ "+msStr(goalRecallP50), quantile(hw, 0.5) <= goalRecallP50)
	row("recall p99, 1–5 word questions", msStr(quantile(hw, 0.99)), msStr(quantile(rw, 0.99)), "≤ "+msStr(goalRecallP99), quantile(hw, 0.99) <= goalRecallP99)
	ht, rt := h.recall["words + tag"], raw.recall["words + tag"]
	row("recall p99, with a tag filter", msStr(quantile(ht, 0.99)), msStr(quantile(rt, 0.99)), "≤ "+msStr(goalTagP99), quantile(ht, 0.99) <= goalTagP99)
	hc, hp := slowestClass(h)
	rc, rp := slowestClass(raw)
	row("recall p99, slowest query class", fmt.Sprintf("%s (%s)", msStr(hp), hc), fmt.Sprintf("%s (%s)", msStr(rp), rc), "≤ "+msStr(goalSlowestClass), hp <= goalSlowestClass)
	row("bytes per memory ((db + wal) / count)", fmt.Sprintf("%.0f B", h.bytesPerMem), fmt.Sprintf("%.0f B", raw.bytesPerMem), fmt.Sprintf("≤ %d B", goalBytesPerMem), h.bytesPerMem <= goalBytesPerMem)
	if h.rssErr != nil {
		fmt.Fprintf(w, "| daemon RSS peak, 8-client write load | not measured (%v) | — | ≤ %d MiB | — |\n", h.rssErr, goalDaemonRSS)
	} else {
		rss := mib(float64(h.rssPeakKiB))
		row("daemon RSS peak, 8-client write load", fmt.Sprintf("%.1f MiB", rss), "—", fmt.Sprintf("≤ %d MiB", goalDaemonRSS), rss <= goalDaemonRSS)
	}
	row("WAL size peak, 8-client write load", fmt.Sprintf("%.1f MiB", mib(float64(h.walPeak)/1024)), fmt.Sprintf("%.1f MiB", mib(float64(raw.walPeak)/1024)), fmt.Sprintf("≤ %d MiB", goalWALPeak), mib(float64(h.walPeak)/1024) <= goalWALPeak)
	// The goal is judged on the restart: a store with memories in it has
	// been started before. The first start is context.
	starts := func(s [2][]sample) string {
		c, f := median(s[0]), median(s[1])
		return fmt.Sprintf("cairn %s / floor %s = %.2f×", msStr(c), msStr(f), float64(c)/float64(f))
	}
	c, f := median(r.restart[0]), median(r.restart[1])
	row(fmt.Sprintf("start-to-ready with %d memories, median (a restart)", r.n), starts(r.restart),
		fmt.Sprintf("store.Open %s", msStr(median(raw.open))), fmt.Sprintf("≤ %.1f× floor", goalRatio), float64(c)/float64(f) <= goalRatio)
	fmt.Fprintf(w, "| start-to-ready with %d memories, median (a first start: token, log, ~/.cairn made while timed) | %s | — | — (context) | — |\n", r.n, starts(r.first))
	c, e := median(r.overEmpty[0]), median(r.overEmpty[1])
	fmt.Fprintf(w, "| restart-to-ready with %d memories over one with an empty store, median (what the memories add) | cairn %s / cairn %s = %.2f× | — | — (context) | — |\n", r.n, msStr(c), msStr(e), float64(c)/float64(e))

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Recall by class, p50 / p99 (ms), through HTTP | raw:")
	fmt.Fprintln(w)
	for _, class := range recallClasses {
		fmt.Fprintf(w, "- %s: %.2f / %.2f | %.2f / %.2f\n", class,
			ms(quantile(h.recall[class], 0.5)), ms(quantile(h.recall[class], 0.99)),
			ms(quantile(raw.recall[class], 0.5)), ms(quantile(raw.recall[class], 0.99)))
	}
	for _, st := range []struct {
		name string
		s    [2][]sample
	}{{"a restart", r.restart}, {"a first start", r.first}} {
		c, f := st.s[0], st.s[1]
		fmt.Fprintf(w, "- start-to-ready with the corpus, %s, min / p90 / max: cairn %.2f / %.2f / %.2f, floor %.2f / %.2f / %.2f ms\n", st.name,
			ms(quantile(c, 0)), ms(quantile(c, 0.9)), ms(quantile(c, 1)),
			ms(quantile(f, 0)), ms(quantile(f, 0.9)), ms(quantile(f, 1)))
	}
}

// slowestClass is the recall class with the highest p99, and that p99.
func slowestClass(s storeSide) (string, time.Duration) {
	classes := slices.Clone(recallClasses)
	slices.SortStableFunc(classes, func(a, b string) int {
		return cmp.Compare(quantile(s.recall[b], 0.99), quantile(s.recall[a], 0.99))
	})
	return classes[0], quantile(s.recall[classes[0]], 0.99)
}

func msStr(d time.Duration) string { return fmt.Sprintf("%.2f ms", ms(d)) }
