package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func fromMs(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// selectMemory reads every column of a memory; its tags come in one string
// (tags contain no spaces) so a page costs one query.
const selectMemory = `SELECT m.seq, m.id, m.text, m.project, m.source, m.key, m.expires_at,
	m.created_at, m.updated_at, m.superseded_by,
	(SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.seq = m.seq)
	FROM memories m`

type scanner interface{ Scan(dest ...any) error }

func scanMemory(row scanner, extra ...any) (Memory, error) {
	m, _, err := scanMemorySeq(row, extra...)
	return m, err
}

func scanMemorySeq(row scanner, extra ...any) (Memory, int64, error) {
	var m Memory
	var seq, created, updated int64
	var key, super, tags sql.NullString
	var expires sql.NullInt64
	dest := append([]any{&seq, &m.ID, &m.Text, &m.Project, &m.Source, &key, &expires,
		&created, &updated, &super, &tags}, extra...)
	if err := row.Scan(dest...); err != nil {
		return m, 0, err
	}
	m.Key, m.SupersededBy = key.String, super.String
	m.CreatedAt, m.UpdatedAt = fromMs(created), fromMs(updated)
	if expires.Valid {
		t := fromMs(expires.Int64)
		m.ExpiresAt = &t
	}
	m.Tags = []string{}
	if tags.String != "" {
		m.Tags = strings.Split(tags.String, " ")
		slices.Sort(m.Tags)
	}
	return m, seq, nil
}

// readStmts caches prepared reader statements by their SQL; the set is
// small (one per combination of List's filters).
type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (s *Store) rstmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.rs.mu.Lock()
	defer s.rs.mu.Unlock()
	if st, ok := s.rs.m[q]; ok {
		return st, nil
	}
	st, err := s.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.rs.m == nil {
		s.rs.m = map[string]*sql.Stmt{}
	}
	s.rs.m[q] = st
	return st, nil
}

// Get returns the memory with id, superseded or not; an expired one is
// ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Memory, error) {
	if s.isClosed() {
		return Memory{}, ErrClosed
	}
	st, err := s.rstmt(ctx, selectMemory+" WHERE m.id = ? AND (m.expires_at IS NULL OR m.expires_at > ?)")
	if err != nil {
		return Memory{}, fmt.Errorf("get memory %s: %w", id, err)
	}
	m, err := scanMemory(st.QueryRowContext(ctx, strings.ToUpper(id), s.now().UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return Memory{}, fmt.Errorf("get memory %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Memory{}, fmt.Errorf("get memory %s: %w", id, err)
	}
	return m, nil
}

// Tags counts the tags of live memories, most used first.
func (s *Store) Tags(ctx context.Context) ([]TagCount, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	st, err := s.rstmt(ctx, `SELECT t.tag, count(*) FROM tags t JOIN memories m ON m.seq = t.seq
		WHERE m.superseded_by IS NULL AND (m.expires_at IS NULL OR m.expires_at > ?)
		GROUP BY t.tag ORDER BY count(*) DESC, t.tag`)
	if err != nil {
		return nil, fmt.Errorf("count tags: %w", err)
	}
	rows, err := st.QueryContext(ctx, s.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("count tags: %w", err)
	}
	defer rows.Close()
	out := []TagCount{}
	for rows.Next() {
		var tc TagCount
		if err := rows.Scan(&tc.Tag, &tc.Count); err != nil {
			return nil, fmt.Errorf("count tags: %w", err)
		}
		out = append(out, tc)
	}
	return out, rows.Err()
}

// Stats counts live memories and their bytes (a scan: not for every
// request; Count is the cheap one) and sizes the files.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	if s.isClosed() {
		return Stats{}, ErrClosed
	}
	var st Stats
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(octet_length(text)), 0) FROM memories
		WHERE superseded_by IS NULL AND (expires_at IS NULL OR expires_at > ?)`, s.now().UnixMilli()).Scan(&st.Count, &st.Bytes)
	if err != nil {
		return Stats{}, fmt.Errorf("memory store stats: %w", err)
	}
	if ms := s.lastWrite.Load(); ms != 0 {
		t := fromMs(ms)
		st.LastWrite = &t
	}
	st.DBBytes = fileSize(s.path)
	st.WALBytes = fileSize(s.path + "-wal")
	st.Commits, st.Writes = s.commits.Load(), s.writes.Load()
	return st, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Check runs SQLite's integrity check and the FTS index's own (which, with
// rank 1, also compares the index with the memories it indexes), on a
// fresh connection: FTS5's integrity check uses the segment structure the
// connection's last query cached, without the refresh a query does, so on
// a pooled reader a merge since then looked like corruption
// (docs/ARCHITECTURE.md, "The stale reader, explained").
func (s *Store) Check(ctx context.Context) error {
	if s.isClosed() {
		return ErrClosed
	}
	db, err := sql.Open("sqlite", dsn(s.path, false))
	if err != nil {
		return fmt.Errorf("check the memory store: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("check the memory store: %w", err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return fmt.Errorf("check the memory store: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("check the memory store: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check the memory store %s: the database is damaged: %s; restore it from an export or backup", s.path, strings.Join(problems, "; "))
	}
	if _, err = db.ExecContext(ctx, "INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		return fmt.Errorf("check the memory store %s: the search index is damaged (%w); it can be rebuilt from the memories", s.path, err)
	}
	return nil
}

// Export calls fn with every unexpired memory, superseded ones too, oldest
// first: the order in which Put with IDs re-creates the same store
// (supersession by key included). It reads in pages, so fn may be slow
// without holding a snapshot open.
func (s *Store) Export(ctx context.Context, fn func(Memory) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	st, err := s.rstmt(ctx, selectMemory+` WHERE (m.expires_at IS NULL OR m.expires_at > ?)
		AND (m.created_at, m.seq) > (?, ?) ORDER BY m.created_at, m.seq LIMIT 500`)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var lastC, lastS int64 = -1 << 62, 0
	for {
		rows, err := st.QueryContext(ctx, s.now().UnixMilli(), lastC, lastS)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		var page []Memory
		for rows.Next() {
			m, seq, err := scanMemorySeq(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("export: %w", err)
			}
			page = append(page, m)
			lastC, lastS = m.CreatedAt.UnixMilli(), seq
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, m := range page {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(page) < 500 {
			return nil
		}
	}
}
