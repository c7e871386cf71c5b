// Package memgen makes deterministic, realistic-looking memories for the
// store's benchmarks (daemon/store's bench_test.go) and `make bench`, so
// both measure the same kind of text. It does not import the store, so the
// store's own in-package tests can use it without an import cycle.
package memgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Gen makes pseudo-English: words drawn from a list with a Zipf-like skew
// (as in real text a few words are everywhere and most are rare),
// sentences of 8-40 words, plus some version identifiers. The same seed
// gives the same sequence. A Gen is not safe for concurrent use.
type Gen struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

var baseWords = strings.Fields(`the a to of and in is for on that with it this be as are was by at or from
	deploy server database config build test release branch merge review issue bug fix error log cache
	query index memory store user account token session login password auth api endpoint request response
	timeout retry backoff queue worker job schedule cron backup restore migrate schema table column row
	docker kubernetes pod node cluster region prod staging dev east west north south latency throughput
	metric alert dashboard grafana prometheus nginx proxy dns certificate tls ssh key ci pipeline github
	gitlab pull commit tag version semver changelog dependency package module library framework rust go
	python javascript typescript react vue svelte css html sql postgres sqlite redis kafka rabbitmq s3
	bucket lambda function handler middleware router controller model view template component hook state
	prefers likes uses wants needs decided agreed remember always never usually meeting monday tuesday
	friday week month quarter team manager customer ticket priority urgent blocked done todo later idea
	note reminder project plan roadmap milestone deadline estimate budget cost invoice contract legal`)

// Tags are the tags Memory hands out, in rotation.
var Tags = []string{"work", "home", "ops", "idea", "todo", "infra", "people", "docs"}

// Projects is how many projects Memory spreads memories over (p0, p1, …).
const Projects = 5

// New returns a generator. The made-up tail of its vocabulary depends on
// seed; the base words are common to every seed, so questions made with
// another seed than the corpus's still hit it through them.
func New(seed uint64) *Gen {
	rng := rand.New(rand.NewPCG(seed, 42))
	vocab := slices.Clone(baseWords)
	// A long tail of rarer made-up words, as names and jargon are.
	syll := strings.Fields("ka lo mi nu ra te zo vi pe su an el or ix ub")
	for range 20000 {
		n := 2 + rng.IntN(3)
		var w strings.Builder
		for range n {
			w.WriteString(syll[rng.IntN(len(syll))])
		}
		vocab = append(vocab, w.String())
	}
	return &Gen{rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1)), vocab: vocab}
}

// IntN is the generator's own random source, so a caller's choices are as
// reproducible as the text.
func (g *Gen) IntN(n int) int { return g.rng.IntN(n) }

// Word is one word, Zipf-distributed over the vocabulary.
func (g *Gen) Word() string { return g.vocab[g.zipf.Uint64()] }

// Words is n words joined by spaces: a question of n words.
func (g *Gen) Words(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.Word()
	}
	return strings.Join(ws, " ")
}

// Text is one memory's text: a sentence of 8-40 words, a quarter of them
// with a version number.
func (g *Gen) Text() string {
	n := 8 + g.rng.IntN(33)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.Word()
	}
	if g.rng.IntN(4) == 0 {
		ws = append(ws, fmt.Sprintf("v%d.%d.%d", g.rng.IntN(5), g.rng.IntN(20), g.rng.IntN(10)))
	}
	return strings.Join(ws, " ") + "."
}

// Memory is the i-th memory of a corpus: Text, one tag (a third of them
// two) and one of Projects projects, spread evenly so a tag filter selects
// about an eighth of the corpus.
func (g *Gen) Memory(i int) (text string, tags []string, project string) {
	tags = []string{Tags[i%len(Tags)]}
	if i%3 == 0 {
		tags = append(tags, Tags[(i/3)%len(Tags)])
	}
	return g.Text(), tags, fmt.Sprintf("p%d", i%Projects)
}
