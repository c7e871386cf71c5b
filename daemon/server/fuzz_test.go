package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/proof"
	"github.com/cairnlabs/cairn/daemon/store"
)

// The fuzz targets of the HTTP API drive the real handler over a real store,
// in process (no sockets, so an iteration costs a store call, not a dial).
// Their properties hold for every input: no 500, every error a JSON object
// with a sentence (and, for a 400 about one field, the sentence starts with
// the field it names), no CORS header ever, a foreign Host always 403, and
// what was accepted reads back as it was sent. `make soak` runs each for 30 s.

// fuzzAPI is the handler over a fresh store holding seed memories, and the
// store.
func fuzzAPI(f *testing.F) (http.Handler, *store.Store) {
	f.Helper()
	st, err := store.Open(filepath.Join(f.TempDir(), "cairn.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	for _, m := range []store.NewMemory{
		{Text: "deploy prod-east with node.js", Tags: []string{"deploy"}, Project: "p"},
		{Text: "c++ and c# notes", Tags: []string{"lang"}},
		{Text: "start the NEAR service", Key: "near"},
		{Text: "café au lait"},
	} {
		if _, err := st.Put(f.Context(), m); err != nil {
			f.Fatal(err)
		}
	}
	s := New(Info{PID: 4242, Addr: "127.0.0.1:7070", StartedAt: time.Now()}, apiToken, func() {})
	s.SetMemories(st)
	return s.Handler(), st
}

// serve sends one request to h; an unusable target is reported as nil.
func serve(h http.Handler, method, target, host string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	u, err := url.ParseRequestURI(target)
	if err != nil || !strings.HasPrefix(target, "/") {
		return nil
	}
	r := &http.Request{Method: method, URL: u, RequestURI: target, Host: host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, ContentLength: int64(len(body))}
	r.Body = http.NoBody
	if body != nil {
		r.Body = httpBody(body)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func httpBody(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }

// checkAnswer holds the properties every answer has, whatever was asked.
func checkAnswer(t *testing.T, what string, w *httptest.ResponseRecorder) api.Error {
	t.Helper()
	if w.Code >= 500 && w.Code != http.StatusInsufficientStorage && w.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s: %d %s", what, w.Code, w.Body)
	}
	for k := range w.Header() {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Fatalf("%s: sent CORS header %s", what, k)
		}
	}
	var e api.Error
	if w.Code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("%s: %d with no error sentence: %q", what, w.Code, w.Body)
		}
		if e.Field != "" && !strings.HasPrefix(e.Error, e.Field+": ") {
			t.Fatalf("%s: error names field %q but says %q", what, e.Field, e.Error)
		}
	}
	return e
}

// FuzzRequest: any method, target, Host and body, with or without the
// token and an Origin.
func FuzzRequest(f *testing.F) {
	h, _ := fuzzAPI(f)
	seeds := []struct {
		method, target, host, body string
		auth                       bool
		origin                     string
	}{
		{"GET", "/health", "127.0.0.1:7070", "", false, ""},
		{"GET", "/v1/status", "localhost", "", true, ""},
		{"GET", "/v1/status", "", "", true, ""},
		{"GET", "/v1/status", "evil.example", "", true, ""},
		{"GET", "/v1/status", "127.0.0.1.nip.io:7070", "", true, ""},
		{"GET", "/v1/status", "[::1]:7070", "", false, ""},
		{"GET", "/v1/status", "[::ffff:127.0.0.1]", "", true, ""},
		{"POST", "/v1/memories", "127.0.0.1", `{"text":"a"}`, true, "http://evil.example"},
		{"POST", "/v1/memories", "127.0.0.1", `{"text":"a"}`, true, "http://127.0.0.1:7070"},
		{"DELETE", "/v1/memories/01JE0000000000000000000000", "127.0.0.1", "", true, ""},
		{"PATCH", "/v1/memories/..%2f..%2f", "127.0.0.1", `{"text":"x"}`, true, ""},
		{"GET", "/v1/memories/%00", "127.0.0.1", "", true, ""},
		{"GET", "/v1/memories?q=%22&tag=Prod&tag=prod", "127.0.0.1", "", true, ""},
		{"GET", "/v1/memories?cursor=%%%", "127.0.0.1", "", true, ""},
		{"GET", "/v1/proof?nonce=" + strings.Repeat("a", 64), "127.0.0.1", "", false, ""},
		{"GET", "/v1/proof?nonce=" + strings.Repeat("A", 64), "127.0.0.1", "", false, ""},
		{"GET", "/open?code=x", "127.0.0.1", "", false, ""},
		{"POST", "/v1/session", "127.0.0.1", "", true, ""},
		{"POST", "/v1/shutdown", "127.0.0.1", "", false, ""},
		{"GET", "/static/../index.html", "127.0.0.1", "", false, ""},
		{"GET", "/static/app.js", "127.0.0.1", "", false, ""},
		{"POST", "/v1/import", "127.0.0.1", "{}\n\n{\"id\":\"x\",\"text\":\"a\"}", true, ""},
		{"GET", "/v1/export", "127.0.0.1", "", true, ""},
		{"OPTIONS", "/v1/memories", "127.0.0.1", "", true, "http://evil.example"},
		{"GET", "/", "LOCALHOST", "", false, ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.host, []byte(s.body), s.auth, s.origin)
	}
	f.Fuzz(func(t *testing.T, method, target, host string, body []byte, auth bool, origin string) {
		if !validMethod(method) || strings.HasPrefix(target, "/v1/shutdown") || strings.HasPrefix(target, "/v1/events") {
			return // shutdown would stop the fuzzed daemon; events never ends
		}
		var hdr []string
		if auth {
			hdr = append(hdr, "Authorization", "Bearer "+apiToken)
		}
		if origin != "" {
			hdr = append(hdr, "Origin", origin)
		}
		if len(body) > 0 {
			hdr = append(hdr, "Content-Type", "application/json")
		}
		w := serve(h, method, target, host, body, hdr...)
		if w == nil {
			return
		}
		what := method + " " + target + " Host " + host
		checkAnswer(t, what, w)
		if !AllowedHost(host) && w.Code != http.StatusForbidden {
			t.Fatalf("%s: foreign host answered %d", what, w.Code)
		}
		if !auth && w.Code == http.StatusOK && strings.HasPrefix(target, "/v1/") && !strings.HasPrefix(target, proof.Path) {
			t.Fatalf("%s: answered 200 without the token: %s", what, w.Body)
		}
		if w.Result().Header.Get("Set-Cookie") != "" && !strings.HasPrefix(target, "/open") {
			t.Fatalf("%s: set a cookie", what)
		}
	})
}

// validMethod is what net/http would let through as a method token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < '!' || c > '~' || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}

// FuzzRememberBody: a body POST /v1/memories accepts reads back as sent
// (text byte for byte, tags normalized, project, source, key); one it
// refuses is a 400 naming a field and stores nothing.
func FuzzRememberBody(f *testing.F) {
	h, st := fuzzAPI(f)
	for _, b := range []string{
		`{"text":"a"}`, `{"text":""}`, `{"text":5}`, `{"text":null}`, `{"text":"a","tags":["Prod","prod"]}`,
		`{"text":"a","tags":"x"}`, `{"text":"a","tags":[null]}`, `{"text":"a","colour":"red"}`, `{"text":"a"}{"text":"b"}`,
		`{"text":"a\u0000b"}`, "{\"text\":\"a\xff\"}", `{"text":"\ud800"}`, `{"text":"a","expires_in":"7d"}`,
		`{"text":"a","expires_in":1e309}`, `{"text":"a","expires_in":-1}`, `{"text":"a","expires_in":"NaNd"}`,
		`{"text":"a","expires_in":"1e300d"}`, `{"text":"a","expires_in":"9223372036s"}`, `{"text":"a","expires_in":[]}`,
		`{"text":"aws AKIAIOSFODNN7EXAMPLE"}`, `{"text":"aws AKIAIOSFODNN7EXAMPLE","allow_secret":true}`,
		`{"text":"a","project":"p\u0007"}`, `{"text":"a","key":"k","project":"p"}`, `{"text":"a","source":"` + strings.Repeat("s", 257) + `"}`,
		`{"TEXT":"a"}`, `{"text":"a","Text":"b"}`, `[]`, `"a"`, `null`, ``, `{"text":"prod-east c++ NEAR( OR * ?"}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := st.Count()
		w := serve(h, "POST", "/v1/memories", "127.0.0.1", body, "Authorization", "Bearer "+apiToken, "Content-Type", "application/json")
		e := checkAnswer(t, "POST /v1/memories "+string(body), w)
		switch w.Code {
		case http.StatusCreated, http.StatusOK:
		case http.StatusBadRequest:
			if e.Field == "" {
				t.Fatalf("400 naming no field for %q: %s", body, w.Body)
			}
			if n := st.Count(); n != before {
				t.Fatalf("refused %q but the count went %d → %d", body, before, n)
			}
			return
		default:
			t.Fatalf("POST %q: %d %s", body, w.Code, w.Body)
		}
		var res api.PutResult
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.ID == "" {
			t.Fatalf("POST %q: %s", body, w.Body)
		}
		var sent rememberRequest
		json.Unmarshal(body, &sent)
		g := serve(h, "GET", "/v1/memories/"+res.ID, "127.0.0.1", nil, "Authorization", "Bearer "+apiToken)
		var m api.Memory
		if g.Code != http.StatusOK || json.Unmarshal(g.Body.Bytes(), &m) != nil {
			t.Fatalf("GET %s: %d %s", res.ID, g.Code, g.Body)
		}
		if res.Status == "duplicate" {
			return // the existing memory, which may differ in source or key
		}
		wantTags := []string{}
		for _, tag := range sent.Tags {
			wantTags = append(wantTags, strings.ToLower(tag))
		}
		slices.Sort(wantTags)
		wantTags = slices.Compact(wantTags)
		if m.Text != *sent.Text || !slices.Equal(m.Tags, wantTags) || m.Project != sent.Project || m.Source != sent.Source || m.Key != sent.Key {
			t.Fatalf("sent %q, read back %+v", body, m)
		}
	})
}

// FuzzPatchBody: PATCH either changes what it says or is a 400 naming a
// field and changes nothing.
func FuzzPatchBody(f *testing.F) {
	h, st := fuzzAPI(f)
	res, err := st.Put(f.Context(), store.NewMemory{Text: "patch me", Tags: []string{"keep"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range []string{
		`{"text":"b"}`, `{"add_tags":["X"]}`, `{"remove_tags":["keep"]}`, `{"text":""}`, `{"text":null}`, `{"txt":"a"}`,
		`{"add_tags":["Not OK"]}`, `{"add_tags":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`,
		`{"text":"ghp_` + strings.Repeat("a", 36) + `"}`, `{}`, `{"text":"a\u0000"}`,
	} {
		f.Add([]byte(b))
	}
	path := "/v1/memories/" + res.ID
	f.Fuzz(func(t *testing.T, body []byte) {
		orig, err := st.Get(t.Context(), res.ID)
		if err != nil {
			t.Fatal(err)
		}
		w := serve(h, "PATCH", path, "127.0.0.1", body, "Authorization", "Bearer "+apiToken, "Content-Type", "application/json")
		e := checkAnswer(t, "PATCH "+string(body), w)
		now, err := st.Get(t.Context(), res.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch w.Code {
		case http.StatusOK:
			var sent patchRequest
			json.Unmarshal(body, &sent)
			if sent.Text != nil && now.Text != *sent.Text {
				t.Fatalf("PATCH %q left text %q", body, now.Text)
			}
			for _, tag := range sent.RemoveTags {
				if slices.Contains(now.Tags, strings.ToLower(tag)) && !slices.ContainsFunc(sent.AddTags, func(a string) bool { return strings.EqualFold(a, tag) }) {
					t.Fatalf("PATCH %q kept tag %q: %v", body, tag, now.Tags)
				}
			}
		case http.StatusBadRequest:
			if e.Field == "" {
				t.Fatalf("400 naming no field for %q: %s", body, w.Body)
			}
			if now.Text != orig.Text || !slices.Equal(now.Tags, orig.Tags) {
				t.Fatalf("refused %q but the memory changed: %+v → %+v", body, orig, now)
			}
		default:
			t.Fatalf("PATCH %q: %d %s", body, w.Code, w.Body)
		}
	})
}

// FuzzListQuery: any query string of GET /v1/memories is a page or a 400
// naming the parameter; a page's next_cursor continues it.
func FuzzListQuery(f *testing.F) {
	h, _ := fuzzAPI(f)
	for _, q := range []string{
		"q=deploy", "q=prod-east", "q=c%2B%2B", "q=%3F", "q=%22", "q=OR", "q=NEAR(", "q=*", "q=%5E", "q=a:b", "q=-",
		"q=deploy&limit=1", "limit=1", "limit=0", "limit=201", "limit=1e2", "limit=-1", "limit=%20", "max_bytes=1&limit=3",
		"tag=Deploy", "tag=Not+OK", "tag=", "project=p&q=deploy&limit=1", "since=2026-12-01", "until=13/13/13",
		"since=1733011200000", "since=-1", "since=9999-12-31T23:59:59Z", "include_superseded=maybe", "include_superseded=1",
		"cursor=notacursor", "cursor=", "cursor=eyJoIjoiIn0", "cursor=eyJvIjotMSwiaCI6IiJ9", "q=a&q=b", "tags=a", "%%%",
		"q=%ff", "q=caf%C3%A9&limit=1", ";", "q=deploy;limit=1", "&&&", "=",
	} {
		f.Add(q)
	}
	auth := []string{"Authorization", "Bearer " + apiToken}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		target := "/v1/memories?" + rawQuery
		w := serve(h, "GET", target, "127.0.0.1", nil, auth...)
		if w == nil {
			return
		}
		e := checkAnswer(t, target, w)
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			if e.Field == "" {
				t.Fatalf("GET %s: 400 naming no parameter: %s", target, w.Body)
			}
			return
		default:
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
		}
		var p api.Page
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Memories == nil {
			t.Fatalf("GET %s: not a page: %s", target, w.Body)
		}
		if p.NextCursor == "" {
			return
		}
		v, _ := url.ParseQuery(rawQuery)
		v.Set("cursor", p.NextCursor)
		next := "/v1/memories?" + v.Encode()
		w = serve(h, "GET", next, "127.0.0.1", nil, auth...)
		checkAnswer(t, next, w)
		if w.Code != http.StatusOK {
			t.Fatalf("next page %s: %d %s", next, w.Code, w.Body)
		}
		var p2 api.Page
		json.Unmarshal(w.Body.Bytes(), &p2)
		for _, m := range p2.Memories {
			if slices.ContainsFunc(p.Memories, func(o api.Memory) bool { return o.ID == m.ID }) {
				t.Fatalf("next page of %s repeats %s", target, m.ID)
			}
		}
	})
}

// FuzzProofExchange: any nonce is a 400 or an answer that verifies with
// the token for exactly that nonce, address and PID.
func FuzzProofExchange(f *testing.F) {
	h, _ := fuzzAPI(f)
	for _, n := range []string{proof.NewNonce(), "", strings.Repeat("a", 64), strings.Repeat("A", 64), strings.Repeat("a", 63),
		strings.Repeat("a", 65), strings.Repeat("g", 64), "%00", strings.Repeat("a", 64) + "&nonce=" + strings.Repeat("b", 64)} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, nonce string) {
		target := proof.Path + "?nonce=" + url.QueryEscape(nonce)
		w := serve(h, "GET", target, "127.0.0.1:7070", nil)
		checkAnswer(t, target, w)
		n, err := proof.ParseNonce(nonce)
		switch {
		case err != nil && w.Code != http.StatusBadRequest:
			t.Fatalf("nonce %q (%v) answered %d", nonce, err, w.Code)
		case err != nil:
			return
		case w.Code != http.StatusOK:
			t.Fatalf("nonce %q answered %d %s", nonce, w.Code, w.Body)
		}
		a, err := proof.ParseAnswer(w.Body.Bytes())
		if err != nil || a.PID != 4242 || !proof.Verify(apiToken, n, "127.0.0.1:7070", a) {
			t.Fatalf("answer to %q does not verify: %s (%v)", nonce, w.Body, err)
		}
		if proof.Verify(apiToken, n, "127.0.0.1:7071", a) {
			t.Fatalf("answer to %q verifies for another address", nonce)
		}
		if strings.Contains(w.Body.String(), apiToken) {
			t.Fatalf("the proof carries the token")
		}
	})
}

// FuzzCodeExchange: /open never lets in a code it did not give out, and a
// code it gave out lets in exactly once.
func FuzzCodeExchange(f *testing.F) {
	h, _ := dashboardF(f)
	for _, c := range []string{"", "x", strings.Repeat("0", 64), strings.Repeat("a", 64), "%00", "a&code=b", apiToken} {
		f.Add(c, false)
	}
	f.Add("", true)
	auth := []string{"Authorization", "Bearer " + apiToken}
	f.Fuzz(func(t *testing.T, code string, real bool) {
		if real {
			w := serve(h, "POST", "/v1/session", "127.0.0.1", nil, auth...)
			var s api.Session
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &s) != nil {
				t.Fatalf("POST /v1/session: %d %s", w.Code, w.Body)
			}
			code = s.Code
		}
		target := "/open?code=" + url.QueryEscape(code)
		w := serve(h, "GET", target, "127.0.0.1", nil)
		checkAnswer(t, target, w)
		cookie := w.Result().Header.Get("Set-Cookie")
		if !real {
			if w.Code != http.StatusForbidden || cookie != "" {
				t.Fatalf("made-up code %q: %d, cookie %q", code, w.Code, cookie)
			}
			return
		}
		if w.Code != http.StatusSeeOther || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
			t.Fatalf("real code: %d, cookie %q", w.Code, cookie)
		}
		if again := serve(h, "GET", target, "127.0.0.1", nil); again.Code != http.StatusForbidden {
			t.Fatalf("a code let in twice: %d", again.Code)
		}
	})
}

// dashboardF is dashboard for a fuzz target.
func dashboardF(f *testing.F) (http.Handler, *store.Store) {
	return fuzzAPI(f)
}

// FuzzImportLines: POST /v1/import accounts for every non-blank line
// (created, duplicate, or an error naming its line and field), and what it
// stored exports and imports again as all duplicates.
func FuzzImportLines(f *testing.F) {
	h, _ := fuzzAPI(f)
	id := "01JE0000000000000000000000"
	for _, b := range []string{
		`{"id":"` + id + `","text":"imported","created_at":"2026-12-01T10:00:00Z"}`,
		`{"id":"` + id + `","text":"imported","created_at":"2026-12-01T10:00:00.123456789Z","updated_at":"2026-12-01T09:00:00Z"}`,
		`{"id":"01je0000000000000000000001","text":"lower case id","tags":["A"]}`,
		`{"id":"x","text":"a"}`, `{"text":"no id"}`, `{"id":"` + id + `"}`, `{"id":"` + id + `","text":"a","colour":1}`,
		"\n\n\r\n", "{}\n{}", `{"id":"01JE0000000000000000000002","text":"k1","key":"k","created_at":"2026-12-01T10:00:00Z"}` + "\n" +
			`{"id":"01JE0000000000000000000003","text":"k2","key":"k","created_at":"2026-12-01T09:00:00Z"}`,
		`{"id":"01JE0000000000000000000004","text":"a","expires_at":"2000-01-01T00:00:00Z"}`,
		`{"id":"01JE0000000000000000000005","text":"a","created_at":"0001-01-01T00:00:00.001Z"}`,
		`{"id":"01JE0000000000000000000006","text":"a","created_at":"9999-12-31T23:59:59.999Z"}`,
		"{\"id\":\"01JE0000000000000000000007\",\"text\":\"a\xff\"}",
		`{"id":"7ZZZZZZZZZZZZZZZZZZZZZZZZZ","text":"max ulid"}`, `{"id":"8ZZZZZZZZZZZZZZZZZZZZZZZZZ","text":"overflow ulid"}`,
	} {
		f.Add([]byte(b))
	}
	auth := []string{"Authorization", "Bearer " + apiToken}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := serve(h, "POST", "/v1/import", "127.0.0.1", body, auth...)
		checkAnswer(t, "import", w)
		if w.Code == http.StatusBadRequest || w.Code == http.StatusRequestEntityTooLarge {
			return // an unreadable body (a line past the limit)
		}
		if w.Code != http.StatusOK {
			t.Fatalf("import %q: %d %s", body, w.Code, w.Body)
		}
		var res api.ImportResult
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		lines := 0
		nonBlank := map[int]bool{}
		for i, l := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
				nonBlank[i+1] = true
			}
		}
		if res.Created+res.Duplicate+res.Expired+res.Differs+len(res.Errors) != lines {
			t.Fatalf("import of %d lines answered %+v", lines, res)
		}
		for _, e := range res.Errors {
			field, _, ok := strings.Cut(e.Error, ": ")
			if !nonBlank[e.Line] || !ok || field == "" {
				t.Fatalf("import error %+v does not name a non-blank line and a field (body %q)", e, body)
			}
		}
		// Whatever is stored now exports, and that export imports as
		// duplicates only, and exports again identically.
		ex := serve(h, "GET", "/v1/export", "127.0.0.1", nil, auth...)
		if ex.Code != http.StatusOK {
			t.Fatalf("export: %d %s", ex.Code, ex.Body)
		}
		exported := ex.Body.Bytes()
		w = serve(h, "POST", "/v1/import", "127.0.0.1", exported, auth...)
		var again api.ImportResult
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &again) != nil || again.Created != 0 || len(again.Errors) != 0 {
			t.Fatalf("re-import of the export: %d %s", w.Code, w.Body)
		}
		if ex2 := serve(h, "GET", "/v1/export", "127.0.0.1", nil, auth...); !bytes.Equal(ex2.Body.Bytes(), exported) {
			t.Fatalf("export changed after re-importing it:\n%s\n%s", exported, ex2.Body)
		}
	})
}
