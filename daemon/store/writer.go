package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/oklog/ulid/v2"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The writer goroutine owns the write connection. Put, Update and Delete
// (and housekeeping's purge and optimize) send it a request; it takes
// everything queued (up to maxBatch) into one IMMEDIATE transaction, runs
// each request inside its own SAVEPOINT so one request's failure rolls back
// only its own changes, commits once (one fsync for the whole batch, which
// is what makes concurrent writers cheap), and only then answers each
// caller.

type opKind int

const (
	opPut opKind = iota
	opUpdate
	opDelete
	opPurge
	opOptimize
)

type request struct {
	ctx   context.Context
	kind  opKind
	put   NewMemory
	id    string
	patch Patch
	done  chan response // buffered 1: the writer never blocks on a caller
}

type response struct {
	put     PutResult
	mem     Memory
	err     error
	written *Memory  // for OnWrite
	revived []Memory // for OnWrite: live again, their successor gone
	deleted string   // for OnDelete
	delta   int64    // change in the live count
}

// send queues r and waits for its answer. A caller whose ctx ends while
// queued gets ctx.Err(); the writer skips a request whose ctx has ended
// before the batch starts, but once a batch runs its requests complete, so
// a canceled write may still have been made (as over any network).
func (s *Store) send(ctx context.Context, r *request) response {
	if err := s.enqueue(ctx, r); err != nil {
		return response{err: err}
	}
	return r.wait(ctx)
}

// enqueue queues r for the writer without waiting for its answer.
func (s *Store) enqueue(ctx context.Context, r *request) error {
	r.ctx = ctx
	r.done = make(chan response, 1)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait is a queued request's answer.
func (r *request) wait(ctx context.Context) response {
	select {
	case res := <-r.done:
		return res
	case <-ctx.Done():
		return response{err: ctx.Err()}
	}
}

func (s *Store) writer() {
	defer close(s.wdone)
	entropy := ulid.Monotonic(rand.Reader, 0)
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	w := &batchWriter{s: s, entropy: entropy, stmts: stmts}
	batch := make([]*request, 0, maxBatch)
	wait := time.NewTimer(batchWait)
	wait.Stop()
	last := 1 // the last batch's size: about how many callers are writing
	for r := range s.reqs {
		batch = append(batch[:0], r)
		open := s.drain(&batch)
		if open && len(batch) < last {
			// The callers the last batch answered are most likely about to
			// send again: wait a moment for them rather than commit (and
			// fsync) twice as often. One caller never waits.
			wait.Reset(batchWait)
		gather:
			for len(batch) < last && len(batch) < maxBatch {
				select {
				case r, ok := <-s.reqs:
					if !ok {
						break gather
					}
					batch = append(batch, r)
				case <-wait.C:
					break gather
				}
			}
			wait.Stop()
			s.drain(&batch)
		}
		last = len(batch)
		w.run(batch)
		// Between batches the writer holds no transaction, so a checkpoint
		// here can reset the WAL, which one on another connection could
		// not while writes kept coming.
		mode := ckLoad
		if s.forceCheckpoint.Swap(false) {
			mode = ckRelease
		}
		noop, _ := w.stmt(context.Background(), "PRAGMA wal_checkpoint(NOOP)") // nil on error: checkpoint prepares its own
		s.checkpoint(context.Background(), s.wconn, busyTimeout, mode, noop)
	}
}

// drain adds what is queued to batch, up to maxBatch, without waiting; false
// once reqs is closed.
func (s *Store) drain(batch *[]*request) bool {
	for len(*batch) < maxBatch {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				return false
			}
			*batch = append(*batch, r)
		default:
			return true
		}
	}
	return true
}

type batchWriter struct {
	s       *Store
	entropy *ulid.MonotonicEntropy
	stmts   map[string]*sql.Stmt
	now     time.Time
	// unindexed are the memories this transaction inserted that are not yet
	// in memories_fts (schemaWriterIndexes): they go in together, with one
	// FTS5 segment for the batch, before the commit or before any request
	// that could touch them through the index's update and delete triggers.
	unindexed []ftsRow
	isolated  bool // this attempt runs each request in a savepoint
}

type ftsRow struct {
	seq  int64
	text string
}

// index adds a new memory to memories_fts: at once when the request runs
// in its own savepoint (a rollback to it must take the entry too), else
// with the rest of the batch (indexPending).
func (w *batchWriter) index(ctx context.Context, seq int64, text string) error {
	if w.s.schema < schemaWriterIndexes {
		return nil // the memories_fts_insert trigger does it (or, at 1, there is no index)
	}
	if !w.isolated {
		w.unindexed = append(w.unindexed, ftsRow{seq, text})
		return nil
	}
	_, err := w.exec(ctx, "INSERT INTO memories_fts(rowid, text) VALUES (?, ?)", seq, text)
	return err
}

// indexPending adds the batch's unindexed memories to memories_fts. Each
// is its own single-row statement: such a statement needs no statement
// savepoint, so FTS5 keeps them all pending and writes one segment at the
// commit.
func (w *batchWriter) indexPending(ctx context.Context) error {
	for _, r := range w.unindexed {
		if _, err := w.exec(ctx, "INSERT INTO memories_fts(rowid, text) VALUES (?, ?)", r.seq, r.text); err != nil {
			return err
		}
	}
	w.unindexed = w.unindexed[:0]
	return nil
}

func (w *batchWriter) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	st, err := w.s.wconn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

func (w *batchWriter) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (w *batchWriter) queryRow(ctx context.Context, q string, args ...any) (*sql.Row, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

func (w *batchWriter) run(batch []*request) {
	s := w.s
	// The transaction runs to completion whatever the callers do: a half
	// written batch is never an option.
	ctx := context.Background()
	w.now = s.now()
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.done <- response{err: r.ctx.Err()}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	results, committed, err := w.attempt(ctx, live, false)
	if errors.Is(err, errRetryIsolated) {
		results, committed, err = w.attempt(ctx, live, true)
	}
	if err != nil {
		_ = w.exec0(ctx, "ROLLBACK") // may fail: SQLite can roll back on its own after SQLITE_FULL
		err = classify(err)
		for _, r := range live {
			r.done <- response{err: err}
		}
		s.log.Error("memory store: a batch of writes failed and was rolled back", "writes", len(live), "err", err)
		if errors.Is(err, ErrFull) {
			// The WAL holds most of what a full disk can give back: the
			// writer checkpoints after this batch whatever the WAL's size.
			s.forceCheckpoint.Store(true)
		}
		return
	}
	if committed {
		s.commits.Add(1)
		s.writes.Add(int64(len(live)))
	}
	var delta, changed int64
	for _, res := range results {
		delta += res.delta
		if res.written != nil || res.deleted != "" {
			changed++
		}
	}
	s.count.Add(delta)
	if changed > 0 {
		s.lastWrite.Store(w.now.UnixMilli())
		s.sinceCommon.Add(changed)
	}
	for i, r := range live {
		r.done <- results[i]
	}
	// The callers just answered wait on this goroutine's processor (a
	// channel send makes them runnable here), so whatever it does next,
	// the hooks below and the checkpoint between batches, would come
	// before their replies. Yield first: a write through the daemon came
	// back 50–70 µs sooner (650 → 600 µs, one client, 2026-12-02).
	runtime.Gosched()
	for _, res := range results {
		if res.written != nil && s.opts.OnWrite != nil {
			s.opts.OnWrite(*res.written)
		}
		if s.opts.OnWrite != nil {
			for _, m := range res.revived {
				s.opts.OnWrite(m)
			}
		}
		if res.deleted != "" && s.opts.OnDelete != nil {
			s.opts.OnDelete(res.deleted)
		}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// errRetryIsolated: a request of a batch run without savepoints failed,
// so the batch was rolled back to be run again with one per request.
var errRetryIsolated = errors.New("a request failed; run the batch again with savepoints")

// attempt runs live in one transaction and commits it. With isolated, each
// request runs inside its own SAVEPOINT, so one request's failure rolls back
// only its own changes. Without, a failed request rolls the whole batch back
// and attempt returns errRetryIsolated (or, when the request is the batch,
// its own error as its answer, nothing written). Savepoints are not free:
// FTS5 writes its pending index entries out as a segment at every savepoint,
// so a batch of eight made eight small segments to merge instead of one,
// and each is two more statements. Requests fail rarely (their input is
// checked before they are sent), so the common batch runs without. A
// storage error fails the batch either way: the transaction may already be
// gone, so nothing else in it can be trusted.
func (w *batchWriter) attempt(ctx context.Context, live []*request, isolated bool) (_ []response, committed bool, _ error) {
	s := w.s
	results := make([]response, len(live))
	w.isolated, w.unindexed = isolated, w.unindexed[:0]
	if err := w.exec0(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, false, err
	}
	for i, r := range live {
		if r.kind != opPut {
			// Its triggers may delete or change index entries of memories
			// this batch inserted: they must be there first.
			if err := w.indexPending(ctx); err != nil {
				return nil, false, err
			}
		}
		if isolated {
			if err := w.exec0(ctx, "SAVEPOINT req"); err != nil {
				return nil, false, err
			}
		}
		res := w.apply(ctx, r)
		switch {
		case res.err != nil && isStorage(res.err):
			return nil, false, res.err
		case res.err != nil && !isolated:
			if err := w.exec0(ctx, "ROLLBACK"); err != nil {
				return nil, false, err
			}
			if len(live) > 1 {
				return nil, false, errRetryIsolated
			}
			return []response{res}, false, nil
		case res.err != nil:
			if err := w.exec0(ctx, "ROLLBACK TO req"); err != nil {
				return nil, false, err
			}
		}
		if isolated {
			if err := w.exec0(ctx, "RELEASE req"); err != nil {
				return nil, false, err
			}
		}
		results[i] = res
	}
	if err := w.indexPending(ctx); err != nil {
		return nil, false, err
	}
	if s.failCommit != nil && s.failCommit() {
		return nil, false, &fakeFull{}
	}
	if err := w.exec0(ctx, "COMMIT"); err != nil {
		return nil, false, err
	}
	return results, true, nil
}

// exec0 runs a statement without arguments or results, prepared once.
func (w *batchWriter) exec0(ctx context.Context, q string) error {
	_, err := w.exec(ctx, q)
	return err
}

func (w *batchWriter) apply(ctx context.Context, r *request) response {
	switch r.kind {
	case opPut:
		return w.put(ctx, r.put)
	case opUpdate:
		return w.update(ctx, r.id, r.patch)
	case opDelete:
		return w.delete(ctx, r.id)
	case opPurge:
		return w.purge(ctx)
	case opOptimize:
		_, err := w.s.wconn.ExecContext(ctx, "INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
		return response{err: err}
	}
	return response{err: fmt.Errorf("unknown write request %d", r.kind)}
}

// contentHash identifies exact duplicates: same project, same tag set, same
// text. Fields are NUL-separated; none of them may contain NUL.
func contentHash(project string, tags []string, text string) []byte {
	h := sha256.New()
	h.Write([]byte(project))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(tags, "\x00")))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return h.Sum(nil)[:16]
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (w *batchWriter) put(ctx context.Context, m NewMemory) response {
	nowMs := w.now.UnixMilli()
	hash := contentHash(m.Project, m.Tags, m.Text)
	if m.ID != "" {
		var created int64
		var have []byte
		row, err := w.queryRow(ctx, "SELECT created_at, hash FROM memories WHERE id = ?", m.ID)
		if err != nil {
			return response{err: err}
		}
		switch err := row.Scan(&created, &have); {
		case err == nil:
			// The same id is the same memory; whether it still says the
			// same is the hash's to tell (kept up by every edit).
			status := StatusDuplicate
			if !bytes.Equal(have, hash) {
				status = StatusDiffers
			}
			return response{put: PutResult{ID: m.ID, Status: status, CreatedAt: fromMs(created)}}
		case !errors.Is(err, sql.ErrNoRows):
			return response{err: err}
		}
	}
	if m.ID == "" {
		// An import is by id alone: a memory that says what another one
		// says (PATCH can make two alike) still arrives, or a round trip
		// through export and import would lose it.
		dup, err := w.findDuplicate(ctx, hash, m, nowMs)
		if err != nil || dup.ID != "" {
			return response{put: dup, err: err}
		}
	}

	id := m.ID
	if id == "" {
		id = ulid.MustNew(ulid.Timestamp(w.now), w.entropy).String()
	}
	created, updated := nowMs, nowMs
	if !m.CreatedAt.IsZero() {
		created, updated = m.CreatedAt.UnixMilli(), m.UpdatedAt.UnixMilli()
	}
	var expires any
	if m.ExpiresAt != nil {
		expires = m.ExpiresAt.UnixMilli()
	}

	status := StatusCreated
	var supersededBy any
	var replaceSeq int64
	delta := int64(1)
	if m.Key != "" {
		var oldSeq, oldCreated int64
		var oldID string
		row, err := w.queryRow(ctx, `SELECT seq, id, created_at FROM memories
			WHERE project = ? AND key = ? AND superseded_by IS NULL
			ORDER BY created_at DESC, seq DESC LIMIT 1`, m.Project, m.Key)
		if err != nil {
			return response{err: err}
		}
		switch err := row.Scan(&oldSeq, &oldID, &oldCreated); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return response{err: err}
		case oldCreated > created:
			// An import older than the live memory with its key: it was
			// replaced back then, so it arrives superseded.
			supersededBy, delta = oldID, 0
		default:
			status, replaceSeq, delta = StatusReplaced, oldSeq, 0
		}
	}

	var seq int64
	row, err := w.queryRow(ctx, `INSERT INTO memories
		(id, text, project, source, key, expires_at, created_at, updated_at, superseded_by, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		id, m.Text, m.Project, m.Source, nullStr(m.Key), expires, created, updated, supersededBy, hash)
	if err != nil {
		return response{err: err}
	}
	if err := row.Scan(&seq); err != nil {
		return response{err: err}
	}
	if err := w.index(ctx, seq, m.Text); err != nil {
		return response{err: err}
	}
	if len(m.Tags) > 0 {
		// One statement for all of them (prepared once per count): each
		// statement costs the driver more than the rows it inserts.
		args := make([]any, 0, 2*len(m.Tags))
		for _, t := range m.Tags {
			args = append(args, seq, t)
		}
		q := "INSERT INTO tags(seq, tag) VALUES " + strings.Repeat("(?, ?), ", len(m.Tags)-1) + "(?, ?)"
		if _, err := w.exec(ctx, q, args...); err != nil {
			return response{err: err}
		}
	}
	if replaceSeq != 0 {
		// updated_at of the old memory is left alone: its content did not
		// change, and an export then import reproduces it exactly.
		if _, err := w.exec(ctx, "UPDATE memories SET superseded_by = ? WHERE seq = ?", id, replaceSeq); err != nil {
			return response{err: err}
		}
	}
	mem := Memory{
		ID: id, Text: m.Text, Tags: m.Tags, Project: m.Project, Source: m.Source, Key: m.Key,
		CreatedAt: fromMs(created), UpdatedAt: fromMs(updated),
	}
	if m.ExpiresAt != nil {
		t := fromMs(m.ExpiresAt.UnixMilli())
		mem.ExpiresAt = &t
	}
	if supersededBy != nil {
		mem.SupersededBy = supersededBy.(string)
	}
	return response{
		put:     PutResult{ID: id, Status: status, CreatedAt: mem.CreatedAt},
		written: &mem,
		delta:   delta,
	}
}

// findDuplicate looks for a live memory with the same hash and compares it
// in full (the hash is truncated, so a match is only a candidate). A write
// with a key is a duplicate only of a memory with that key, so the key is
// never dropped; one without a key, of any. A duplicate never makes the
// memory expire sooner: no expiry, or a later one, replaces its expiry.
func (w *batchWriter) findDuplicate(ctx context.Context, hash []byte, m NewMemory, nowMs int64) (PutResult, error) {
	st, err := w.stmt(ctx, `SELECT seq, id, created_at, text, project, coalesce(key, ''), expires_at FROM memories
		WHERE hash = ? AND superseded_by IS NULL AND (expires_at IS NULL OR expires_at > ?)`)
	if err != nil {
		return PutResult{}, err
	}
	rows, err := st.QueryContext(ctx, hash, nowMs)
	if err != nil {
		return PutResult{}, err
	}
	type cand struct {
		seq, created int64
		id           string
		expires      sql.NullInt64
	}
	var cands []cand
	for rows.Next() {
		var c cand
		var text, project, key string
		if err := rows.Scan(&c.seq, &c.id, &c.created, &text, &project, &key, &c.expires); err != nil {
			rows.Close()
			return PutResult{}, err
		}
		if text == m.Text && project == m.Project && (m.Key == "" || key == m.Key) {
			cands = append(cands, c)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return PutResult{}, err
	}
	for _, c := range cands {
		tags, err := w.tagsOf(ctx, c.seq)
		if err != nil {
			return PutResult{}, err
		}
		if !slices.Equal(tags, m.Tags) {
			continue
		}
		if c.expires.Valid && (m.ExpiresAt == nil || m.ExpiresAt.UnixMilli() > c.expires.Int64) {
			var expires any
			if m.ExpiresAt != nil {
				expires = m.ExpiresAt.UnixMilli()
			}
			if _, err := w.exec(ctx, "UPDATE memories SET expires_at = ? WHERE seq = ?", expires, c.seq); err != nil {
				return PutResult{}, err
			}
		}
		return PutResult{ID: c.id, Status: StatusDuplicate, CreatedAt: fromMs(c.created)}, nil
	}
	return PutResult{}, nil
}

func (w *batchWriter) tagsOf(ctx context.Context, seq int64) ([]string, error) {
	st, err := w.stmt(ctx, "SELECT tag FROM tags WHERE seq = ? ORDER BY tag")
	if err != nil {
		return nil, err
	}
	return scanTags(st.QueryContext(ctx, seq))
}

func scanTags(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	tags := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, errors.Join(rows.Err(), rows.Close())
}

func (w *batchWriter) update(ctx context.Context, id string, p Patch) response {
	nowMs := w.now.UnixMilli()
	var seq int64
	var text string
	row, err := w.queryRow(ctx, `SELECT seq, text FROM memories WHERE id = ?
		AND (expires_at IS NULL OR expires_at > ?)`, id, nowMs)
	if err != nil {
		return response{err: err}
	}
	if err := row.Scan(&seq, &text); errors.Is(err, sql.ErrNoRows) {
		return response{err: fmt.Errorf("update %s: %w", id, ErrNotFound)}
	} else if err != nil {
		return response{err: err}
	}
	tags, err := w.tagsOf(ctx, seq)
	if err != nil {
		return response{err: err}
	}
	newTags := slices.Clone(tags)
	for _, t := range p.AddTags {
		if !slices.Contains(newTags, t) {
			newTags = append(newTags, t)
		}
	}
	newTags = slices.DeleteFunc(newTags, func(t string) bool { return slices.Contains(p.RemoveTags, t) })
	slices.Sort(newTags)
	if len(newTags) > MaxTags {
		return response{err: invalid("tags", "the memory would have %d tags; it may have at most %d", len(newTags), MaxTags)}
	}
	newText := text
	if p.Text != nil {
		newText = *p.Text
	}
	if newText != text || !slices.Equal(newTags, tags) {
		var project string
		row, err := w.queryRow(ctx, "SELECT project FROM memories WHERE seq = ?", seq)
		if err != nil {
			return response{err: err}
		}
		if err := row.Scan(&project); err != nil {
			return response{err: err}
		}
		// Never before created_at (an import from a clock ahead, or this
		// clock stepped back): export and import hold them to that order.
		if _, err := w.exec(ctx, "UPDATE memories SET text = ?, hash = ?, updated_at = max(?, created_at) WHERE seq = ?",
			newText, contentHash(project, newTags, newText), nowMs, seq); err != nil {
			return response{err: err}
		}
		for _, t := range p.RemoveTags {
			if _, err := w.exec(ctx, "DELETE FROM tags WHERE seq = ? AND tag = ?", seq, t); err != nil {
				return response{err: err}
			}
		}
		for _, t := range p.AddTags {
			if slices.Contains(p.RemoveTags, t) {
				continue
			}
			if _, err := w.exec(ctx, "INSERT OR IGNORE INTO tags(seq, tag) VALUES (?, ?)", seq, t); err != nil {
				return response{err: err}
			}
		}
	}
	st, err := w.stmt(ctx, selectMemory+" WHERE m.seq = ?")
	if err != nil {
		return response{err: err}
	}
	m, err := scanMemory(st.QueryRowContext(ctx, seq))
	if err != nil {
		return response{err: err}
	}
	res := response{mem: m}
	if newText != text || !slices.Equal(newTags, tags) {
		res.written = &m
	}
	return res
}

func (w *batchWriter) delete(ctx context.Context, id string) response {
	var gone goneMemory
	row, err := w.queryRow(ctx, "DELETE FROM memories WHERE id = ? RETURNING project, key, superseded_by", id)
	if err != nil {
		return response{err: err}
	}
	if err := row.Scan(&gone.project, &gone.key, &gone.supersededBy); errors.Is(err, sql.ErrNoRows) {
		return response{err: fmt.Errorf("delete %s: %w", id, ErrNotFound)}
	} else if err != nil {
		return response{err: err}
	}
	res := response{deleted: id}
	if !gone.supersededBy.Valid {
		res.delta = -1
	}
	res.revived, res.err = w.unsupersede(ctx, []goneMemory{gone})
	res.delta += int64(len(res.revived))
	return res
}

// goneMemory is what unsupersede needs of a deleted or purged memory.
type goneMemory struct {
	project      string
	key          sql.NullString
	supersededBy sql.NullString
}

// unsupersede mends the keys of memories just deleted or purged, so each
// still has one live memory if any of it is left: forgetting the newer
// memory of a key brings back the one it replaced, which would otherwise
// stay hidden behind an id that no longer exists. Per key, whatever points
// at a memory that is gone (or expired, waiting for the purge) is handed
// to the key's live memory (an expired one too, until the purge); with
// none left, the newest memory of the key that is not expired and not
// superseded by one that is still there becomes live. Worked out per key, not per gone memory, since a purge
// can take several of a chain at once, and imports older than a memory
// arrive superseded by it, several by the same one. It returns the
// memories that became live. Supersession is only ever by key, so the
// key's index finds them.
func (w *batchWriter) unsupersede(ctx context.Context, gone []goneMemory) ([]Memory, error) {
	type key struct{ project, key string }
	seen := map[key]bool{}
	var revived []Memory
	now := w.now.UnixMilli()
	const here = `EXISTS (SELECT 1 FROM memories s WHERE s.id = m.superseded_by AND (s.expires_at IS NULL OR s.expires_at > ?))`
	for _, g := range gone {
		k := key{g.project, g.key.String}
		if !g.key.Valid || seen[k] {
			continue
		}
		seen[k] = true
		var seq int64
		var id string
		live := true
		// A live one that has expired still counts until the purge takes
		// it (and mends the key again), as it does for put: skipping it
		// here would bring an older one back beside it.
		row, err := w.queryRow(ctx, `SELECT seq, id FROM memories m WHERE project = ? AND key = ? AND superseded_by IS NULL
			ORDER BY created_at DESC, seq DESC LIMIT 1`, k.project, k.key)
		if err != nil {
			return revived, err
		}
		if err := row.Scan(&seq, &id); errors.Is(err, sql.ErrNoRows) {
			live = false
		} else if err != nil {
			return revived, err
		}
		if !live {
			row, err := w.queryRow(ctx, `SELECT seq, id FROM memories m WHERE project = ? AND key = ?
				AND (expires_at IS NULL OR expires_at > ?) AND NOT `+here+`
				ORDER BY created_at DESC, seq DESC LIMIT 1`, k.project, k.key, now, now)
			if err != nil {
				return revived, err
			}
			if err := row.Scan(&seq, &id); errors.Is(err, sql.ErrNoRows) {
				continue // nothing of the key is left but what expired
			} else if err != nil {
				return revived, err
			}
			if _, err := w.exec(ctx, "UPDATE memories SET superseded_by = NULL WHERE seq = ?", seq); err != nil {
				return revived, err
			}
			sel, err := w.stmt(ctx, selectMemory+" WHERE m.seq = ?")
			if err != nil {
				return revived, err
			}
			mem, err := scanMemory(sel.QueryRowContext(ctx, seq))
			if err != nil {
				return revived, err
			}
			revived = append(revived, mem)
		}
		if _, err := w.exec(ctx, `UPDATE memories AS m SET superseded_by = ? WHERE project = ? AND key = ? AND seq != ?
			AND superseded_by IS NOT NULL AND NOT `+here, id, k.project, k.key, seq, now); err != nil {
			return revived, err
		}
	}
	return revived, nil
}

func (w *batchWriter) purge(ctx context.Context) response {
	st, err := w.stmt(ctx, `DELETE FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ?
		RETURNING project, key, superseded_by`)
	if err != nil {
		return response{err: err}
	}
	rows, err := st.QueryContext(ctx, w.now.UnixMilli())
	if err != nil {
		return response{err: err}
	}
	var res response
	var gone []goneMemory
	for rows.Next() {
		var g goneMemory
		if err := rows.Scan(&g.project, &g.key, &g.supersededBy); err != nil {
			rows.Close()
			return response{err: err}
		}
		if !g.supersededBy.Valid {
			res.delta--
		}
		gone = append(gone, g)
	}
	if res.err = errors.Join(rows.Err(), rows.Close()); res.err != nil {
		return res
	}
	res.revived, res.err = w.unsupersede(ctx, gone)
	res.delta += int64(len(res.revived))
	return res
}

// fakeFull is what the failCommit seam makes a commit return.
type fakeFull struct{}

func (*fakeFull) Error() string { return "database or disk is full (SQLITE_FULL, injected)" }

// isStorage reports whether err came from the disk rather than from the
// request: such an error fails the whole batch.
func isStorage(err error) bool {
	if errors.Is(err, ErrFull) {
		return true
	}
	var fe *fakeFull
	if errors.As(err, &fe) || errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// IsDamaged reports whether err is SQLite finding the store's file
// damaged (a malformed page or not a database at all), which no retry
// mends.
func IsDamaged(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_CORRUPT || c == sqlite3.SQLITE_NOTADB
}

// classify maps a full disk to ErrFull (keeping SQLite's words), and leaves
// every other error as it is.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrFull) {
		return err
	}
	full := errors.Is(err, syscall.ENOSPC)
	var fe *fakeFull
	if errors.As(err, &fe) {
		full = true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch {
		case se.Code()&0xff == sqlite3.SQLITE_FULL:
			full = true
		case se.Code()&0xff == sqlite3.SQLITE_IOERR &&
			bytes.Contains(bytes.ToLower([]byte(se.Error())), []byte("no space")):
			full = true
		}
	}
	if full {
		return fmt.Errorf("%w [%v]", ErrFull, err)
	}
	return err
}
