package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// maxTerms bounds the words of one recall: a pasted paragraph becomes a
// 32-way OR, not a 500-way one.
const maxTerms = 32

// stopWords are dropped from recall: they match nearly every memory and
// say nothing about which one is wanted. Made on first use, not at init:
// every `cairn` command links the store, and only the daemon recalls.
var stopWords = sync.OnceValue(func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be
		because been before being below between both but by can could did do does doing down during each
		few for from further had has have having he her here hers herself him himself his how i if in into
		is it its itself just me more most my myself no nor not now of off on once only or other our ours
		ourselves out over own same she should so some such than that the their theirs them themselves then
		there these they this those through to too under until up very was we were what when where which
		while who whom why will with would you your yours yourself yourselves`) {
		m[w] = struct{}{}
	}
	return m
})

// isWordRune is what unicode61 indexes as a token character: letters,
// numbers, private-use characters; marks too, so a decomposed accent stays
// inside its word (the tokenizer removes it).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.M, r)
}

// isJoiner: characters kept inside a word, so "prod-east", "node.js",
// "c++", "c#", "foo_bar", "o'neil", "a@b.c" and "src/x.go" stay one word.
// Quoted, such a word is an FTS5 phrase of its tokens ("prod" "east"
// adjacent), which is what the same text in a memory was indexed as.
func isJoiner(r rune) bool { return strings.ContainsRune("-+#._'@/&", r) }

// words splits the user's text into words: a word starts with a word
// character and runs through word characters and joiners; trailing joiners
// are dropped except '+' and '#' (c++, c#). Nothing else survives, so no
// FTS5 syntax (quotes, parentheses, *, ^, :, NEAR, column filters) can
// reach the MATCH expression except as text inside a quoted string.
func words(q string) []string {
	var out []string
	rs := []rune(q)
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && (isWordRune(rs[j]) || isJoiner(rs[j])) {
			j++
		}
		k := j
		for k > i && isJoiner(rs[k-1]) && rs[k-1] != '+' && rs[k-1] != '#' {
			k--
		}
		out = append(out, string(rs[i:k]))
		i = j
	}
	return out
}

// tokensOf splits a word as unicode61 does (on anything but word runes),
// lowercased, for the stop-word and common-term checks.
func tokensOf(w string) []string {
	return strings.FieldsFunc(strings.ToLower(w), func(r rune) bool { return !isWordRune(r) })
}

// matchExpr builds the MATCH expression for q: its words, each quoted as an
// FTS5 string, stop words and common terms dropped, duplicates folded,
// ORed. A word is dropped when every token of it is a stop word or (for
// common) very common. When only common terms remain they are kept: a
// search for a frequent word should still rank by it rather than fall back
// to newest-first. "" means no usable words: newest first.
func matchExpr[V any](q string, common map[string]V) string {
	expr, _ := matchWords(q, common)
	return expr
}

// matchWords is matchExpr that also returns the words it kept when every
// usable word was common (nil otherwise), for the recency window.
func matchWords[V any](q string, common map[string]V) (string, []string) {
	var kept, commonOnes []string
	seen := map[string]bool{}
	for _, w := range words(q) {
		lw := strings.ToLower(w)
		if seen[lw] {
			continue
		}
		seen[lw] = true
		toks := tokensOf(w)
		stop, frequent := true, true
		for _, t := range toks {
			if _, ok := stopWords()[t]; !ok {
				stop = false
				if _, ok := common[t]; !ok {
					frequent = false
				}
			}
		}
		switch {
		case len(toks) == 0 || stop:
		case frequent:
			commonOnes = append(commonOnes, w)
		default:
			kept = append(kept, w)
		}
	}
	all := len(kept) == 0
	if all {
		kept = commonOnes
	}
	if len(kept) > maxTerms {
		kept = kept[:maxTerms]
	}
	var onlyCommon []string
	if all {
		onlyCommon = kept
	}
	quoted := make([]string, len(kept))
	for i, w := range kept {
		quoted[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return strings.Join(quoted, " OR "), onlyCommon
}

// commonTerms is the common-term cache: each term in more than
// commonDocs(rows) memories, with its document count.
type commonTerms struct {
	docs map[string]int64
	rows int64 // memories (superseded ones too) when it was computed
}

// windowStart is the lowest seq of the first band a query of only common
// words ranks: every memory from there on, where about s.window
// (commonWindow) of them match (the words' document counts over the rows,
// as if spread evenly). 0 is no bound: the words match few enough
// memories to rank them all. Ranking tens of thousands by bm25 took 20-60
// ms, so the newest band is ranked first, and the older ones after it
// (nextBand) when a page needs more.
func (s *Store) windowStart(ctx context.Context, words []string, ct *commonTerms) (int64, error) {
	var docs int64
	for _, w := range words {
		d := int64(-1) // a phrase matches at most as often as its rarest token
		for _, t := range tokensOf(w) {
			if n, ok := ct.docs[t]; ok && (d < 0 || n < d) {
				d = n
			}
		}
		docs += max(d, 0)
	}
	if docs <= s.window {
		return 0, nil
	}
	last, err := s.lastSeq(ctx)
	if err != nil {
		return 0, err
	}
	return max(last-s.window*ct.rows/docs, 0), nil
}

// band is the seqs [W, E) a ranked page ranks among; E 0 is no upper
// bound (the query's horizon Z bounds it), W 0 no lower one.
type band struct{ W, E int64 }

// nextBand is the band of older memories after b, twice its span (the
// words' matches need not be spread evenly: they may all be old), and
// false after the band that reaches the first memory.
func nextBand(b band, z int64) (band, bool) {
	if b.W == 0 {
		return band{}, false
	}
	end := b.E
	if end == 0 {
		end = z + 1
	}
	span := max(end-b.W, 1)
	return band{W: max(b.W-2*span, 0), E: b.W}, true
}

// lastSeq is the newest memory's seq, 0 in an empty store.
func (s *Store) lastSeq(ctx context.Context) (int64, error) {
	st, err := s.rstmt(ctx, "SELECT coalesce(max(seq), 0) FROM memories")
	if err != nil {
		return 0, err
	}
	var last int64
	err = st.QueryRowContext(ctx).Scan(&last)
	return last, err
}

// cursor is the position after the last row of a page. Newest-first pages
// continue below (C, S) = (created_at, seq) of the last row, which stays
// exact while new rows arrive; ranked pages continue at offset O within
// the band [W, E) (for a query of only common words; the whole store
// otherwise), among the memories there were when the first page was asked
// for (seq <= Z), so a memory written meanwhile cannot push what the last
// page showed onto the next. H ties the cursor to the query that made it.
type cursor struct {
	C int64  `json:"c,omitempty"`
	S int64  `json:"s,omitempty"`
	O int    `json:"o,omitempty"`
	W int64  `json:"w,omitempty"` // the band's first seq, for a query of only common words
	E int64  `json:"e,omitempty"` // the seq past the band's last, 0 for the newest band
	Z int64  `json:"z,omitempty"` // the last seq a ranked query's pages consider
	H string `json:"h"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, hash string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 256 || json.Unmarshal(b, &c) != nil || c.O < 0 || c.W < 0 || c.E < 0 || c.Z < 0 || c.E > 0 && c.E <= c.W {
		return c, invalid("cursor", "is not a cursor this store gave out; pass next_cursor from the previous page unchanged")
	}
	if c.H != hash {
		return c, invalid("cursor", "belongs to a different query; a cursor only continues the query whose page returned it")
	}
	return c, nil
}

// queryHash is over the question as asked, not the MATCH expression made
// of it: which words count as common changes as memories are written, and
// a cursor must go on working across that.
func queryHash(q Query) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%d|%d|%t", q.Q, strings.Join(q.Tags, ","), q.Project,
		q.Since.UnixMilli(), q.Until.UnixMilli(), q.IncludeSuperseded)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// List returns a page of memories: ranked by bm25 when q.Q has usable
// words (ties by recency), newest first otherwise. Only a bad cursor,
// limit or tag is an error; user text never is.
func (s *Store) List(ctx context.Context, q Query) (Page, error) {
	if s.isClosed() {
		return Page{}, ErrClosed
	}
	switch {
	case q.Limit == 0:
		q.Limit = 20
	case q.Limit < 0 || q.Limit > 200:
		return Page{}, invalid("limit", "%d is out of range; use 1 to 200", q.Limit)
	}
	if q.MaxBytes < 0 {
		return Page{}, invalid("max_bytes", "is negative")
	}
	tags, err := normalizeTagsOf("tag", q.Tags)
	if err != nil {
		return Page{}, err
	}
	q.Tags = tags
	ct := s.common.Load()
	match, onlyCommon := matchWords(q.Q, ct.docs)
	hash := queryHash(q)
	var cur cursor
	if q.Cursor != "" {
		if cur, err = decodeCursor(q.Cursor, hash); err != nil {
			return Page{}, err
		}
	} else if match != "" {
		if cur.Z, err = s.lastSeq(ctx); err != nil {
			return Page{}, fmt.Errorf("list memories: %w", err)
		}
		if onlyCommon != nil {
			if cur.W, err = s.windowStart(ctx, onlyCommon, ct); err != nil {
				return Page{}, fmt.Errorf("list memories: %w", err)
			}
		}
	}

	var where []string
	args := []any{}
	where = append(where, "(m.expires_at IS NULL OR m.expires_at > ?)")
	args = append(args, s.now().UnixMilli())
	if !q.IncludeSuperseded {
		where = append(where, "m.superseded_by IS NULL")
	}
	if q.Project != "" {
		where = append(where, "m.project = ?")
		args = append(args, q.Project)
	}
	if !q.Since.IsZero() {
		where = append(where, "m.created_at >= ?")
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where = append(where, "m.created_at < ?")
		args = append(args, q.Until.UnixMilli())
	}
	if match != "" && cur.Z > 0 {
		where = append(where, "m.seq <= ?")
		args = append(args, cur.Z)
	}
	for _, t := range q.Tags {
		// EXISTS on the tags primary key, per candidate row: measured far
		// faster than "seq IN (SELECT ...)" for the planner.
		where = append(where, "EXISTS (SELECT 1 FROM tags t WHERE t.seq = m.seq AND t.tag = ?)")
		args = append(args, t)
	}

	var hits []hit
	if match == "" {
		if q.Cursor != "" {
			where = append(where, "(m.created_at, m.seq) < (?, ?)")
			args = append(args, cur.C, cur.S)
		}
		sqlText := selectMemory + " WHERE " + strings.Join(where, " AND ") +
			" ORDER BY m.created_at DESC, m.seq DESC LIMIT ?"
		hits, _, err = s.queryHits(ctx, sqlText, append(args, q.Limit+1), 0)
	} else {
		hits, err = s.rankedBands(ctx, match, band{cur.W, cur.E}, cur.Z, where, args, q.Limit, cur.O, len(q.Tags) > 0 || q.Project != "" || !q.Since.IsZero() || !q.Until.IsZero())
	}
	if err != nil {
		return Page{}, fmt.Errorf("list memories: %w", err)
	}
	page := Page{Memories: []Memory{}}
	var total int
	var last hit
	more := false
	for _, h := range hits {
		if len(page.Memories) == q.Limit {
			more = true
			break
		}
		if q.MaxBytes > 0 && len(page.Memories) > 0 && total+len(h.m.Text) > q.MaxBytes {
			page.Truncated, more = true, true
			break
		}
		total += len(h.m.Text)
		page.Memories = append(page.Memories, h.m)
		last = h
		if q.MaxBytes > 0 && total > q.MaxBytes {
			// The one memory a page always has is longer than the bound.
			page.Truncated = true
		}
	}
	if more {
		next := cursor{H: hash, Z: cur.Z}
		if match == "" {
			next.C, next.S = last.m.CreatedAt.UnixMilli(), last.seq
		} else {
			next.W, next.E, next.O = last.band.W, last.band.E, last.at+1
		}
		page.NextCursor = next.encode()
	}
	return page, nil
}

// hit is one row of a page: the memory, its seq and (ranked) its bm25,
// the band it was ranked in and its offset there.
type hit struct {
	m    Memory
	seq  int64
	r    float64
	band band
	at   int
}

// rankedBands returns up to limit+1 ranked matches from offset in band b
// on, going on into older bands (nextBand) while the page is not full:
// every match is listed once, the newest band's first, each band's by
// bm25. A band that yields too few rows is most often one the filters
// thin out, or words whose matches are all older than the first band's
// estimate.
func (s *Store) rankedBands(ctx context.Context, match string, b band, z int64, where []string, args []any, limit, offset int, filtered bool) ([]hit, error) {
	var all []hit
	for {
		need := limit - len(all)
		hits, err := s.ranked(ctx, match, b, where, args, need, offset, filtered)
		if err != nil {
			return nil, err
		}
		for i := range hits {
			hits[i].band, hits[i].at = b, offset+i
		}
		all = append(all, hits...)
		if len(hits) == need+1 {
			return all, nil
		}
		var ok bool
		if b, ok = nextBand(b, z); !ok {
			return all, nil
		}
		offset = 0
	}
}

// ranked returns up to limit+1 matches of match after offset that pass
// where, by bm25 then recency (created_at, seq, newest first), among the
// memories of band b.
//
// It first lets FTS5 rank alone: the best topSize(...) matches by (rank,
// rowid DESC) with no join, then joins only those to memories for the
// filters and the exact order. That page is the true one when every
// match was ranked, or when its last row ranks strictly better than the
// worst row kept (everything better than that was kept), or ties it while
// created_at never decreased with seq (meta.in_order: then rowid DESC is
// the recency order, and every tie that precedes the row was kept).
// Otherwise (filters left too few rows, or a tie at the edge in a store
// with imports) it runs the full query, which ranks and joins every match.
func (s *Store) ranked(ctx context.Context, match string, b band, where []string, args []any, limit, offset int, filtered bool) ([]hit, error) {
	cond := strings.Join(where, " AND ")
	window, ftsArgs := "", []any{match}
	if b.W > 0 {
		window, ftsArgs = window+" AND memories_fts.rowid >= ?", append(ftsArgs, b.W)
	}
	if b.E > 0 {
		window, ftsArgs = window+" AND memories_fts.rowid < ?", append(ftsArgs, b.E)
	}
	if s.schema >= 3 {
		n := topSize(offset+limit+1, filtered)
		sqlText := `WITH top AS MATERIALIZED (SELECT rowid AS seq, rank AS r FROM memories_fts
				WHERE memories_fts MATCH ?` + window + ` ORDER BY rank, rowid DESC LIMIT ?),
			hits AS (SELECT top.seq AS seq, top.r AS r FROM top JOIN memories m ON m.seq = top.seq
				WHERE ` + cond + ` ORDER BY top.r, m.created_at DESC, m.seq DESC LIMIT ? OFFSET ?)
			` + strings.Replace(selectMemory, "SELECT ", `SELECT (SELECT count(*) FROM top), (SELECT max(r) FROM top),
				(SELECT in_order FROM meta), hits.r, `, 1) + `
			JOIN hits ON hits.seq = m.seq ORDER BY hits.r, m.created_at DESC, m.seq DESC`
		a := append(append(append(ftsArgs, n), args...), limit+1, offset)
		hits, e, err := s.queryHits(ctx, sqlText, a, 3)
		if err != nil {
			return nil, err
		}
		switch {
		case len(hits) == 0:
			// Nothing passed the filters, or nothing matched: only the
			// full query can tell.
		case e.ranked < int64(n):
			return hits, nil
		case len(hits) == limit+1:
			last := hits[limit-1] // the last row shown; the one after only says there is more
			if last.r < e.edge || (last.r == e.edge && e.inOrder) {
				return hits, nil
			}
		}
	}
	where = append([]string{"memories_fts MATCH ?" + window}, where...)
	sqlText := `WITH hits AS (SELECT m.seq AS seq, bm25(memories_fts) AS r
		FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY r, m.created_at DESC, m.seq DESC LIMIT ? OFFSET ?)
		` + strings.Replace(selectMemory, "SELECT ", "SELECT hits.r, ", 1) + `
		JOIN hits ON hits.seq = m.seq ORDER BY hits.r, m.created_at DESC, m.seq DESC`
	hits, _, err := s.queryHits(ctx, sqlText, append(append(ftsArgs, args...), limit+1, offset), 1)
	return hits, err
}

// topSize is how many matches FTS5 ranks on its own for a page that needs
// need rows: enough that the filters rarely leave too few (a tag keeps
// about an eighth of the generated corpus, a project a fifth), few enough
// that joining them stays cheap.
func topSize(need int, filtered bool) int {
	if filtered {
		return need*16 + 64
	}
	return need*2 + 16
}

// edge is what the FTS5-ranked query says about the matches it kept.
type edge struct {
	ranked  int64   // matches kept
	edge    float64 // the worst rank kept
	inOrder bool    // meta.in_order
}

// queryHits runs a page query whose rows are selectMemory's columns after
// prefix leading ones: 0 (newest first), 1 (the rank) or 3 (the ranked
// count, the edge rank and in_order, then the rank).
func (s *Store) queryHits(ctx context.Context, sqlText string, args []any, prefix int) ([]hit, edge, error) {
	var e edge
	st, err := s.rstmt(ctx, sqlText)
	if err != nil {
		return nil, e, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, e, err
	}
	defer rows.Close()
	var hits []hit
	for rows.Next() {
		var h hit
		var pre []any
		switch prefix {
		case 1:
			pre = []any{&h.r}
		case 3:
			pre = []any{&e.ranked, &e.edge, &e.inOrder, &h.r}
		}
		h.m, h.seq, err = scanMemorySeq(prefixScanner{rows, pre})
		if err != nil {
			return nil, e, err
		}
		if prefix > 0 {
			h.m.Score = -h.r
		}
		hits = append(hits, h)
	}
	return hits, e, rows.Err()
}

// prefixScanner scans a row whose first columns are pre.
type prefixScanner struct {
	sc  scanner
	pre []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.sc.Scan(append(p.pre, dest...)...)
}
