package main

import (
	"bytes"
	"testing"
	"time"

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
