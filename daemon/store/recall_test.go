package store

import (
	"context"
	"errors"
	"strings"
	"testing"
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
		if tagRE.MatchString(tag) {
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
