package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/store"
)

// Memories is what the API needs of the memory store (*store.Store).
type Memories interface {
	Put(ctx context.Context, m store.NewMemory) (store.PutResult, error)
	PutAll(ctx context.Context, ms []store.NewMemory) []store.PutOutcome
	Get(ctx context.Context, id string) (store.Memory, error)
	Update(ctx context.Context, id string, p store.Patch) (store.Memory, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, q store.Query) (store.Page, error)
	Tags(ctx context.Context) ([]store.TagCount, error)
	Stats(ctx context.Context) (store.Stats, error)
	Count() int64
	Export(ctx context.Context, fn func(store.Memory) error) error
	Check(ctx context.Context) error
}

// SetMemories gives the API its store; call it before HTTPServer. Without
// one (and without MemoriesOpening), the memory routes answer 503.
func (s *Server) SetMemories(m Memories) {
	s.mem = &memoryState{ready: make(chan struct{}), m: m}
	close(s.mem.ready)
}

// MemoriesOpening tells the API that its store is being opened while the
// daemon already serves: memory requests wait (up to StoreWait) for the
// returned opened to be called with the store, or with the reason it could
// not be opened, which they then answer with 503. Call it before
// HTTPServer, and call opened once.
func (s *Server) MemoriesOpening() (opened func(Memories, error)) {
	st := &memoryState{ready: make(chan struct{})}
	s.mem = st
	return func(m Memories, err error) {
		st.m, st.err = m, err
		close(st.ready)
	}
}

// StoreWait bounds how long a memory request waits for a store that is
// still opening (a first start creates it; an upgrade migrates it).
var StoreWait = 10 * time.Second

// memoryState is the API's store: ready is closed once m (or err) is set.
type memoryState struct {
	ready chan struct{}
	m     Memories
	err   error
}

// opened returns the store once it is open, without waiting: nil while it
// opens, when it failed, or when there is none.
func (s *Server) opened() Memories {
	if s.mem == nil {
		return nil
	}
	select {
	case <-s.mem.ready:
		return s.mem.m
	default:
		return nil
	}
}

func (s *Server) memoryRoutes(mux *http.ServeMux) {
	mux.Handle("/v1/memories", methods{
		http.MethodPost: s.authed(s.idempotent(s.remember)),
		http.MethodGet:  s.authed(s.list),
	})
	mux.Handle("/v1/memories/{id}", methods{
		http.MethodGet:    s.authed(s.get),
		http.MethodPatch:  s.authed(s.patch),
		http.MethodDelete: s.authed(s.forget),
	})
	mux.Handle("/v1/tags", only(http.MethodGet, s.authed(s.tags)))
	mux.Handle("/v1/stats", only(http.MethodGet, s.authed(s.stats)))
	mux.Handle("/v1/export", only(http.MethodGet, s.authed(s.export)))
	mux.Handle("/v1/check", only(http.MethodGet, s.authed(s.check)))
	mux.Handle("/v1/import", only(http.MethodPost, s.authed(s.importLines)))
}

// methods routes one path by method and answers any other with a JSON 405
// and an Allow header (ServeMux's own 405 is plain text).
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not allowed; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
}

// readJSON decodes the body into v strictly: valid UTF-8 (encoding/json
// would quietly turn invalid bytes into U+FFFD, changing what is stored),
// one JSON object, no unknown fields, nothing after it. It writes the 400
// itself and reports whether v is usable.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeBodyError(w, err)
		return false
	}
	body = bytes.TrimPrefix(body, utf8BOM)
	if !utf8.Valid(body) {
		writeFieldError(w, "body", "is not valid UTF-8")
		return false
	}
	if field, msg, trailing := decodeOne(body, v); field != "" {
		writeFieldError(w, field, msg)
		return false
	} else if trailing {
		writeFieldError(w, "body", "has more than one JSON value; send one object")
		return false
	}
	return true
}

// decodeOne decodes b into v with no unknown fields. A problem in the value
// is field and msg (jsonProblem); trailing is anything but white space
// after it ("}" and "]" too, which json.Decoder.More lets through).
func decodeOne(b []byte, v any) (field, msg string, trailing bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field, msg = jsonProblem(err)
		return field, msg, false
	}
	if field, msg := strictProblem(b, v); field != "" {
		return field, msg, false
	}
	return "", "", len(bytes.TrimSpace(b[dec.InputOffset():])) > 0
}

// jsonProblem names the field a decoding error is about, where it can.
func jsonProblem(err error) (field, msg string) {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		f := typeErr.Field
		if f == "" {
			f = "body"
		}
		return f, fmt.Sprintf("must be %s, not a JSON %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return "body", fmt.Sprintf("is not valid JSON (at byte %d): %v", syntaxErr.Offset, err)
	case errors.Is(err, io.EOF):
		return "body", "is empty; send a JSON object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil || name == "" {
			// A field with no name ("") would make an error that names
			// nothing: the body is what is wrong.
			return "body", "has the unknown field " + quoted
		}
		return name, "is not a known field"
	}
	return "body", "is not valid JSON: " + err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "ptr", "struct", "map":
		return "an object"
	}
	return "a number"
}

func writeFieldError(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, api.Error{Error: field + ": " + msg, Field: field})
}

// writeStoreError maps the store's errors onto HTTP: bad input is the
// caller's (400, naming the field), a full disk is 507, never a 500 for
// anything a client sent.
func (s *Server) writeStoreError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		writeFieldError(w, ve.Field, ve.Msg)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no memory with id "+strconv.Quote(r.PathValue("id")))
	case errors.Is(err, store.ErrFull):
		writeError(w, http.StatusInsufficientStorage, err.Error())
	case (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && r.Context().Err() != nil:
		writeError(w, http.StatusServiceUnavailable, "the request was given up before it finished (the connection closed); retry it")
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "the daemon is shutting down; retry in a moment")
	case store.IsDamaged(err):
		// Not a failure of the daemon's: the file was damaged under it (a
		// disk error, a copy that did not finish), and no retry mends it.
		s.logf("memory store damaged", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the memory store is damaged ("+err.Error()+"); run 'cairn doctor', which says how to save what can still be read")
	default:
		s.logf("store error", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "the memory store failed; see daemon.log: "+err.Error())
	}
}

// detached is the context a request's store call runs under: the
// request's values without its cancellation. net/http cancels a request
// when its client half-closes the connection (it reads EOF), and such a
// client still reads the answer: a write it sent must be answered with
// what happened, not "failed" after it was stored. Store calls are short;
// the export, which is not, keeps the request's context.
func detached(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// store returns the memory store for a request, waiting for it while it
// opens; without one it writes the 503 itself and returns nil.
func (s *Server) store(w http.ResponseWriter, r *http.Request) Memories {
	st := s.mem
	if st == nil {
		writeError(w, http.StatusServiceUnavailable, "the memory store is not open")
		return nil
	}
	select {
	case <-st.ready:
	default:
		wait := time.NewTimer(StoreWait)
		defer wait.Stop()
		select {
		case <-st.ready:
		case <-wait.C:
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the memory store is still opening after %s; retry in a moment, or see daemon.log", StoreWait))
			return nil
		case <-r.Context().Done():
			writeError(w, http.StatusServiceUnavailable, "the memory store is still opening; retry in a moment")
			return nil
		}
	}
	if st.err != nil {
		writeError(w, http.StatusServiceUnavailable, "the memory store is unavailable: "+st.err.Error())
		return nil
	}
	return st.m
}

// rememberRequest is the body of POST /v1/memories.
type rememberRequest struct {
	Text        *string         `json:"text"`
	Tags        []string        `json:"tags"`
	Project     string          `json:"project"`
	Source      string          `json:"source"`
	Key         string          `json:"key"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	AllowSecret bool            `json:"allow_secret"`
}

func (s *Server) remember(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	var req rememberRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Text == nil {
		writeFieldError(w, "text", "is required")
		return
	}
	m := store.NewMemory{Text: *req.Text, Tags: req.Tags, Project: req.Project, Source: req.Source, Key: req.Key, AllowSecret: req.AllowSecret}
	if len(req.ExpiresIn) > 0 && string(req.ExpiresIn) != "null" {
		d, err := api.ParseExpiresIn(req.ExpiresIn)
		if err != nil {
			writeFieldError(w, "expires_in", err.Error())
			return
		}
		at := time.Now().Add(d)
		m.ExpiresAt = &at
	}
	res, err := st.Put(detached(r), m)
	if err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	code := http.StatusCreated
	if res.Status == store.StatusDuplicate {
		code = http.StatusOK // nothing was created: the existing memory's id
	}
	writeJSON(w, code, res)
}

// listParams are the query parameters GET /v1/memories takes; any other is
// refused, so a typo (tags=, limt=) is an error, not a silent no-op.
var listParams = map[string]bool{"q": true, "tag": true, "project": true, "since": true, "until": true,
	"limit": true, "cursor": true, "max_bytes": true, "include_superseded": true}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// r.URL.Query() would drop the broken pair silently.
		writeFieldError(w, "query", "is not a valid query string: "+err.Error())
		return
	}
	q, field, msg := parseQuery(values)
	if field != "" {
		writeFieldError(w, field, msg)
		return
	}
	page, err := st.List(detached(r), q)
	if err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// parseQuery turns GET /v1/memories's parameters into a store.Query, or
// names the parameter that is wrong.
func parseQuery(v url.Values) (q store.Query, field, msg string) {
	for k := range v {
		if !listParams[k] {
			return q, k, "is not a known parameter (use q, tag, project, since, until, limit, cursor, max_bytes, include_superseded)"
		}
	}
	for k, vals := range v {
		if k != "tag" && len(vals) > 1 {
			return q, k, "is given more than once"
		}
		for _, s := range vals {
			if !utf8.ValidString(s) {
				return q, k, "is not valid UTF-8"
			}
		}
	}
	q.Q, q.Tags, q.Project, q.Cursor = v.Get("q"), v["tag"], v.Get("project"), v.Get("cursor")
	var err error
	if q.Since, err = api.ParseTime(v.Get("since")); err != nil {
		return q, "since", err.Error()
	}
	if q.Until, err = api.ParseTime(v.Get("until")); err != nil {
		return q, "until", err.Error()
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, "until", fmt.Sprintf("%s is not after since (%s), so nothing could match; until is exclusive",
			q.Until.UTC().Format(time.RFC3339Nano), q.Since.UTC().Format(time.RFC3339Nano))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return q, "limit", "must be a whole number from 1 to 200"
		}
		q.Limit = n
	}
	if s := v.Get("max_bytes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, "max_bytes", "must be a whole number of bytes, 0 or more"
		}
		q.MaxBytes = n
	}
	if s := v.Get("include_superseded"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, "include_superseded", "must be true or false"
		}
		q.IncludeSuperseded = b
	}
	return q, "", ""
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	m, err := st.Get(detached(r), r.PathValue("id"))
	if err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// patchRequest is the body of PATCH /v1/memories/{id}.
type patchRequest struct {
	Text        *string  `json:"text"`
	AddTags     []string `json:"add_tags"`
	RemoveTags  []string `json:"remove_tags"`
	AllowSecret bool     `json:"allow_secret"`
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	var req patchRequest
	if !readJSON(w, r, &req) {
		return
	}
	m, err := st.Update(detached(r), r.PathValue("id"), store.Patch{Text: req.Text, AddTags: req.AddTags, RemoveTags: req.RemoveTags, AllowSecret: req.AllowSecret})
	if err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) forget(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	if err := st.Delete(detached(r), id); err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Deleted{ID: id, Status: "deleted"})
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	tags, err := st.Tags(detached(r))
	if err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	if tags == nil {
		tags = []store.TagCount{}
	}
	writeJSON(w, http.StatusOK, api.Tags{Tags: tags})
}

// check runs the store's integrity checks (SQLite's and the FTS index's):
// for `cairn doctor`, which may not open the database itself.
func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	res := api.StoreCheck{OK: true, Count: st.Count()}
	if err := st.Check(r.Context()); err != nil {
		res.OK, res.Error = false, err.Error()
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	stats, err := st.Stats(detached(r))
	if err != nil {
		s.writeStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, stats)
}

// export streams every memory as JSON Lines, oldest first: the format
// `cairn import` reads back losslessly.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	started := false
	err := st.Export(r.Context(), func(m store.Memory) error {
		if !started {
			started = true
			w.WriteHeader(http.StatusOK)
		}
		// A long export must not be cut by the server's write timeout.
		rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		return enc.Encode(exportRecord{Memory: m, AllowSecret: store.LooksLikeSecret(m.Text)})
	})
	if err != nil && !started {
		s.writeStoreError(w, r, err)
		return
	}
	if !started {
		w.WriteHeader(http.StatusOK)
	}
	bw.Flush()
	if err != nil {
		// Headers are gone; the client sees a cut stream and reports it.
		s.logf("export cut short", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// exportRecord is a memory as export writes it: allow_secret marks text
// that looks like a secret (stored so on purpose), so that importing the
// file keeps it instead of refusing it.
type exportRecord struct {
	store.Memory
	AllowSecret bool `json:"allow_secret,omitempty"`
}

// importLines stores each JSON Lines record of the body (as `cairn export`
// writes them), keeping ids and times, so importing twice is harmless.
// Lines are independent: a bad one is reported by number and the rest go
// on. The CLI sends large files in batches under the body limit.
func (s *Server) importLines(w http.ResponseWriter, r *http.Request) {
	st := s.store(w, r)
	if st == nil {
		return
	}
	// Parsed strictly, as list's are: url.Query drops what it cannot read.
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeFieldError(w, "query", "cannot be read: "+err.Error())
		return
	}
	var allowSecret bool
	for k, v := range params {
		if k != "allow_secret" {
			writeFieldError(w, k, "is not a parameter of an import (it takes only allow_secret=true: every line may hold a secret, as a backup's may)")
			return
		}
		b, err := strconv.ParseBool(v[0])
		if len(v) > 1 || err != nil {
			writeFieldError(w, k, "must be given once, as true or false")
			return
		}
		allowSecret = b
	}
	// The whole body is read before any line is stored: one over the limit
	// (sent chunked, with no length to refuse it by up front) is refused
	// whole, not after the lines before the limit went in.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	type item struct {
		line    int
		m       store.NewMemory
		put     store.PutResult
		err     error
		expired bool
	}
	var items []*item
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	sc.Buffer(make([]byte, 0, 64<<10), MaxBodyBytes)
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		it := &item{line: line}
		it.m, it.err = decodeImportLine(raw)
		it.m.AllowSecret = it.m.AllowSecret || allowSecret
		// A memory that has expired since it was exported is skipped, not
		// refused: the store would purge it anyway, and a backup restored
		// (or imported twice) after one of its memories expired must still
		// go in whole. Its other fields are not checked: nothing of it is
		// stored.
		it.expired = it.err == nil && it.m.ExpiresAt != nil && !it.m.ExpiresAt.After(time.Now())
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		writeBodyError(w, err)
		return
	}

	// The lines are queued together (PutAll), so the store's writer
	// commits them in batches (one Put after another, each was a commit
	// of its own: ~2,200 lines/s here), and in the file's order: export is
	// oldest first, so each version of a key supersedes the one before it
	// as it did when written, and the export of an import is the file.
	var todo []*item
	var ms []store.NewMemory
	for _, it := range items {
		if it.err == nil && !it.expired {
			todo = append(todo, it)
			ms = append(ms, it.m)
		}
	}
	for i, o := range st.PutAll(detached(r), ms) {
		todo[i].put, todo[i].err = o.Result, o.Err
		if errors.Is(o.Err, store.ErrFull) || errors.Is(o.Err, store.ErrClosed) {
			s.writeStoreError(w, r, o.Err)
			return
		}
	}

	res := api.ImportResult{Errors: []api.ImportError{}}
	for _, it := range items {
		switch {
		case it.expired:
			res.Expired++
		case it.err != nil:
			res.Errors = append(res.Errors, api.ImportError{Line: it.line, Error: it.err.Error()})
		case it.put.Status == store.StatusDuplicate:
			res.Duplicate++
		case it.put.Status == store.StatusDiffers:
			res.Differs++
		default:
			res.Created++
		}
	}
	writeJSON(w, http.StatusOK, res)
}

// importRecord is one line of JSON Lines as `cairn export` writes it. Its
// times are read as strings and parsed here, so a bad one is named
// (encoding/json's error for a time says neither which field nor why).
type importRecord struct {
	ID           string   `json:"id"`
	Text         *string  `json:"text"`
	Tags         []string `json:"tags"`
	Project      string   `json:"project"`
	Source       string   `json:"source"`
	Key          string   `json:"key"`
	ExpiresAt    *string  `json:"expires_at"`
	CreatedAt    *string  `json:"created_at"`
	UpdatedAt    *string  `json:"updated_at"`
	SupersededBy string   `json:"superseded_by"`
	Score        float64  `json:"score"`
	AllowSecret  bool     `json:"allow_secret"`
}

// decodeImportLine reads one exported memory. Export is oldest first, so a
// memory another replaced (same key) is imported before its successor,
// which supersedes it again: the chain survives the round trip.
func decodeImportLine(raw []byte) (store.NewMemory, error) {
	if !utf8.Valid(raw) {
		return store.NewMemory{}, errors.New("body: is not valid UTF-8")
	}
	var rec importRecord
	if field, msg, trailing := decodeOne(raw, &rec); field != "" {
		return store.NewMemory{}, fmt.Errorf("%s: %s", field, msg)
	} else if trailing {
		return store.NewMemory{}, errors.New("body: the line has more than one JSON value; each line holds one memory")
	}
	if rec.Text == nil {
		return store.NewMemory{}, errors.New("text: is required")
	}
	if rec.ID == "" {
		return store.NewMemory{}, errors.New("id: is required (import keeps ids, so importing twice is harmless)")
	}
	m := store.NewMemory{
		ID: rec.ID, Text: *rec.Text, Tags: rec.Tags, Project: rec.Project, Source: rec.Source, Key: rec.Key,
		// A memory stored as a secret on purpose is exported with
		// allow_secret, so the round trip keeps it; a line without it is
		// checked like any write.
		AllowSecret: rec.AllowSecret,
	}
	for _, f := range []struct {
		name string
		in   *string
		out  *time.Time
	}{{"created_at", rec.CreatedAt, &m.CreatedAt}, {"updated_at", rec.UpdatedAt, &m.UpdatedAt}} {
		if f.in == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *f.in)
		if err != nil {
			return store.NewMemory{}, fmt.Errorf("%s: %q is not a time; use RFC 3339, as cairn export writes it (2026-12-04T10:00:00Z)", f.name, *f.in)
		}
		*f.out = t
	}
	if rec.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *rec.ExpiresAt)
		if err != nil {
			return store.NewMemory{}, fmt.Errorf("expires_at: %q is not a time; use RFC 3339, as cairn export writes it (2026-12-04T10:00:00Z)", *rec.ExpiresAt)
		}
		m.ExpiresAt = &t
	}
	return m, nil
}
