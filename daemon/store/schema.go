package store

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cairnlabs/cairn/daemon/safefile"
)

// migrations are applied in order, each in its own transaction that also
// sets PRAGMA user_version to its number, so a crash mid-migration leaves
// the previous version intact. Never edit a shipped step: add a new one.
var migrations = []string{
	// 1: the tables. Times are Unix milliseconds. hash is the first 16 bytes
	// of SHA-256 over project, sorted tags and text (see contentHash): enough
	// to find exact-duplicate candidates, which are then compared in full.
	1: `
CREATE TABLE memories(
	seq           INTEGER PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
	text          TEXT NOT NULL,
	project       TEXT NOT NULL DEFAULT '',
	source        TEXT NOT NULL DEFAULT '',
	key           TEXT,
	expires_at    INTEGER,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	superseded_by TEXT,
	hash          BLOB
);
CREATE TABLE tags(
	seq INTEGER NOT NULL REFERENCES memories(seq) ON DELETE CASCADE,
	tag TEXT NOT NULL,
	PRIMARY KEY(tag, seq)
) WITHOUT ROWID;
CREATE INDEX tags_by_seq ON tags(seq, tag);
CREATE INDEX memories_by_key ON memories(project, key) WHERE key IS NOT NULL;
CREATE INDEX memories_by_time ON memories(created_at, seq);
CREATE INDEX memories_by_hash ON memories(hash);
CREATE INDEX memories_by_expiry ON memories(expires_at) WHERE expires_at IS NOT NULL;
`,
	// 2: full-text search. External content (the text lives once, in
	// memories), rowid = seq, kept in sync by triggers. remove_diacritics 2
	// makes "café" match "cafe". The vocab table gives document frequencies
	// for the common-term cutoff. 'rebuild' indexes rows a v1 database holds.
	2: `
CREATE VIRTUAL TABLE memories_fts USING fts5(
	text, content='memories', content_rowid='seq',
	tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE memories_vocab USING fts5vocab(memories_fts, 'row');
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
	INSERT INTO memories_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
	INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
	INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
	INSERT INTO memories_fts(rowid, text) VALUES (new.seq, new.text);
END;
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
`,
	// 3: what Open needs without scanning memories, kept by triggers so
	// every path that changes memories (put, supersede, update, delete,
	// purge, import) keeps it exact: live = count of live (not superseded)
	// rows; last_write = max(updated_at) ever written; max_created and
	// in_order say whether created_at never decreased with seq, which lets
	// recall trust FTS5's rowid order as its recency tie-break (recall.go).
	// The first values come from one scan here.
	3: `
CREATE TABLE meta(
	one         INTEGER PRIMARY KEY CHECK (one = 1),
	live        INTEGER NOT NULL,
	last_write  INTEGER NOT NULL,
	max_created INTEGER NOT NULL,
	in_order    INTEGER NOT NULL
);
INSERT INTO meta(one, live, last_write, max_created, in_order)
	SELECT 1, count(*) FILTER (WHERE superseded_by IS NULL), coalesce(max(updated_at), 0),
		coalesce(max(created_at), 0),
		NOT EXISTS (SELECT 1 FROM (SELECT created_at AS c, lag(created_at) OVER (ORDER BY seq) AS p FROM memories) WHERE c < p)
	FROM memories;
CREATE TRIGGER meta_insert AFTER INSERT ON memories BEGIN
	UPDATE meta SET live = live + (new.superseded_by IS NULL),
		last_write = max(last_write, new.updated_at),
		in_order = in_order AND new.created_at >= max_created,
		max_created = max(max_created, new.created_at);
END;
CREATE TRIGGER meta_delete AFTER DELETE ON memories BEGIN
	UPDATE meta SET live = live - (old.superseded_by IS NULL);
END;
CREATE TRIGGER meta_supersede AFTER UPDATE OF superseded_by ON memories BEGIN
	UPDATE meta SET live = live + (new.superseded_by IS NULL) - (old.superseded_by IS NULL);
END;
CREATE TRIGGER meta_touch AFTER UPDATE OF updated_at ON memories BEGIN
	UPDATE meta SET last_write = max(last_write, new.updated_at);
END;
`,
	// 4: new memories are indexed by the writer (ftsInsert), not by a
	// trigger: a statement with a trigger runs in a statement savepoint, and
	// FTS5 writes its pending entries out as a new segment at every
	// savepoint, so each memory of a batch became a segment of its own to
	// merge. The writer indexes a batch's memories together, just before
	// the commit. The update and delete triggers stay.
	4: `
DROP TRIGGER memories_fts_insert;
`,
}

// schemaWriterIndexes is the first schema whose writer adds new memories
// to memories_fts itself (migration 4).
const schemaWriterIndexes = 4

// SchemaVersion is the schema this binary writes.
var SchemaVersion = len(migrations) - 1

// emptyStore is a new, empty store at SchemaVersion, as the migrations make
// it (TestEmptyStoreIsTheMigrations checks; `go test ./daemon/store -run
// TestEmptyStoreIsTheMigrations -update` writes it again after a schema
// change). A new store is a copy of it.
//
//go:embed empty.db
var emptyStore []byte

// migrate brings the database on conn up to target. A database newer than
// this binary is ErrTooNew: never downgraded, never touched.
func migrate(ctx context.Context, conn *sql.Conn, target int) (err error) {
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w (schema version %d, this binary knows up to %d)", ErrTooNew, v, SchemaVersion)
	}
	if v >= target {
		return nil
	}
	// Every pending step in one transaction: an upgrade happens whole or
	// not at all, and a new store costs one fsync, not one a step.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for n := v + 1; n <= target; n++ {
		if _, err := conn.ExecContext(ctx, migrations[n]); err != nil {
			return fmt.Errorf("migrate the database from schema version %d to %d: %w", n-1, n, err)
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", target)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// CheckHeader reads the database file's header without opening the
// database (microseconds, where Open costs the daemon milliseconds): the
// schema version (its user_version field), and the page count against the
// file's size. The daemon asks it before it serves, so a database written
// by a newer Cairn (ErrTooNew), a file that is not a database or one cut
// short (ErrCutShort) refuses the start before anyone is told the daemon
// is ready; Open, after the daemon serves, still checks in full
// (the header can lag a newer Cairn's migration that is only in the WAL).
// A missing or empty file is a new store: nil, unless a write-ahead log
// is left where it was (ErrOrphanWAL).
func CheckHeader(path string) error {
	f, err := safefile.Open(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return checkOrphanWAL(path)
	}
	if err != nil {
		return fmt.Errorf("open the memory store %s: %w", path, err)
	}
	defer f.Close()
	var hdr [100]byte
	n, err := io.ReadFull(f, hdr[:])
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil // created, never written: Open makes the schema
	case err != nil:
		return fmt.Errorf("open the memory store %s: %d bytes is not a SQLite database header: %w", path, n, err)
	case string(hdr[:16]) != "SQLite format 3\x00":
		return fmt.Errorf("open the memory store %s: the file is not a SQLite database", path)
	}
	if v := int(binary.BigEndian.Uint32(hdr[60:64])); v > SchemaVersion {
		return fmt.Errorf("%w (schema version %d, this binary knows up to %d)", ErrTooNew, v, SchemaVersion)
	}
	// A file cut short (a copy that did not finish, a damaged disk) keeps
	// its header, whose page count, when valid (the version-valid-for
	// number matches the change counter), says how long it must be. With
	// frames in the WAL the file may lag its header for a moment (a
	// checkpoint writes page 1 first) and SQLite completes it from the
	// WAL, so then the check is Open's.
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(hdr[28:32]))
	if binary.BigEndian.Uint32(hdr[92:96]) == binary.BigEndian.Uint32(hdr[24:28]) && fileSize(path+"-wal") == 0 {
		if fi, err := f.Stat(); err == nil && fi.Size() < pages*pageSize {
			return fmt.Errorf("open the memory store %s: %w: the file is %d bytes, but its header says %d pages of %d bytes (a copy that did not finish, or a damaged disk)",
				path, ErrCutShort, fi.Size(), pages, pageSize)
		}
	}
	return nil
}
