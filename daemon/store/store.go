// Package store is the daemon's durable memory store: one SQLite file in
// WAL mode (modernc.org/sqlite, pure Go), written by one goroutine that
// batches concurrent writes into one transaction (group commit), read
// through a small pool, searched through an FTS5 index ranked by bm25.
//
// Only the daemon, the lock holder, opens the database; everything else
// goes through the API. See docs/ARCHITECTURE.md ("The memory store").
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/atomicfile"
)

// Memory is the API's shape (package api), so clients need not link the store.
type Memory = api.Memory

// NewMemory is what Put stores.
type NewMemory struct {
	Text, Project, Source, Key string
	Tags                       []string
	ExpiresAt                  *time.Time
	AllowSecret                bool
	// For import: keep the given ULID and times. A memory whose ID already
	// exists is "duplicate" (import is idempotent by id).
	ID                   string
	CreatedAt, UpdatedAt time.Time
}

// PutResult is the API's shape (package api), so clients need not link the store.
type PutResult = api.PutResult

// Put statuses.
const (
	StatusCreated   = "created"
	StatusDuplicate = "duplicate" // an identical live memory (or the same id) exists; nothing written
	StatusReplaced  = "replaced"  // written; the live memory with the same key and project is superseded
	// StatusDiffers: an import's id is here already, with other text, tags
	// or project (one side was edited since); nothing written, the memory
	// here is kept.
	StatusDiffers = "differs"
)

// Patch changes a memory in place. Nil or empty fields are left alone.
type Patch struct {
	Text                *string
	AddTags, RemoveTags []string
	AllowSecret         bool // as in NewMemory, for a new Text
}

// Query selects memories for List.
type Query struct {
	Q            string   // the user's words; empty = newest first
	Tags         []string // all must match
	Project      string
	Since, Until time.Time // zero = unbounded; on created_at; Since inclusive, Until exclusive
	Limit        int       // 1..200; 0 = 20
	Cursor       string    // opaque, from Page.NextCursor
	MaxBytes     int       // bound on the sum of returned texts; 0 = none. At least one memory is returned when any match.
	// IncludeSuperseded also returns memories another with the same key replaced.
	IncludeSuperseded bool
}

// Page is the API's shape (package api), so clients need not link the store.
type Page = api.Page

// TagCount is the API's shape (package api), so clients need not link the store.
type TagCount = api.TagCount

// Stats is the API's shape (package api), so clients need not link the store.
type Stats = api.Stats

// Options are Open's seams and hooks.
type Options struct {
	Now     func() time.Time // clock seam; time.Now when nil
	OnWrite func(m Memory)   // called after a write is durable (created, replaced, updated); may be nil
	// OnDelete is called with the id after a delete is durable; may be nil.
	OnDelete func(id string)
	Log      *slog.Logger // may be nil
}

// Errors callers tell apart with errors.Is.
var (
	ErrNotFound = errors.New("no such memory")
	// ErrTooNew: the daemon exits 5 with "this database was written by a
	// newer Cairn; upgrade Cairn".
	ErrTooNew = errors.New("this database was written by a newer Cairn; upgrade Cairn")
	ErrFull   = errors.New("the disk holding the memory store is full; free some space and retry (nothing acknowledged was lost)")
	ErrClosed = errors.New("the memory store is closed")
	// ErrCutShort is a store file shorter than its own header says.
	ErrCutShort = errors.New("the file was cut short")
)

const (
	readers      = 4
	maxBatch     = 256
	busyTimeout  = 5000     // ms; only the idle and closing checkpoints contend with the writer
	walThreshold = 16 << 20 // the writer checkpoints past this; the peak is this plus one batch
	// walSizeLimit is the journal_size_limit: what the WAL file is cut back
	// to when it starts over. Above walThreshold, so under load it keeps
	// its size and commits overwrite it (housekeeping.go, ckLoad).
	walSizeLimit = 2 * walThreshold
	// batchWait bounds how long the writer waits for the callers its last
	// batch answered before it commits a smaller batch (writer.go).
	batchWait = time.Millisecond
)

// Store is an open memory store. Its methods are safe for concurrent use.
type Store struct {
	path     string
	schema   int // the version open migrated to: SchemaVersion but in migration tests
	pageSize int64
	now      func() time.Time
	log      *slog.Logger
	opts     Options
	wdb      *sql.DB // one connection, owned by the writer goroutine
	rdb      *sql.DB // readers, query_only
	wconn    *sql.Conn

	rs readStmts

	mu     sync.RWMutex // held shared while sending a request, exclusively by Close
	closed bool
	reqs   chan *request
	wdone  chan struct{}

	kick    chan struct{} // writer → housekeeping: a commit happened
	hctx    context.Context
	hcancel context.CancelFunc // Close: cut a long housekeeping query short
	hquit   chan struct{}
	hdone   chan struct{}

	count     atomic.Int64 // live memories, maintained by the writer
	commits   atomic.Int64
	writes    atomic.Int64
	lastWrite atomic.Int64 // unix ms; 0 = never

	common          atomic.Pointer[commonTerms] // very common terms, dropped from recall
	sinceCommon     atomic.Int64                // writes since common was computed
	forceCheckpoint atomic.Bool                 // a write failed on a full disk: checkpoint whatever the WAL's size

	window int64 // commonWindow; smaller in tests

	// failCommit makes the writer's next commits fail as if the disk were
	// full, while it returns true. Tests only.
	failCommit func() bool
	// onCheckpoint is called after each checkpoint (writer or housekeeping). Tests only.
	onCheckpoint func(walBefore, walAfter int64)
}

// Open opens (creating when missing) the store at path, migrating its
// schema. A database written by a newer Cairn is ErrTooNew.
func Open(path string, opts Options) (*Store, error) {
	return OpenContext(context.Background(), path, opts)
}

// OpenContext is Open that gives up when ctx ends: a daemon told to stop
// while its store still opens need not wait for it. A migration cut short
// is rolled back whole, so the next Open starts it again.
func OpenContext(ctx context.Context, path string, opts Options) (*Store, error) {
	return open(ctx, path, opts, SchemaVersion)
}

func open(ctx context.Context, path string, opts Options, target int) (*Store, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open the memory store %s: the path contains '?', which the SQLite driver reads as the start of its options; use a data dir without '?'", path)
	}
	if err := checkFiles(path); err != nil {
		return nil, err
	}
	if err := checkOrphanWAL(path); err != nil {
		return nil, err
	}
	if err := createPrivate(path, target == SchemaVersion); err != nil {
		return nil, err
	}
	s := &Store{
		path:   path,
		schema: target,
		window: commonWindow,
		now:    opts.Now,
		log:    opts.Log,
		opts:   opts,
		reqs:   make(chan *request, maxBatch),
		wdone:  make(chan struct{}),
		kick:   make(chan struct{}, 1),
		hquit:  make(chan struct{}),
		hdone:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.hctx, s.hcancel = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.common.Store(&commonTerms{docs: map[string]int64{}})
	if err := syncWithFdatasync(); err != nil {
		s.log.Warn("memory store: commits sync with fsync", "err", err)
	}

	var err error
	fail := func(what string, e error) (*Store, error) {
		s.closeDBs()
		if ctx.Err() != nil {
			e = ctx.Err() // SQLite only says "interrupted"
		}
		return nil, fmt.Errorf("open the memory store %s: %s: %w", path, what, e)
	}
	if s.wdb, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return fail("open the writer", err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return fail("connect the writer", classify(err))
	}
	var mode string
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail("read the journal mode", classify(err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fail("set WAL mode", fmt.Errorf("journal_mode is %q", mode))
	}
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&s.pageSize); err != nil {
		return fail("read the page size", classify(err))
	}
	if err := migrate(ctx, s.wconn, target); err != nil {
		if errors.Is(err, ErrTooNew) {
			s.closeDBs()
			return nil, err
		}
		return fail("schema", classify(err))
	}
	if s.rdb, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return fail("open the readers", err)
	}
	s.rdb.SetMaxOpenConns(readers)
	s.rdb.SetMaxIdleConns(readers)
	s.rdb.SetConnMaxLifetime(0)
	// The live count and the last write come from meta (migration 3),
	// which triggers keep exact: a scan of memories here cost ~20 ms of
	// start-up at 100,000 memories. Only a store held at an older schema
	// (tests of the migrations) still scans.
	countSQL := "SELECT live, last_write FROM meta"
	if target < 3 {
		countSQL = "SELECT count(*) FILTER (WHERE superseded_by IS NULL), max(updated_at) FROM memories"
	}
	var n, last sql.NullInt64
	err = s.wconn.QueryRowContext(ctx, countSQL).Scan(&n, &last)
	if err != nil {
		return fail("count memories", classify(err))
	}
	s.count.Store(n.Int64)
	s.lastWrite.Store(last.Int64)

	go s.writer()
	go s.housekeeping()
	return s, nil
}

// dsn builds the driver's connection string. Every connection: WAL,
// synchronous=FULL (a commit is on disk before it is acknowledged: in WAL
// mode NORMAL could lose the last commits on power loss), fullfsync
// (see fullfsyncPragma), foreign keys for the tags cascade, a busy timeout.
// The writer begins transactions IMMEDIATE so it never upgrades a read lock.
// Its automatic checkpoints are off: the writer checkpoints between
// batches once the WAL is large (writer.go), so no commit runs one.
func dsn(path string, readOnly bool) string {
	p := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(ON)",
		fmt.Sprintf("_pragma=journal_size_limit(%d)", walSizeLimit),
	}
	p = append(p, fullfsyncPragmas...)
	if readOnly {
		// A 1 MiB page cache, half SQLite's default: each reader's cache is
		// daemon RSS (four readers at 2 MB put the peak under write load
		// at 41.4–41.8 MiB, over its 40 MiB goal; at 1 MiB 38.3 MiB), and
		// recall met its goals the same (the OS page cache holds the file;
		// FTS5 ranks before the join). A larger one is safe for queries:
		// the "stale FTS5 view" it seemed to cause was integrity_check
		// reading a pooled connection's cached segment structure, which
		// queries refresh (docs/ARCHITECTURE.md, "The stale reader,
		// explained").
		p = append(p, "_pragma=query_only(ON)", "_pragma=cache_size(-1024)")
	} else {
		p = append(p, "_txlock=immediate", "_pragma=wal_autocheckpoint(0)")
	}
	return dsnName(path) + strings.Join(p, "&")
}

// syncWithFdatasync makes SQLite commit with fdatasync(2) rather than
// fsync(2) where the driver can (Linux and the BSDs; it is process-wide).
// fdatasync writes the data and what is needed to read it back, the
// file's size included, so a commit is just as durable; it skips the
// timestamps, whose journal commit a fsync on ext4 otherwise waits for.
// SQLite's own Linux builds use it; the transpiled driver keeps fsync
// unless asked. On macOS F_FULLFSYNC is used instead (fullfsyncPragmas),
// on Windows FlushFileBuffers.
func syncWithFdatasync() error {
	if _, err := sqlite.Fdatasync(true); err != nil && !errors.Is(err, sqlite.ErrFdatasyncUnavailable) {
		return err
	}
	return nil
}

// checkFiles refuses a database, WAL or shared-memory file that exists but
// is not a regular file: a symlink could point the daemon's writes at
// another file, and a FIFO or device would block or misbehave. The data
// dir is private to the user (daemon/paths), so this is defence in depth.
func checkFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("open the memory store: inspect %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("open the memory store: %s is not a regular file (%s); Cairn only opens its own files: move it away and start again", p, fi.Mode().Type())
		}
	}
	return nil
}

// ErrOrphanWAL is a write-ahead log with no database beside it.
var ErrOrphanWAL = errors.New("the store file is missing but its write-ahead log is still there")

// checkOrphanWAL refuses to start a new store where a -wal file is left:
// SQLite has no way to tell which database a WAL belongs to, and would
// replay the old store's last writes into the new file, damaging it (and
// they would be lost with the WAL at the next checkpoint). The WAL holds
// the old store's latest memories, so it is the user's to keep.
func checkOrphanWAL(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	fi, err := os.Lstat(path + "-wal")
	if err != nil || fi.Size() == 0 {
		return nil // none, or empty: nothing in it to replay
	}
	return fmt.Errorf("open the memory store: %w: %s (%d bytes) holds the latest writes of the store that was %s. "+
		"Put that file back beside it; or, to start a new store, move %s and %s away too (together with the old store file they can be opened with sqlite3)",
		ErrOrphanWAL, path+"-wal", fi.Size(), path, path+"-wal", path+"-shm")
}

// createPrivate creates a missing database file 0600 (SQLite would create
// it 0644, and gives the -wal and -shm files the database's mode). O_EXCL
// refuses to follow a symlink planted in the meantime. With fromTemplate a
// missing file is written as a copy of emptyStore, an empty store at
// SchemaVersion, whole or not at all (temp file, fsync, rename, fsync the
// dir): running the migrations instead cost a first start ~10 ms of SQLite
// (25 statements, FTS5's shadow tables) and a commit.
func createPrivate(path string, fromTemplate bool) error {
	if fromTemplate && len(emptyStore) > 0 {
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			if err := atomicfile.Write(path, emptyStore, 0o600); err != nil {
				return classify(fmt.Errorf("create the memory store %s: %w", path, err))
			}
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return checkFiles(path)
	}
	if err != nil {
		return fmt.Errorf("create the memory store %s: %w", path, err)
	}
	return f.Close()
}

// Count is the number of live (not superseded) memories, cached: no I/O,
// for /health and the tray. Expired memories count until housekeeping
// purges them (within a minute).
func (s *Store) Count() int64 { return s.count.Load() }

// Close refuses new writes, answers every queued one, stops housekeeping,
// checkpoints the WAL into the database and closes every connection.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	<-s.wdone
	s.hcancel() // the first common-term scan takes ~200 ms at 100,000 memories
	close(s.hquit)
	<-s.hdone
	// The writer has stopped, so its connection is free for the last
	// checkpoint; a reader still in a query holds it up walBusy at most.
	var errs []error
	_, err := s.wconn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", walBusy))
	if err == nil {
		_, err = s.wconn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("checkpoint the WAL: %w", err))
	}
	errs = append(errs, s.closeDBs())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close the memory store %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) closeDBs() error {
	s.hcancel()
	var errs []error
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	for _, db := range []*sql.DB{s.rdb, s.wdb} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// Put stores a memory: created, or an identical live one's id
// (StatusDuplicate, nothing written), or created superseding the live
// memory with the same key and project (StatusReplaced). It returns once
// the write is durable.
func (s *Store) Put(ctx context.Context, m NewMemory) (PutResult, error) {
	m, err := validateNew(m, s.now())
	if err != nil {
		return PutResult{}, err
	}
	res := s.send(ctx, &request{kind: opPut, put: m})
	if res.err != nil {
		return PutResult{}, fmt.Errorf("store a memory: %w", res.err)
	}
	return res.put, nil
}

// PutOutcome is one memory's result in PutAll.
type PutOutcome struct {
	Result PutResult
	Err    error
}

// PutAll stores ms as Put would, one after another in their order, but
// queued a batch at a time (maxBatch), so the writer commits them in
// batches rather than one commit (and fsync) each: an import's lines.
// Each is written in the order given (seqs follow it: an export of the
// import is the file imported, and each version of a key supersedes the
// one before it). After a batch fails with a full disk or a closed store,
// or once ctx ends, the valid memories not yet queued get that error:
// nothing more is written on a disk that just said it is full. Each is
// checked first, so an invalid one always says what is wrong with it.
func (s *Store) PutAll(ctx context.Context, ms []NewMemory) []PutOutcome {
	out := make([]PutOutcome, len(ms))
	// Every line is checked first, so one that cannot be stored says why
	// even when a full disk stops the rest.
	checked := make([]NewMemory, len(ms))
	var valid []int
	for i := range ms {
		m, err := validateNew(ms[i], s.now())
		if err != nil {
			out[i].Err = err
			continue
		}
		checked[i] = m
		valid = append(valid, i)
	}
	for start := 0; start < len(valid); start += maxBatch {
		batch := valid[start:min(start+maxBatch, len(valid))]
		reqs := make([]*request, len(batch))
		var stop error
		for j, i := range batch {
			r := &request{kind: opPut, put: checked[i]}
			if stop = s.enqueue(ctx, r); stop != nil {
				break
			}
			reqs[j] = r
		}
		for j, r := range reqs {
			if r == nil {
				continue
			}
			res := r.wait(ctx)
			out[batch[j]].Result = res.put
			if res.err != nil {
				out[batch[j]].Err = fmt.Errorf("store a memory: %w", res.err)
				if errors.Is(res.err, ErrFull) || errors.Is(res.err, ErrClosed) {
					stop = res.err
				}
			}
		}
		if stop != nil {
			for j, i := range valid[start:] {
				if j >= len(reqs) || reqs[j] == nil {
					out[i].Err = fmt.Errorf("store a memory: %w", stop)
				}
			}
			break
		}
	}
	return out
}

// Update changes a memory's text or tags in place (its id, key and times
// but updated_at stay) and returns it as stored.
func (s *Store) Update(ctx context.Context, id string, p Patch) (Memory, error) {
	if p.Text != nil {
		if err := checkText(*p.Text, p.AllowSecret); err != nil {
			return Memory{}, err
		}
	}
	var err error
	if p.AddTags, err = normalizeTagsOf("add_tags", p.AddTags); err != nil {
		return Memory{}, err
	}
	if p.RemoveTags, err = normalizeTagList("remove_tags", p.RemoveTags); err != nil {
		return Memory{}, err
	}
	res := s.send(ctx, &request{kind: opUpdate, id: strings.ToUpper(id), patch: p})
	if res.err != nil {
		return Memory{}, res.err
	}
	return res.mem, nil
}

// Delete removes a memory for good (its tags and index entries with it).
func (s *Store) Delete(ctx context.Context, id string) error {
	res := s.send(ctx, &request{kind: opDelete, id: strings.ToUpper(id)})
	return res.err
}
