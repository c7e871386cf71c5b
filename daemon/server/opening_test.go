package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/store"
)

// newOpeningAPI serves the real handler while its store is still opening;
// the test opens it with the returned func.
func newOpeningAPI(t *testing.T) (*httptest.Server, func(Memories, error)) {
	t.Helper()
	s := New(Info{PID: 1, Addr: "127.0.0.1:7070", StartedAt: time.Now()}, apiToken, func() {})
	opened := s.MemoriesOpening()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, opened
}

// TestRequestsWaitForTheOpeningStore: the daemon serves before its store
// is open; status says so (-1 memories) and a write made meanwhile waits,
// then succeeds once the store is open.
func TestRequestsWaitForTheOpeningStore(t *testing.T) {
	ts, opened := newOpeningAPI(t)
	code, body := call(t, ts, "GET", "/v1/status", "")
	var st api.Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || st.Memories != -1 {
		t.Fatalf("status while opening: %d %s, want memories -1", code, body)
	}
	type answer struct {
		code int
		body string
	}
	done := make(chan answer, 1)
	go func() {
		code, body := call(t, ts, "POST", "/v1/memories", `{"text":"written while the store opened"}`)
		done <- answer{code, body}
	}()
	select {
	case a := <-done:
		t.Fatalf("a write answered %d %s before the store was open", a.code, a.body)
	case <-time.After(100 * time.Millisecond):
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "cairn.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opened(db, nil)
	select {
	case a := <-done:
		if a.code != http.StatusCreated {
			t.Fatalf("the waiting write: %d %s, want 201", a.code, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting write was not answered after the store opened")
	}
	if code, body := call(t, ts, "GET", "/v1/status", ""); !strings.Contains(body, `"memories":1`) {
		t.Fatalf("status after the write: %d %s, want 1 memory", code, body)
	}
}

// TestStoreThatFailsToOpen: memory requests get a 503 that says why, and
// the rest of the API still answers.
func TestStoreThatFailsToOpen(t *testing.T) {
	ts, opened := newOpeningAPI(t)
	opened(nil, errors.New("the memory store cairn.db was written by a newer Cairn"))
	code, body := call(t, ts, "GET", "/v1/memories?q=anything", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "newer Cairn") {
		t.Fatalf("recall with a failed store: %d %s, want 503 naming the reason", code, body)
	}
	if code, body := call(t, ts, "GET", "/v1/status", ""); code != http.StatusOK || !strings.Contains(body, `"memories":-1`) {
		t.Fatalf("status with a failed store: %d %s", code, body)
	}
}

// TestStoreStillOpening: a request gives up after StoreWait with a 503.
func TestStoreStillOpening(t *testing.T) {
	defer func(d time.Duration) { StoreWait = d }(StoreWait)
	StoreWait = 50 * time.Millisecond
	ts, _ := newOpeningAPI(t)
	code, body := call(t, ts, "GET", "/v1/tags", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "still opening") {
		t.Fatalf("tags while the store stays opening: %d %s, want 503", code, body)
	}
}
