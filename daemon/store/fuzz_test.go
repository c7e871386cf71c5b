package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// FuzzMatchExpr: the query builder's output is only quoted strings joined
// by " OR ", each the quoting of one word of the input, with no FTS5
// syntax outside the quotes; and SQLite accepts it as a MATCH expression.
func FuzzMatchExpr(f *testing.F) {
	for _, q := range nastyQueries {
		f.Add(q)
	}
	s := openTest(f, Options{})
	mustPut(f, s, NewMemory{Text: "deploy prod-east with node.js"})
	f.Fuzz(func(t *testing.T, q string) {
		expr := matchExpr[struct{}](q, nil)
		if expr == "" {
			return
		}
		ws := words(q)
		for _, part := range splitOr(t, expr) {
			if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' {
				t.Fatalf("%q: part %q of %q is not one quoted string", q, part, expr)
			}
			inner := part[1 : len(part)-1]
			if strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
				t.Fatalf("%q: part %q has an unescaped quote", q, part)
			}
			w := strings.ReplaceAll(inner, `""`, `"`)
			if !slices.ContainsFunc(ws, func(x string) bool { return strings.EqualFold(x, w) }) {
				t.Fatalf("%q: %q is not one of its words %q", q, w, ws)
			}
		}
		var n int
		if err := s.rdb.QueryRowContext(t.Context(), "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", expr).Scan(&n); err != nil {
			t.Fatalf("%q: MATCH %q: %v", q, expr, err)
		}
	})
}

// splitOr splits a match expression at the " OR " between quoted strings
// (not inside them).
func splitOr(t *testing.T, expr string) []string {
	var parts []string
	in, start := false, 0
	for i := 0; i < len(expr); i++ {
		switch {
		case expr[i] == '"':
			in = !in // "" inside a string toggles twice
		case !in && strings.HasPrefix(expr[i:], " OR "):
			parts = append(parts, expr[start:i])
			i += 3
			start = i + 1
		case !in:
			t.Fatalf("%q: %q outside a quoted string", expr, expr[i])
		}
	}
	return append(parts, expr[start:])
}

// FuzzRecallFindsItsText: a stored memory is found by its own text (when
// that text has a word that is not a stop word), on the first page of a
// query scoped to a project of its own.
func FuzzRecallFindsItsText(f *testing.F) {
	for _, q := range nastyQueries {
		f.Add(q)
	}
	for _, q := range []string{"deploy prod-east", "c++ toolchain", "café", "CAFÉ", "e\u0301", "o'neil", "a@b.c", "src/x.go", "ＡＢＣ"} {
		f.Add(q)
	}
	s := openTest(f, Options{})
	ctx := context.Background()
	n := 0
	f.Fuzz(func(t *testing.T, text string) {
		n++
		project := fmt.Sprintf("p%d", n)
		res, err := s.Put(ctx, NewMemory{Text: text, Project: project, AllowSecret: true})
		var ve *ValidationError
		if errors.As(err, &ve) {
			if ve.Field != "text" {
				t.Fatalf("Put(%q) refused %q; only the text can be wrong", text, ve.Field)
			}
			return
		}
		if err != nil {
			t.Fatalf("Put(%q): %v", text, err)
		}
		p, err := s.List(ctx, Query{Q: text, Project: project, Limit: 5})
		if err != nil {
			t.Fatalf("List(%q): %v", text, err)
		}
		if !hasIndexedToken(text) {
			return
		}
		if len(p.Memories) == 0 || p.Memories[0].ID != res.ID {
			t.Fatalf("List(%q) in its own project = %+v; want %s (match %q)", text, p.Memories, res.ID, matchExpr[struct{}](text, nil))
		}
	})
}

// hasIndexedToken: text has a word with a token that is not a stop word
// and has a letter or digit (unicode61 keeps it, remove_diacritics does not
// strip it to nothing).
func hasIndexedToken(text string) bool {
	for _, w := range words(text) {
		for _, tok := range tokensOf(w) {
			if _, stop := stopWords()[tok]; stop {
				continue
			}
			if strings.IndexFunc(tok, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
				return true
			}
		}
	}
	return false
}

// FuzzCursor: a cursor with the right query hash but any position (what
// a client could forge from one it was given) is a page or a cursor
// error, never a failure of the store.
func FuzzCursor(f *testing.F) {
	f.Add("deploy", int64(0), int64(0), 0, int64(0), int64(0))
	f.Add("", int64(1<<62), int64(-1), 0, int64(0), int64(0))
	f.Add("deploy", int64(0), int64(0), 1<<62, int64(0), int64(0))
	f.Add("deploy", int64(0), int64(0), int(^uint(0)>>1), int64(0), int64(0))
	f.Add("deploy", int64(0), int64(0), -1, int64(-1), int64(0))
	f.Add("deploy", int64(0), int64(0), 3, int64(1<<62), int64(0))
	f.Add("deploy", int64(0), int64(0), 3, int64(0), int64(5))
	f.Add("deploy", int64(0), int64(0), 3, int64(0), int64(-1))
	f.Add("deploy", int64(0), int64(0), 3, int64(0), int64(1<<62))
	s := openTest(f, Options{})
	ctx := context.Background()
	for i := range 30 {
		mustPut(f, s, NewMemory{Text: fmt.Sprintf("deploy note %d", i)})
	}
	f.Fuzz(func(t *testing.T, q string, c, seq int64, o int, w, z int64) {
		query := Query{Q: q, Limit: 3}
		query.Cursor = cursor{C: c, S: seq, O: o, W: w, Z: z, H: queryHash(query)}.encode()
		p, err := s.List(ctx, query)
		var ve *ValidationError
		if err != nil && !(errors.As(err, &ve) && ve.Field == "cursor") {
			t.Fatalf("List(%q, cursor c=%d s=%d o=%d w=%d z=%d): %v", q, c, seq, o, w, z, err)
		}
		if err == nil && p.NextCursor != "" {
			query.Cursor = p.NextCursor
			if _, err := s.List(ctx, query); err != nil {
				t.Fatalf("the next cursor after o=%d: %v", o, err)
			}
		}
	})
}
