package store

import (
	"context"
	"time"
)

// Housekeeping intervals. A checkpoint is considered after every commit (a
// stat of the WAL); the rest is periodic or waits for an idle store.
const (
	purgeEvery      = time.Minute
	commonEvery     = 10 * time.Minute
	commonWrites    = 1000 // writes between refreshes of the common terms
	commonMinRows   = 1000 // below this every term is worth searching
	commonPercent   = 5    // a term in more than this % of memories is "common"
	optimizeIdleFor = 5 * time.Minute
)

// housekeeping keeps the WAL small, purges expired memories, refreshes
// the common-term cache and merges the FTS index when the store is idle.
// Writes go through the writer like any other; the checkpoint runs on its
// own connection so it never holds the writer.
func (s *Store) housekeeping() {
	defer close(s.hdone)
	ctx := context.Background()
	purge := time.NewTicker(purgeEvery)
	defer purge.Stop()
	idle := time.NewTimer(optimizeIdleFor)
	defer idle.Stop()
	s.refreshCommon(ctx)
	lastCommon := time.Now()
	dirty := false
	for {
		select {
		case <-s.hquit:
			return
		case <-s.kick:
			s.checkpoint(ctx, s.forceCheckpoint.Swap(false))
			if s.sinceCommon.Load() >= commonWrites || time.Since(lastCommon) > commonEvery {
				s.refreshCommon(ctx)
				lastCommon = time.Now()
			}
			dirty = true
			idle.Reset(optimizeIdleFor)
		case <-purge.C:
			s.send(ctx, &request{kind: opPurge})
		case <-idle.C:
			if dirty {
				s.send(ctx, &request{kind: opOptimize})
				s.checkpoint(ctx, true)
				dirty = false
			}
		}
	}
}

// checkpoint copies the WAL into the database once it passes walThreshold
// (or always, when idle): PASSIVE first, which never waits, then TRUNCATE,
// which resets the file to zero bytes if no reader still needs it. Without
// this the WAL grew to 59 MB in 10 s of writes.
func (s *Store) checkpoint(ctx context.Context, idle bool) {
	before := fileSize(s.path + "-wal")
	if before == 0 || (!idle && before < walThreshold) {
		return
	}
	s.hmu.Lock()
	for _, mode := range []string{"PASSIVE", "TRUNCATE"} {
		var busy, logFrames, done int64
		err := s.hconn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &done)
		if err != nil {
			s.log.Warn("memory store: WAL checkpoint failed; the next commit retries", "mode", mode, "err", err)
			break
		}
	}
	s.hmu.Unlock()
	after := fileSize(s.path + "-wal")
	s.log.Debug("memory store: WAL checkpoint", "before", before, "after", after)
	if s.onCheckpoint != nil {
		s.onCheckpoint(before, after)
	}
}

// refreshCommon recomputes the terms found in more than commonPercent of
// memories (from the fts5vocab table), once there are enough memories for
// the share to mean something.
func (s *Store) refreshCommon(ctx context.Context) {
	s.sinceCommon.Store(0)
	var total int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM memories").Scan(&total); err != nil {
		s.log.Warn("memory store: count memories for the common terms", "err", err)
		return
	}
	common := map[string]struct{}{}
	if total >= commonMinRows {
		rows, err := s.rdb.QueryContext(ctx, "SELECT term FROM memories_vocab WHERE doc > ?", total*commonPercent/100)
		if err != nil {
			s.log.Warn("memory store: read the common terms", "err", err)
			return
		}
		for rows.Next() {
			var t string
			if rows.Scan(&t) == nil {
				common[t] = struct{}{}
			}
		}
		rows.Close()
	}
	s.common.Store(&common)
}
