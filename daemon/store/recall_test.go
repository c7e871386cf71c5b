package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

func TestWords(t *testing.T) {
	cases := map[string]string{
		"deploy prod-east now":     "deploy|prod-east|now",
		"c++ and c# and node.js.":  "c++|and|c#|and|node.js",
		`"quoted" (paren) a*b ^x:`: "quoted|paren|a|b|x",
		"café Straße 東京 2024":      "café|Straße|東京|2024",
		"--flag -x ...":            "flag|x",
		"foo_bar o'neil a@b.c":     "foo_bar|o'neil|a@b.c",
		"NEAR(a b) OR AND NOT":     "NEAR|a|b|OR|AND|NOT",
		"":                         "",
	}
	for in, want := range cases {
		if got := strings.Join(words(in), "|"); got != want {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchExpr(t *testing.T) {
	common := map[string]struct{}{"error": {}}
	cases := map[string]string{
		"the of and":              "",
		"deploy the thing":        `"deploy" OR "thing"`,
		"error in deploy":         `"deploy"`,
		"error":                   `"error"`, // only common terms: kept, still ranked
		`say "hi"`:                `"say" OR "hi"`,
		"Deploy deploy DEPLOY":    `"Deploy"`,
		"? * - : ^ \" ( ) { } ''": "",
	}
	for in, want := range cases {
		if got := matchExpr(in, common); got != want {
			t.Errorf("matchExpr(%q) = %q, want %q", in, got, want)
		}
	}
}

// nastyQueries are things users type that are FTS5 syntax; each must be
// taken as words or dropped, never a syntax error.
var nastyQueries = []string{
	"?", `"`, `""`, `"unterminated`, "OR", "AND", "NOT", "NEAR(", "NEAR(a b, 2)", "*", "a*", "-", "-a", ":",
	"text:foo", "^", "^start", "(", ")", "{a b}", "a OR", "OR a", "AND AND", "'", "''", "\\", "+", "c++",
	"#", "c#", ".", "..", "node.js", "a-", "-a-", "prod-east", "a\"b", "col:val", "rank", "bm25(x)",
	"NEAR", "near/2", "x NOT y", "😀", "😀 deploy", "\u200b", "e\u0301", "ＡＢＣ", strings.Repeat("word ", 500),
	strings.Repeat("x", 70000), "\x00", "\xff\xfe", "%", "_", "__", "a_", "@", "/", "&&", "||", "; DROP TABLE memories; --",
}

func TestNastyQueries(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for _, text := range []string{"deploy prod-east with node.js", "c++ and c# notes", "start the NEAR service", "plain words only", "café au lait"} {
		mustPut(t, s, NewMemory{Text: text, Tags: []string{"t"}})
	}
	for _, q := range nastyQueries {
		for _, tags := range [][]string{nil, {"t"}} {
			p, err := s.List(ctx, Query{Q: q, Tags: tags})
			if err != nil {
				t.Errorf("List(%.40q): %v", q, err)
				continue
			}
			if p.Memories == nil {
				t.Errorf("List(%.40q): nil memories", q)
			}
		}
	}
	// Quoted words find what they name.
	finds := map[string]string{
		"prod-east": "deploy prod-east with node.js",
		"node.js":   "deploy prod-east with node.js",
		"NEAR":      "start the NEAR service",
		"cafe":      "café au lait", // remove_diacritics
		"CAFÉ":      "café au lait",
	}
	for q, want := range finds {
		p, err := s.List(ctx, Query{Q: q})
		if err != nil || len(p.Memories) == 0 || p.Memories[0].Text != want {
			t.Errorf("List(%q) = %+v, %v; want %q first", q, p.Memories, err, want)
		}
	}
	// Ranking: the memory with more of the words comes first.
	p, _ := s.List(ctx, Query{Q: "deploy node.js notes"})
	if len(p.Memories) != 2 || p.Memories[0].Text != "deploy prod-east with node.js" {
		t.Errorf("ranked: %+v", p.Memories)
	}
}

func FuzzQuery(f *testing.F) {
	for _, q := range nastyQueries {
		f.Add(q, "t", "")
	}
	f.Add("deploy", "", "bogus-cursor")
	s := openTest(f, Options{})
	ctx := context.Background()
	for _, text := range []string{"deploy prod-east with node.js", "c++ and c# notes", "start the NEAR service", "café"} {
		mustPut(f, s, NewMemory{Text: text, Tags: []string{"t"}})
	}
	f.Fuzz(func(t *testing.T, q, tag, cur string) {
		var tags []string
		if tagRE().MatchString(tag) {
			tags = []string{tag}
		}
		p, err := s.List(ctx, Query{Q: q, Tags: tags, Cursor: cur, Limit: 2})
		var ve *ValidationError
		if err != nil && !(errors.As(err, &ve) && ve.Field == "cursor") {
			t.Fatalf("List(%q, %q, %q): %v", q, tag, cur, err)
		}
		if err == nil && p.NextCursor != "" {
			if _, err := s.List(ctx, Query{Q: q, Tags: tags, Cursor: p.NextCursor, Limit: 2}); err != nil {
				t.Fatalf("next page of %q: %v", q, err)
			}
		}
	})
}

// TestRankedMatchesFullRanking: the FTS5-first ranking (ranked's top
// query) must return exactly the pages the full query does: many ties
// (few distinct texts, several memories per millisecond), filters that
// leave too few of the top rows, offsets deep enough to pass the edge,
// superseded memories, and, after an import older than the newest memory,
// a store whose created_at no longer follows seq.
func TestRankedMatchesFullRanking(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	words := []string{"deploy", "server", "cache", "token", "queue"}
	put := func(i int, m NewMemory) {
		if i%3 == 0 {
			c.t = c.t.Add(time.Millisecond)
		}
		mustPut(t, s, m)
	}
	for i := range 160 {
		text := fmt.Sprintf("%s %s note", words[i%5], words[(i/5)%5])
		if i%7 == 0 {
			text += " " + words[(i/7)%5]
		}
		m := NewMemory{Text: text + fmt.Sprintf(" n%d", i%50), Tags: []string{[]string{"a", "b", "c"}[i%3]}, Project: fmt.Sprintf("p%d", i%2)}
		if i%11 == 0 {
			m.Key = fmt.Sprintf("k%d", i%4) // supersedes an earlier one
		}
		put(i, m)
	}
	queries := []Query{
		{Q: "deploy", Limit: 5}, {Q: "deploy server", Limit: 7}, {Q: "cache token queue", Limit: 20},
		{Q: "note", Limit: 10}, {Q: "deploy", Tags: []string{"a"}, Limit: 6}, {Q: "server cache", Project: "p1", Limit: 9},
		{Q: "token", Tags: []string{"b"}, Project: "p0", Limit: 3}, {Q: "queue n7", Limit: 4},
		{Q: "deploy", IncludeSuperseded: true, Limit: 8}, {Q: "server", MaxBytes: 60, Limit: 10},
	}
	walk := func(q Query, full bool) []string {
		if full {
			s.schema = 2 // ranked then skips the FTS5-first query
			defer func() { s.schema = SchemaVersion }()
		}
		var out []string
		for range 4 { // deep enough to pass the edge of the first FTS5 rankings
			p, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Memories {
				out = append(out, fmt.Sprintf("%s %.9g", m.ID, m.Score))
			}
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		return out
	}
	check := func(stage string) {
		for _, q := range queries {
			got, want := walk(q, false), walk(q, true)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %+v: FTS5-first ranking differs from the full one:\n got %v\nwant %v", stage, q, got, want)
			}
		}
	}
	check("in order")
	old := c.t.Add(-time.Hour)
	for i := range 20 {
		mustPut(t, s, NewMemory{ID: ulid.MustNew(ulid.Timestamp(old), rand.Reader).String(),
			Text: fmt.Sprintf("%s note imported", words[i%5]), CreatedAt: old, UpdatedAt: old})
		old = old.Add(time.Millisecond)
	}
	for i := range 30 {
		put(i, NewMemory{Text: fmt.Sprintf("%s %s note", words[(i+2)%5], words[i%5])})
	}
	check("after an import")
}

// TestCommonOnlyWindow: a query of only common words ranks the newest
// memories where about the window's size of them match first, and its
// pages go on into older bands until every match was listed, each once;
// with a rarer word beside it nothing is windowed.
func TestCommonOnlyWindow(t *testing.T) {
	s := openTest(t, Options{})
	s.window = 300 // commonWindow would need more than 2,000 memories
	ctx := context.Background()
	const n = commonMinRows + 200
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				mustPut(t, s, NewMemory{Text: fmt.Sprintf("alpha note %d", i)})
			}
		})
	}
	wg.Wait()
	mustPut(t, s, NewMemory{Text: "alpha beta"})
	s.refreshCommon(ctx)
	if _, ok := s.common.Load().docs["alpha"]; !ok {
		t.Fatal("alpha, in every memory, is not a common term")
	}
	seen := map[string]bool{}
	q := Query{Q: "alpha", Limit: 50}
	var firstBand int64
	for page := 0; ; page++ {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Memories {
			if seen[m.ID] {
				t.Fatalf("page %d repeats %s", page, m.ID)
			}
			seen[m.ID] = true
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
		c, err := decodeCursor(p.NextCursor, queryHash(q))
		if err != nil {
			t.Fatal(err)
		}
		if page == 0 {
			firstBand = c.W
		}
	}
	if len(seen) != n+1 {
		t.Fatalf("the pages of a query of only a common word listed %d of its %d matches", len(seen), n+1)
	}
	if newest := int64(n + 1); firstBand == 0 || newest-firstBand < s.window*9/10 || newest-firstBand > s.window*11/10 {
		t.Fatalf("the first band starts at seq %d of %d; want about the newest %d", firstBand, n+1, s.window)
	}
	p, err := s.List(ctx, Query{Q: "alpha beta", Limit: 5})
	if err != nil || len(p.Memories) == 0 || p.Memories[0].Text != "alpha beta" {
		t.Fatalf("alpha beta: %+v %v", p.Memories, err)
	}
}

// TestCommonOnlyMatchesAllOld: common words whose every match is older
// than many memories without them are still found (the first band, sized
// as if the matches were spread evenly, holds none of them), and so are
// those of a project the newest band has none of.
func TestCommonOnlyMatchesAllOld(t *testing.T) {
	s := openTest(t, Options{})
	s.window = 100
	ctx := context.Background()
	var batch []NewMemory
	for i := range 600 {
		project := "web"
		if i < 50 {
			project = "infra"
		}
		batch = append(batch, NewMemory{Text: fmt.Sprintf("kubernetes rollout note %d", i), Project: project})
	}
	for i := range 1500 {
		batch = append(batch, NewMemory{Text: fmt.Sprintf("groceries list %d", i), Project: "web"})
	}
	for i, o := range s.PutAll(ctx, batch) {
		if o.Err != nil {
			t.Fatalf("memory %d: %v", i, o.Err)
		}
	}
	s.refreshCommon(ctx)
	ct := s.common.Load()
	if _, ok := ct.docs["kubernetes"]; !ok {
		t.Fatalf("kubernetes, in 600 of 2,100 memories, is not a common term: %v", ct.docs)
	}
	if w, err := s.windowStart(ctx, []string{"kubernetes", "rollout"}, ct); err != nil || w <= 600 {
		t.Fatalf("the first band starts at %d (%v); the test needs one past every match", w, err)
	}
	for _, q := range []Query{
		{Q: "kubernetes rollout", Limit: 10},
		{Q: "kubernetes rollout", Project: "infra", Limit: 10},
		{Q: "kubernetes", Tags: nil, Project: "infra", Limit: 60},
	} {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := min(q.Limit, 600)
		if q.Project == "infra" {
			want = min(q.Limit, 50)
		}
		if len(p.Memories) != want {
			t.Errorf("%+v: %d memories, want %d", q, len(p.Memories), want)
		}
		for _, m := range p.Memories {
			if !strings.HasPrefix(m.Text, "kubernetes rollout") || q.Project != "" && m.Project != q.Project {
				t.Errorf("%+v: got %q in %q", q, m.Text, m.Project)
			}
		}
	}
}
