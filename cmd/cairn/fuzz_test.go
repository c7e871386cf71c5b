//go:build !windows

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/server"
	"github.com/cairnlabs/cairn/daemon/store"
)

// FuzzPrintMemory: whatever a memory's text holds (it may hold anything
// but NUL: someone else's tool wrote it), `cairn recall` and `cairn get`
// print no control character but newlines and tabs, so a memory cannot drive the
// reader's terminal (colours, titles, cursor moves, OSC 8 links), and every
// line of the text is there, with its printable characters unchanged.
func FuzzPrintMemory(f *testing.F) {
	for _, s := range []string{"plain", "two\nlines", "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
		"a\rb", "\u009b31m", "tab\there", "\u202eevil", "\x7f", "\r\n", "café 😀"} {
		f.Add(s)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		var b bytes.Buffer
		printMemory(&b, api.Memory{ID: "01JE0000000000000000000000", Text: text, Tags: []string{"t"}, CreatedAt: at})
		out := b.String()
		for _, r := range out {
			if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u202e') {
				t.Fatalf("printMemory(%q) prints %U:\n%q", text, r, out)
			}
		}
		body := strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:]
		textLines := strings.Split(text, "\n")
		if len(body) != len(textLines) {
			t.Fatalf("printMemory(%q): %d lines of text printed as %d:\n%q", text, len(textLines), len(body), out)
		}
		for i, l := range textLines {
			safe := strings.Map(func(r rune) rune {
				if unsafeRune(r) {
					return -1
				}
				return r
			}, strings.TrimSuffix(l, "\r"))
			if !strings.HasPrefix(body[i], "    ") || !subsequence(safe, body[i][4:]) {
				t.Fatalf("printMemory(%q): line %q printed as %q", text, l, body[i])
			}
		}
	})
}

// subsequence: every rune of a appears in b, in order.
func subsequence(a, b string) bool {
	rb := []rune(b)
	j := 0
	for _, r := range a {
		for j < len(rb) && rb[j] != r {
			j++
		}
		if j == len(rb) {
			return false
		}
		j++
	}
	return true
}

// FuzzImportFile: `cairn import` of any file reports every non-blank line
// once, as stored, already there, or an error under that line's number
// in the file (whatever the batches), and an error line named is one the
// daemon refuses on its own too.
// importSummary is reportImport's first line.
var importSummary = regexp.MustCompile(`^Imported (\d+) new memor(?:y|ies); (\d+) (?:was|were) already there\.` +
	`(?: (\d+) had expired and (?:was|were) skipped\.)?(?: (\d+) had the id of a memory here with other content; the one here was kept\.)?$`)

func FuzzImportFile(f *testing.F) {
	line := func(id, text string) string {
		return `{"id":"` + id + `","text":"` + text + `","created_at":"2026-12-01T10:00:00Z"}`
	}
	f.Add([]byte(line("01JE0000000000000000000000", "one") + "\n" + `{"id":"x","text":"bad"}` + "\n\n" + line("01JE0000000000000000000001", "two")))
	f.Add([]byte("\r\n\r\n{}\r\n"))
	f.Add([]byte(strings.Repeat(line("01JE0000000000000000000002", strings.Repeat("a", 60000))+"\n", 12) + "{"))
	f.Add([]byte("{\"id\":\"01JE0000000000000000000003\",\"text\":\"a\xff\"}"))
	f.Add([]byte("no newline at the end"))
	st, err := store.Open(filepath.Join(f.TempDir(), "cairn.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	const tok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ts := httptest.NewUnstartedServer(nil)
	addr := netip.MustParseAddrPort(ts.Listener.Addr().String())
	srv := server.New(server.Info{PID: os.Getpid(), Addr: addr.String(), StartedAt: time.Now()}, tok, func() {})
	srv.SetMemories(st)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	f.Cleanup(ts.Close)
	c := client.New(addr, tok)
	f.Cleanup(c.CloseIdle)
	f.Fuzz(func(t *testing.T, file []byte) {
		var out, progress bytes.Buffer
		err := runImport(context.Background(), c, bytes.NewReader(file), false, &out, &progress)
		lines := bytes.Split(file, []byte("\n"))
		if err != nil && !strings.Contains(out.String(), "  line ") {
			if strings.Contains(err.Error(), "longer than") {
				return
			}
			if _, silent := err.(*silentExit); !silent {
				t.Fatalf("import: %v\n%s", err, out.String())
			}
		}
		var created, dup, expired, differs int
		head := strings.SplitN(out.String(), "\n", 2)[0]
		m := importSummary.FindStringSubmatch(head)
		if m == nil {
			t.Fatalf("first line %q", head)
		}
		for i, n := range []*int{&created, &dup, &expired, &differs} {
			*n, _ = strconv.Atoi(m[i+1])
		}
		nonBlank := 0
		for _, l := range lines {
			if len(bytes.TrimSpace(l)) > 0 {
				nonBlank++
			}
		}
		errLines := 0
		for _, l := range strings.Split(out.String(), "\n")[1:] {
			var n int
			var msg string
			if l == "" || l == importSecretHint {
				continue
			}
			var more, all int
			if k, _ := fmt.Sscanf(l, "  … and %d more lines that could not be stored (%d in all)", &more, &all); k == 2 {
				if errLines+more != all || errLines != maxImportErrors {
					t.Fatalf("%d listed, then %q", errLines, l)
				}
				errLines = all
				continue
			}
			if k, _ := fmt.Sscanf(l, "  line %d: ", &n); k != 1 {
				t.Fatalf("output line %q", l)
			}
			msg = l[strings.Index(l, ": ")+2:]
			errLines++
			if n < 1 || n > len(lines) || len(bytes.TrimSpace(lines[n-1])) == 0 {
				t.Fatalf("error under line %d, which is blank or missing (%d lines): %q", n, len(lines), l)
			}
			if !strings.Contains(msg, ": ") {
				t.Fatalf("error %q names no field", msg)
			}
			var res api.ImportResult
			if err := json.Unmarshal([]byte(mustImport(t, c, lines[n-1])), &res); err != nil || len(res.Errors) != 1 {
				t.Fatalf("line %d (%q) alone: %+v; the import blamed it for %q", n, lines[n-1], res, msg)
			}
		}
		if created+dup+expired+differs+errLines != nonBlank {
			t.Fatalf("%d non-blank lines, reported %d created, %d already there, %d expired, %d differing, %d errors:\n%s", nonBlank, created, dup, expired, differs, errLines, out.String())
		}
	})
}

func mustImport(t *testing.T, c *client.Client, line []byte) string {
	res, err := c.Import(context.Background(), append(append([]byte{}, line...), '\n'), false)
	if err != nil {
		t.Fatalf("import %q: %v", line, err)
	}
	b, _ := json.Marshal(res)
	return string(b)
}
