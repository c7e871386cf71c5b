package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cairnlabs/cairn/daemon/api"
)

// TestPrintMemoryEscapesControlCharacters (found by FuzzPrintMemory): a
// memory's text went to the terminal raw, so one stored by any tool could
// recolour or retitle the reader's terminal, hide text behind a CR, plant
// an OSC 8 link or flip text with a bidi override. Each such character is
// now printed as a visible escape; tabs and CRLF line ends stay readable.
func TestPrintMemoryEscapesControlCharacters(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	printMemory(&b, api.Memory{ID: "01JE0000000000000000000000", Project: "p\u202eq", CreatedAt: at,
		Text: "\x1b[31mred\x1b[0m\r\nfake\rreal\ta\u009b\n\x1b]8;;http://evil.example\x07x"})
	want := "01JE0000000000000000000000  " + at.Local().Format("2006-01-02 15:04") + "  (p\\u202eq)\n" +
		"    \\x1b[31mred\\x1b[0m\n" +
		"    fake\\x0dreal\ta\\x9b\n" +
		"    \\x1b]8;;http://evil.example\\x07x\n"
	if got := b.String(); got != want {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
}

// TestQuestionIsCutAtAWordOrRune: a question over maxQuestionBytes is cut
// at its last space before the limit, or, with none, at a rune boundary,
// and the cut is said.
func TestQuestionIsCutAtAWordOrRune(t *testing.T) {
	var note strings.Builder
	if q := question(&note, "short words"); q != "short words" || note.Len() != 0 {
		t.Fatalf("a short question changed: %q, note %q", q, note.String())
	}
	words := strings.Repeat("abc ", 2000) // 8000 bytes
	q := question(&note, words)
	if len(q) > maxQuestionBytes || strings.HasSuffix(q, "ab") || !strings.HasPrefix(words, q) || !strings.Contains(note.String(), "only its first") {
		t.Fatalf("cut at %d bytes, ending %q; note %q", len(q), q[len(q)-5:], note.String())
	}
	runes := strings.Repeat("é", 3000) // 6000 bytes, no space
	if q := question(io.Discard, runes); len(q) > maxQuestionBytes || !utf8.ValidString(q) || !strings.HasPrefix(runes, q) {
		t.Fatalf("cut without spaces: %d bytes, valid UTF-8 %v", len(q), utf8.ValidString(q))
	}
}
