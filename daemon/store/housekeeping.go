package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Housekeeping intervals. The writer considers a checkpoint after every
// batch (a stat of the WAL); the rest is periodic or waits for an idle store.
const (
	purgeEvery       = time.Minute
	commonEvery      = 10 * time.Minute
	commonWrites     = 1000        // at least this many writes between refreshes of the common terms
	commonMinRows    = 1000        // below this every term is worth searching
	commonPercent    = 5           // a term in more than this % of memories is "common",
	commonMaxDocs    = 1000        // or in more than this many
	commonWindow     = 2000        // about how many matches a query of only common terms ranks
	commonFirstAfter = time.Second // the first scan, after Open
	walBusy          = 200         // ms a checkpoint waits for readers before it gives up until the next batch
)

// optimizeIdleFor is how long the store is idle after writes before
// housekeeping merges the FTS index and gives the WAL's space back. A
// variable for tests.
var optimizeIdleFor = 5 * time.Minute

// housekeeping purges expired memories, refreshes the common-term cache,
// and merges the FTS index and checkpoints the WAL when the store is idle.
// Writes go through the writer like any other; the idle checkpoint runs
// on its own connection.
func (s *Store) housekeeping() {
	defer close(s.hdone)
	ctx := s.hctx
	purge := time.NewTicker(purgeEvery)
	defer purge.Stop()
	idle := time.NewTimer(optimizeIdleFor)
	defer idle.Stop()
	// The first common-term scan waits a moment: it is ~200 ms of CPU at
	// 100,000 memories, which at Open competed with the daemon's own start
	// for the CPUs. Until it runs, recall keeps every word (right answers,
	// a slower query for very common ones).
	first := time.NewTimer(commonFirstAfter)
	defer first.Stop()
	lastCommon := time.Now()
	dirty := false
	for {
		select {
		case <-s.hquit:
			return
		case <-s.kick:
			if s.sinceCommon.Load() >= commonRefreshAfter(s.count.Load()) || time.Since(lastCommon) > commonEvery {
				s.refreshCommon(ctx)
				lastCommon = time.Now()
			}
			dirty = true
			idle.Reset(optimizeIdleFor)
		case <-first.C:
			s.refreshCommon(ctx)
			lastCommon = time.Now()
		case <-purge.C:
			s.send(ctx, &request{kind: opPurge})
		case <-idle.C:
			if dirty {
				s.send(ctx, &request{kind: opOptimize})
				s.idleCheckpoint(ctx)
				dirty = false
			}
		}
	}
}

// idleCheckpoint copies the whole WAL into the database and truncates it,
// on a connection opened for it: the writer can take new writes meanwhile,
// and no connection is kept open (and opened while the daemon starts) for
// a job done once per idle spell.
func (s *Store) idleCheckpoint(ctx context.Context) {
	db, err := sql.Open("sqlite", dsn(s.path, false))
	if err != nil {
		s.log.Warn("memory store: open a connection for the idle checkpoint", "err", err)
		return
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Opened by name, it fails on a store moved away (dsnName's mode=rw).
	conn, err := db.Conn(ctx)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return
	case isMissing(s.path):
		s.log.Warn("memory store: the database file was moved or deleted while the daemon runs; no idle checkpoint (restart the daemon to open it again)", "path", s.path, "err", err)
		return
	default:
		s.log.Warn("memory store: open a connection for the idle checkpoint", "err", err)
		return
	}
	defer conn.Close()
	s.checkpoint(ctx, conn, busyTimeout, ckRelease, nil)
}

func isMissing(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, os.ErrNotExist)
}

// ckMode says what a checkpoint is for.
type ckMode int

const (
	// ckLoad: the writer, between batches, once the WAL holds walThreshold
	// bytes not yet copied. RESTART, not TRUNCATE: the file keeps its size
	// and the next commits overwrite it from the start. A commit that grows
	// the file makes its fsync commit the file system's journal as well
	// (the new size); measured here, commits into a reused WAL were about
	// 1.6× as fast as into one truncated after every checkpoint.
	ckLoad ckMode = iota
	// ckRelease: idle, closing, or after a full disk: copy everything and
	// truncate the WAL to zero bytes, giving its space back.
	ckRelease
)

// checkpoint copies the WAL into the database on conn (see ckMode) and
// lets it start over from its first frame, waiting
// at most walBusy for readers; connBusy is conn's usual timeout. Under load
// the writer runs it itself between batches (writer.go): it then holds no
// transaction, so nothing but readers that began before the copy finished
// can hold it up, and each waits at most walBusy. A checkpoint on another
// connection never caught up with a busy writer (the WAL reached 144 MB in
// 5 s of 8 writers). Housekeeping runs the idle one on its own connection.
// noop, when not nil, is "PRAGMA wal_checkpoint(NOOP)" prepared on conn
// (the writer asks after every batch).
func (s *Store) checkpoint(ctx context.Context, conn *sql.Conn, connBusy int, mode ckMode, noop *sql.Stmt) {
	// NOOP only reads the WAL's header: the frames in use (the next write
	// starts over from the first once they are all copied and no reader
	// needs them). A reused WAL file is as large as it ever was, so its
	// size no longer says how much of it is in use.
	var busy, frames, copied int64
	var row *sql.Row
	if noop != nil {
		row = noop.QueryRowContext(ctx)
	} else {
		row = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(NOOP)")
	}
	if err := row.Scan(&busy, &frames, &copied); err != nil {
		s.log.Warn("memory store: read the WAL's size", "err", err)
		return
	}
	switch {
	case mode == ckLoad && frames*s.pageSize < walThreshold:
		return
	case mode == ckRelease && frames == 0 && fileSize(s.path+"-wal") == 0:
		return
	}
	pragma := "PRAGMA wal_checkpoint(RESTART)"
	if mode == ckRelease {
		pragma = "PRAGMA wal_checkpoint(TRUNCATE)"
	}
	before := frames
	_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", walBusy))
	if err == nil {
		err = conn.QueryRowContext(ctx, pragma).Scan(&busy, &frames, &copied)
		_, e := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", connBusy))
		err = errors.Join(err, e)
	}
	if err != nil {
		s.log.Warn("memory store: WAL checkpoint failed; the next batch retries", "err", err)
	}
	// In use after it: nothing, unless a reader kept the WAL from
	// starting over (busy), when all of it still is.
	left := int64(0)
	if err != nil || busy != 0 {
		left = frames
	}
	s.log.Debug("memory store: WAL checkpoint", "frames", before, "left", left, "busy", busy)
	if s.onCheckpoint != nil {
		s.onCheckpoint(before*s.pageSize, left*s.pageSize)
	}
}

// commonRefreshAfter is how many writes pass between refreshes of the
// common terms with n live memories: a quarter of the store, at least
// commonWrites. Reading memories_vocab walks the whole index (~200 ms at
// 100,000 memories), so a fixed 1,000 meant several walks a second under
// load, while a term's share of the store moves little until the store
// grows by a good fraction.
func commonRefreshAfter(n int64) int64 { return max(commonWrites, n/4) }

// refreshCommon recomputes the common terms (commonDocs, from the
// fts5vocab table) with their document counts, once there are enough
// memories for the share to mean something.
func (s *Store) refreshCommon(ctx context.Context) {
	s.sinceCommon.Store(0)
	var total int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM memories").Scan(&total); err != nil {
		if ctx.Err() != nil {
			return // closing
		}
		s.log.Warn("memory store: count memories for the common terms", "err", err)
		return
	}
	ct := &commonTerms{docs: map[string]int64{}, rows: total}
	if total >= commonMinRows {
		rows, err := s.rdb.QueryContext(ctx, "SELECT term, doc FROM memories_vocab WHERE doc > ?", commonDocs(total))
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("memory store: read the common terms", "err", err)
			}
			return
		}
		for rows.Next() {
			var t string
			var n int64
			if rows.Scan(&t, &n) == nil {
				ct.docs[t] = n
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("memory store: read the common terms", "err", err)
			}
			return // a part of them would not be the common terms
		}
	}
	s.common.Store(ct)
}

// commonDocs is the document count above which a term is common with
// total memories: commonPercent of them, but never more than
// commonMaxDocs, so the posting lists a query ranks stay bounded however
// large the store grows (terms just under 5% of 100,000 memories made
// 5-word questions rank 15,000 matches).
func commonDocs(total int64) int64 { return min(total*commonPercent/100, commonMaxDocs) }
