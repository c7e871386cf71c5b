package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/store"
)

const apiToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// newAPI serves the real handler over a real store in a temp dir.
func newAPI(t testing.TB) (*httptest.Server, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "cairn.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(Info{PID: 1, Addr: "127.0.0.1:7070", StartedAt: time.Now()}, apiToken, func() {})
	s.SetMemories(st)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

func call(t testing.TB, ts *httptest.Server, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "127.0.0.1"
	req.Header.Set("Authorization", "Bearer "+apiToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every bad input is a 400 that names the field, never a 500, and writes
// nothing.
func TestBadInputIs400NamingTheField(t *testing.T) {
	ts, st := newAPI(t)
	big := strings.Repeat("a", 64<<10+1)
	cases := []struct {
		name, method, path, body, field string
	}{
		{"malformed json", "POST", "/v1/memories", `{"text":`, "body"},
		{"empty body", "POST", "/v1/memories", ``, "body"},
		{"two objects", "POST", "/v1/memories", `{"text":"a"}{"text":"b"}`, "body"},
		{"a brace after", "POST", "/v1/memories", `{"text":"a"}}`, "body"},
		{"a bracket after", "POST", "/v1/memories", `{"text":"a"} ]`, "body"},
		{"unknown field", "POST", "/v1/memories", `{"text":"a","colour":"red"}`, "colour"},
		{"no text", "POST", "/v1/memories", `{"tags":["a"]}`, "text"},
		{"empty text", "POST", "/v1/memories", `{"text":""}`, "text"},
		{"text too long", "POST", "/v1/memories", `{"text":"` + big + `"}`, "text"},
		{"invalid utf-8", "POST", "/v1/memories", "{\"text\":\"a\xff\"}", "body"},
		{"text a number", "POST", "/v1/memories", `{"text":5}`, "text"},
		{"bad tag", "POST", "/v1/memories", `{"text":"a","tags":["Not OK"]}`, "tags"},
		{"tags not a list", "POST", "/v1/memories", `{"text":"a","tags":"x"}`, "tags"},
		{"too many tags", "POST", "/v1/memories", `{"text":"a","tags":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`, "tags"},
		{"bad expiry", "POST", "/v1/memories", `{"text":"a","expires_in":"soon"}`, "expires_in"},
		{"negative expiry", "POST", "/v1/memories", `{"text":"a","expires_in":-5}`, "expires_in"},
		{"secret", "POST", "/v1/memories", `{"text":"aws AKIAIOSFODNN7EXAMPLE"}`, "text"},
		{"bad limit", "GET", "/v1/memories?limit=0", ``, "limit"},
		{"limit too big", "GET", "/v1/memories?limit=201", ``, "limit"},
		{"bad cursor", "GET", "/v1/memories?cursor=notacursor", ``, "cursor"},
		{"broken query string", "GET", "/v1/memories?cursor=%%%", ``, "query"},
		{"bad since", "GET", "/v1/memories?since=yesterday", ``, "since"},
		{"bad until", "GET", "/v1/memories?until=13/13/13", ``, "until"},
		{"unknown parameter", "GET", "/v1/memories?tags=a", ``, "tags"},
		{"bad max_bytes", "GET", "/v1/memories?max_bytes=-1", ``, "max_bytes"},
		{"patch unknown field", "PATCH", "/v1/memories/01JE0000000000000000000000", `{"txt":"a"}`, "txt"},
		{"bad idempotency key", "POST", "/v1/memories", `{"text":"a"}`, "Idempotency-Key"},
		{"lone high surrogate", "POST", "/v1/memories", `{"text":"lone \ud800 surrogate"}`, "body"},
		{"lone low surrogate", "POST", "/v1/memories", `{"text":"lone \udc00"}`, "body"},
		{"high surrogate then another high", "POST", "/v1/memories", `{"text":"\ud83d\ud83d"}`, "body"},
		{"high surrogate at the end", "POST", "/v1/memories", `{"text":"\ud83d"}`, "body"},
		{"a field twice", "POST", "/v1/memories", `{"text":"a","text":"b"}`, "text"},
		{"a field in capitals", "POST", "/v1/memories", `{"TEXT":"a"}`, "TEXT"},
		{"a field in mixed case", "POST", "/v1/memories", `{"text":"a","Tags":["x"]}`, "Tags"},
		{"patch a field twice", "PATCH", "/v1/memories/01JE0000000000000000000000", `{"text":"a","text":"b"}`, "text"},
		{"patch a bad tag to add", "PATCH", "/v1/memories/01JE0000000000000000000000", `{"add_tags":["BAD TAG"]}`, "add_tags"},
		{"only white space", "POST", "/v1/memories", `{"text":"  \n\t "}`, "text"},
		{"a key that turns the line around", "POST", "/v1/memories", `{"text":"a","key":"abc\u202edef"}`, "key"},
		{"a source with a line separator", "POST", "/v1/memories", `{"text":"a","source":"a\u2028b"}`, "source"},
		{"a tag with the Kelvin sign", "POST", "/v1/memories", `{"text":"a","tags":["\u212a8s"]}`, "tags"},
		{"an expiry under a second", "POST", "/v1/memories", `{"text":"a","expires_in":"1ns"}`, "expires_in"},
		{"a year as since", "GET", "/v1/memories?since=2026", ``, "since"},
		{"a date without dashes as until", "GET", "/v1/memories?until=20261204", ``, "until"},
		{"unix seconds as since", "GET", "/v1/memories?since=1764583200", ``, "since"},
		{"until before since", "GET", "/v1/memories?since=2026-12-04&until=2026-12-01", ``, "until"},
		{"an empty tag filter", "GET", "/v1/memories?tag=", ``, "tag"},
		{"a bad tag filter", "GET", "/v1/memories?tag=Not+OK", ``, "tag"},
		{"an import parameter it does not take", "POST", "/v1/import?project=x", `{}`, "project"},
		{"an import parameter cut short", "POST", "/v1/import?allow_secret=true%", `{}`, "query"},
		{"an import's allow_secret without a value", "POST", "/v1/import?allow_secret", `{}`, "allow_secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.field == "Idempotency-Key" {
				hdr = []string{"Idempotency-Key", "has spaces in it"}
			}
			code, body := call(t, ts, c.method, c.path, c.body, hdr...)
			var e api.Error
			json.Unmarshal([]byte(body), &e)
			if code != http.StatusBadRequest || e.Field != c.field || e.Error == "" {
				t.Errorf("%s %s: %d %s; want 400 naming %q", c.method, c.path, code, body, c.field)
			}
		})
	}
	if n := st.Count(); n != 0 {
		t.Fatalf("bad input wrote %d memories", n)
	}
}

func TestMemoryRoundTripThroughTheAPI(t *testing.T) {
	ts, _ := newAPI(t)
	text := "deploys to prod-east need the c++ toolchain\nand \"quotes\", tabs\t, émoji 🪨"
	body, _ := json.Marshal(map[string]any{"text": text, "tags": []string{"deploy", "ops"}, "project": "cairn"})
	code, out := call(t, ts, "POST", "/v1/memories", string(body))
	var put api.PutResult
	json.Unmarshal([]byte(out), &put)
	if code != http.StatusCreated || put.Status != "created" || put.ID == "" {
		t.Fatalf("remember: %d %s", code, out)
	}
	// The same again is a duplicate: 200 and the same id.
	code, out = call(t, ts, "POST", "/v1/memories", string(body))
	var dup api.PutResult
	json.Unmarshal([]byte(out), &dup)
	if code != http.StatusOK || dup.Status != "duplicate" || dup.ID != put.ID {
		t.Fatalf("duplicate: %d %s", code, out)
	}
	code, out = call(t, ts, "GET", "/v1/memories/"+put.ID, "")
	var m api.Memory
	json.Unmarshal([]byte(out), &m)
	if code != 200 || m.Text != text || strings.Join(m.Tags, ",") != "deploy,ops" || m.Project != "cairn" {
		t.Fatalf("get: %d %s", code, out)
	}
	for _, q := range []string{"prod-east", "c++", "toolchain OR", `"quotes"`, "NEAR( *", "?"} {
		code, out = call(t, ts, "GET", "/v1/memories?q="+urlQuery(q), "")
		if code != 200 {
			t.Errorf("recall %q: %d %s", q, code, out)
		}
	}
	code, out = call(t, ts, "GET", "/v1/memories?q=toolchain&tag=deploy", "")
	var page api.Page
	json.Unmarshal([]byte(out), &page)
	if code != 200 || len(page.Memories) != 1 || page.Memories[0].ID != put.ID {
		t.Fatalf("recall with tag: %d %s", code, out)
	}
	code, out = call(t, ts, "PATCH", "/v1/memories/"+put.ID, `{"add_tags":["infra"],"remove_tags":["ops"]}`)
	json.Unmarshal([]byte(out), &m)
	if code != 200 || strings.Join(m.Tags, ",") != "deploy,infra" {
		t.Fatalf("patch: %d %s", code, out)
	}
	code, out = call(t, ts, "GET", "/v1/tags", "")
	if code != 200 || !strings.Contains(out, `"tag":"infra","count":1`) {
		t.Fatalf("tags: %d %s", code, out)
	}
	code, out = call(t, ts, "GET", "/v1/stats", "")
	if code != 200 || !strings.Contains(out, `"count":1`) {
		t.Fatalf("stats: %d %s", code, out)
	}
	if code, out = call(t, ts, "DELETE", "/v1/memories/"+put.ID, ""); code != 200 {
		t.Fatalf("delete: %d %s", code, out)
	}
	code, out = call(t, ts, "DELETE", "/v1/memories/"+put.ID, "")
	var e api.Error
	if json.Unmarshal([]byte(out), &e); code != 404 || e.Error == "" {
		t.Fatalf("delete again: %d %s, want a JSON 404", code, out)
	}
	if code, out = call(t, ts, "PUT", "/v1/memories", `{}`); code != 405 || !strings.Contains(out, `"error"`) {
		t.Fatalf("PUT: %d %s, want a JSON 405", code, out)
	}
}

// A retried write with the same Idempotency-Key gets the first answer, also
// when the retries race the first; the key with another body is refused
// (not answered with the first write's result), and a refusal is not kept,
// so the request fixed goes through with the same key.
func TestIdempotencyKey(t *testing.T) {
	ts, st := newAPI(t)
	var wg sync.WaitGroup
	answers := make([]string, 8)
	codes := make([]int, 8)
	for i := range answers {
		wg.Go(func() {
			codes[i], answers[i] = call(t, ts, "POST", "/v1/memories", `{"text":"attempt"}`, "Idempotency-Key", "write-1")
		})
	}
	wg.Wait()
	for i, a := range answers {
		if codes[i] != 201 || a != answers[0] {
			t.Fatalf("answer %d: %d %q, want 201 %q", i, codes[i], a, answers[0])
		}
	}
	code, out := call(t, ts, "POST", "/v1/memories", `{"text":"something else"}`, "Idempotency-Key", "write-1")
	if code != 422 || !strings.Contains(out, `"field":"Idempotency-Key"`) || !strings.Contains(out, "different request") {
		t.Fatalf("the key with another body: %d %s, want 422 naming Idempotency-Key", code, out)
	}
	if code, out := call(t, ts, "POST", "/v1/memories", `{"text":""}`, "Idempotency-Key", "write-2"); code != 400 {
		t.Fatalf("empty text: %d %s", code, out)
	}
	if code, out := call(t, ts, "POST", "/v1/memories", `{"text":"fixed now"}`, "Idempotency-Key", "write-2"); code != 201 || !strings.Contains(out, `"created"`) {
		t.Fatalf("the fixed request with the key of a refused one: %d %s, want 201 created", code, out)
	}
	if n := st.Count(); n != 2 {
		t.Fatalf("%d memories stored, want 2", n)
	}
}

func TestExportImportLossless(t *testing.T) {
	src, srcStore := newAPI(t)
	texts := []string{"one", "two\nlines", "три", `{"json":"inside"}`}
	for i, text := range texts {
		body, _ := json.Marshal(map[string]any{"text": text, "tags": []string{fmt.Sprintf("t%d", i)}, "key": "k", "project": fmt.Sprintf("p%d", i%2)})
		if code, out := call(t, src, "POST", "/v1/memories", string(body)); code != 201 {
			t.Fatalf("remember: %d %s", code, out)
		}
	}
	_, export := call(t, src, "GET", "/v1/export", "")
	if n := strings.Count(export, "\n"); n != len(texts) {
		t.Fatalf("export has %d lines, want %d:\n%s", n, len(texts), export)
	}
	dst, dstStore := newAPI(t)
	for round := 0; round < 2; round++ {
		code, out := call(t, dst, "POST", "/v1/import", export)
		var res api.ImportResult
		json.Unmarshal([]byte(out), &res)
		want := api.ImportResult{Created: len(texts)}
		if round == 1 {
			want = api.ImportResult{Duplicate: len(texts)}
		}
		if code != 200 || res.Created != want.Created || res.Duplicate != want.Duplicate || len(res.Errors) != 0 {
			t.Fatalf("import round %d: %d %s", round, code, out)
		}
	}
	_, again := call(t, dst, "GET", "/v1/export", "")
	if again != export {
		t.Fatalf("round trip changed the export:\n%s\nvs\n%s", export, again)
	}
	if srcStore.Count() != dstStore.Count() {
		t.Fatalf("counts %d vs %d", srcStore.Count(), dstStore.Count())
	}
	code, out := call(t, dst, "POST", "/v1/import", "{\"id\":\"nope\",\"text\":\"x\"}\nnot json\n")
	if code != 200 || !strings.Contains(out, `"line":1`) || !strings.Contains(out, `"line":2`) {
		t.Fatalf("bad lines: %d %s", code, out)
	}
}

// A client that half-closes after its request (net/http then cancels the
// request's context) still gets the real answer: 201 for a write that was
// stored, not a 503 saying the daemon is shutting down.
func TestHalfClosedClientGetsTheAnswer(t *testing.T) {
	ts, st := newAPI(t)
	body := `{"text":"sent, then half-closed"}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/memories HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		apiToken, len(body), body)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || st.Count() != 1 {
		t.Fatalf("half-closed write: %d %s, %d stored; want 201 and 1", resp.StatusCode, out, st.Count())
	}
}

// A compressed body is refused as such, not read as text that is not
// UTF-8.
func TestCompressedBodyRefused(t *testing.T) {
	ts, st := newAPI(t)
	code, out := call(t, ts, "POST", "/v1/memories", "\x1f\x8b\x08\x00", "Content-Encoding", "gzip")
	if code != http.StatusUnsupportedMediaType || !strings.Contains(out, "uncompressed") || st.Count() != 0 {
		t.Fatalf("gzip body: %d %s", code, out)
	}
}

// What encoding/json would quietly accept is told apart from what is
// fine: an escaped pair, an escaped backslash before a u, a BOM.
func TestStrictJSONLetsGoodBodiesThrough(t *testing.T) {
	ts, st := newAPI(t)
	for _, body := range []string{
		`{"text":"rocket \ud83d\ude80"}`,
		`{"text":"a backslash then u: \\ud800"}`,
		`{"text":"quote \" then \\"}`,
		"\xef\xbb\xbf{\"text\":\"after a byte-order mark\"}",
	} {
		if code, out := call(t, ts, "POST", "/v1/memories", body); code != 201 {
			t.Errorf("%q: %d %s, want 201", body, code, out)
		}
	}
	p, err := st.List(context.Background(), store.Query{Q: "rocket"})
	if err != nil || len(p.Memories) != 1 || p.Memories[0].Text != "rocket \U0001F680" {
		t.Fatalf("the escaped pair stored as %+v %v", p.Memories, err)
	}
}

// An import body over the limit is refused whole, also when it comes
// chunked (no length to refuse it by before the lines are read).
func TestImportOverTheLimitStoresNothing(t *testing.T) {
	ts, st := newAPI(t)
	var b strings.Builder
	for i := 0; b.Len() <= MaxBodyBytes; i++ {
		fmt.Fprintf(&b, `{"id":"01M8ZD3000000000000000%04d","text":"line %d %s"}`+"\n", i, i, strings.Repeat("x", 30<<10))
	}
	req, err := http.NewRequest("POST", ts.URL+"/v1/import", io.MultiReader(strings.NewReader(b.String())))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "127.0.0.1"
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.ContentLength != -1 && req.ContentLength != 0 {
		t.Fatalf("the request has a length (%d); the test needs it chunked", req.ContentLength)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || st.Count() != 0 {
		t.Fatalf("chunked import over the limit: %d, %d memories stored; want 413 and none", resp.StatusCode, st.Count())
	}
}

// Import lines: a BOM before the first is ignored, a bad time names its
// field, and a secret is refused unless the line says allow_secret, which
// export writes for a memory stored as a secret on purpose, so the round
// trip keeps it.
func TestImportLines(t *testing.T) {
	ts, st := newAPI(t)
	body := "\xef\xbb\xbf" + `{"id":"01M8ZD30000000000000000001","text":"after the mark"}` + "\n" +
		`{"id":"01M8ZD30000000000000000002","text":"x","created_at":"yesterday"}` + "\n" +
		`{"id":"01M8ZD30000000000000000003","text":"x","updated_at":5}` + "\n" +
		`{"id":"01M8ZD30000000000000000004","text":"db password=Sup3rS3cret!"}` + "\n" +
		`{"id":"01M8ZD30000000000000000005","text":"db password=Sup3rS3cret!","allow_secret":true}` + "\n"
	code, out := call(t, ts, "POST", "/v1/import", body)
	var res api.ImportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 200 {
		t.Fatalf("import: %d %s", code, out)
	}
	if res.Created != 2 || len(res.Errors) != 3 {
		t.Fatalf("import: %+v, want 2 created (lines 1 and 5) and 3 errors", res)
	}
	for i, want := range []struct {
		line   int
		prefix string
	}{{2, "created_at: \"yesterday\" is not a time"}, {3, "updated_at:"}, {4, "text: looks like a secret"}} {
		if e := res.Errors[i]; e.Line != want.line || !strings.HasPrefix(e.Error, want.prefix) {
			t.Errorf("error %d: %+v, want line %d starting %q", i, e, want.line, want.prefix)
		}
	}
	_, export := call(t, ts, "GET", "/v1/export", "")
	if !strings.Contains(export, `"allow_secret":true`) || strings.Count(export, "allow_secret") != 1 {
		t.Fatalf("export should mark only the secret:\n%s", export)
	}
	dst, dstStore := newAPI(t)
	if code, out := call(t, dst, "POST", "/v1/import", export); code != 200 || !strings.Contains(out, `"created":2`) {
		t.Fatalf("re-import of the export: %d %s", code, out)
	}
	if dstStore.Count() != st.Count() {
		t.Fatalf("counts %d vs %d", dstStore.Count(), st.Count())
	}
}

// An import queues its lines together and the writer stores them in the
// file's order: a chain of versions of a key, some written in the same
// millisecond, among many memories without one, comes back as it was,
// and its export is the file imported.
func TestImportKeepsKeyChainsAmongManyLines(t *testing.T) {
	src, _ := newAPI(t)
	for i := range 300 {
		body := fmt.Sprintf(`{"text":"plain note %d"}`, i)
		if i%6 == 0 {
			body = fmt.Sprintf(`{"text":"version %d of the setting","key":"setting"}`, i)
		}
		if code, out := call(t, src, "POST", "/v1/memories", body); code != 201 {
			t.Fatalf("remember: %d %s", code, out)
		}
	}
	_, export := call(t, src, "GET", "/v1/export", "")
	dst, dstStore := newAPI(t)
	if code, out := call(t, dst, "POST", "/v1/import", export); code != 200 || !strings.Contains(out, `"created":300`) {
		t.Fatalf("import: %d %s", code, out)
	}
	if _, again := call(t, dst, "GET", "/v1/export", ""); again != export {
		a, b := strings.Split(export, "\n"), strings.Split(again, "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("the export of the import differs from the export imported, first at line %d:\n%s\n%s", i+1, a[i], b[i])
			}
		}
		t.Fatalf("the export of the import differs from the export imported: %d lines against %d", len(b), len(a))
	}
	if n := dstStore.Count(); n != 251 {
		t.Fatalf("%d live memories, want 250 plain and the last version", n)
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "+", "%2B", " ", "+", "&", "%26", "#", "%23", "?", "%3F", `"`, "%22")
	return r.Replace(s)
}

// fullStore is a store whose disk is full: every write fails as the real
// one does (the store's own tests fill a real tmpfs).
type fullStore struct{ Memories }

func (fullStore) Put(context.Context, store.NewMemory) (store.PutResult, error) {
	return store.PutResult{}, store.ErrFull
}

func (fullStore) PutAll(_ context.Context, ms []store.NewMemory) []store.PutOutcome {
	out := make([]store.PutOutcome, len(ms))
	for i := range out {
		out[i].Err = store.ErrFull
	}
	return out
}

func TestFullDiskIs507(t *testing.T) {
	_, st := newAPI(t)
	s := New(Info{PID: 1, Addr: "127.0.0.1:7070", StartedAt: time.Now()}, apiToken, func() {})
	s.SetMemories(fullStore{st})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	code, out := call(t, ts, "POST", "/v1/memories", `{"text":"a"}`)
	var e api.Error
	if json.Unmarshal([]byte(out), &e); code != http.StatusInsufficientStorage || !strings.Contains(e.Error, "full") {
		t.Fatalf("full disk: %d %s, want 507 saying the disk is full", code, out)
	}
}

// A write reaches every open event stream as a `memory` event with the new
// count: what the dashboard and the tray follow instead of polling.
func TestMemoryEventOnTheStream(t *testing.T) {
	feed := NewFeed()
	st, err := store.Open(filepath.Join(t.TempDir(), "cairn.db"), store.Options{
		OnWrite:  func(m store.Memory) { feed.Changed(m.ID, "written") },
		OnDelete: func(id string) { feed.Changed(id, "deleted") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Info{PID: 1, Addr: "127.0.0.1:7070", StartedAt: time.Now()}, apiToken, func() {})
	s.SetMemories(st)
	s.SetFeed(feed)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	req, _ := http.NewRequest("GET", ts.URL+"/v1/events", nil)
	req.Host = "127.0.0.1"
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("the stream ended")
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-deadline:
				t.Fatalf("no %q line", prefix)
			}
		}
	}
	next("event: ready")
	_, out := call(t, ts, "POST", "/v1/memories", `{"text":"the heron came back"}`)
	var put api.PutResult
	json.Unmarshal([]byte(out), &put)
	if l := next("event: "); l != "event: memory" {
		t.Fatalf("after a write the stream said %q", l)
	}
	var ev api.MemoryEvent
	if err := json.Unmarshal([]byte(strings.TrimPrefix(next("data: "), "data: ")), &ev); err != nil || ev.ID != put.ID || ev.Action != "written" || ev.Count != 1 {
		t.Fatalf("memory event %+v (%v), want %s written, count 1", ev, err, put.ID)
	}
	call(t, ts, "DELETE", "/v1/memories/"+put.ID, "")
	next("event: memory")
	if err := json.Unmarshal([]byte(strings.TrimPrefix(next("data: "), "data: ")), &ev); err != nil || ev.Action != "deleted" || ev.Count != 0 {
		t.Fatalf("delete event %+v (%v)", ev, err)
	}
}

// TestUnknownFieldNamesAreNamedExactly (found by FuzzRememberBody): an
// unknown field with an empty name made the 400 name no field (": is not a
// known field"); one with a quote in its name was named with the JSON
// escape left in.
func TestUnknownFieldNamesAreNamedExactly(t *testing.T) {
	ts, _ := newAPI(t)
	for body, field := range map[string]string{`{"":""}`: "body", `{"text":"a","a\"b":1}`: `a"b`, `{"text":"a","\u00e9":1}`: "é"} {
		code, out := call(t, ts, "POST", "/v1/memories", body)
		var e api.Error
		json.Unmarshal([]byte(out), &e)
		if code != http.StatusBadRequest || e.Field != field || !strings.HasPrefix(e.Error, field+": ") {
			t.Errorf("POST %s: %d %s; want 400 naming %q", body, code, out, field)
		}
	}
}
