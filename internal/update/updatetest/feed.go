// Package updatetest is a release feed for tests: an httptest server on
// loopback that answers like GitHub's releases/latest (with an ETag and
// 304 for a matching If-None-Match), or with whatever a test sets, and
// records every request it gets.
package updatetest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Feed is a test release feed.
type Feed struct {
	srv *httptest.Server

	mu       sync.Mutex
	body     string // what a 200 carries
	status   int    // 0: 200, or 304 when If-None-Match matches
	etag     string // "" sends none
	hang     bool   // never answer (until the request is cancelled)
	location string // a redirect's target
	requests []*http.Request
	changed  chan struct{} // closed and replaced on every request
	stop     chan struct{} // closed at cleanup
}

// Start starts a feed that serves the release tag, closed in t.Cleanup.
func Start(t testing.TB, tag string) *Feed {
	f := &Feed{changed: make(chan struct{}), stop: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.stop) }) // runs first: a hung request ends
	f.SetRelease(tag)
	return f
}

// URL is the feed's address, for CAIRN_UPDATE_URL or Checker.URL.
func (f *Feed) URL() string { return f.srv.URL + "/repos/cairnlabs/cairn/releases/latest" }

// PageURL is the release page the feed names for tag.
func (f *Feed) PageURL(tag string) string {
	return f.srv.URL + "/cairnlabs/cairn/releases/tag/" + tag
}

// SetRelease makes the feed answer 200 with a GitHub-shaped release of
// tag, with an ETag derived from it.
func (f *Feed) SetRelease(tag string) {
	body, _ := json.Marshal(map[string]any{
		"url": "https://api.github.com/repos/cairnlabs/cairn/releases/1", "id": 1,
		"tag_name": tag, "name": "Cairn " + tag, "draft": false, "prerelease": false,
		"html_url": f.PageURL(tag), "body": "Notes.", "assets": []any{},
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.status, f.etag, f.hang, f.location = string(body), 0, fmt.Sprintf(`"%x"`, sha256.Sum256(body)), false, ""
}

// SetBody makes the feed answer status with body and no ETag.
func (f *Feed) SetBody(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.status, f.etag, f.hang, f.location = body, status, "", false, ""
}

// SetRedirect makes the feed answer 302 to location.
func (f *Feed) SetRedirect(location string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.status, f.etag, f.hang, f.location = "", http.StatusFound, "", false, location
}

// Hang makes the feed take requests and never answer them.
func (f *Feed) Hang() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = true
}

// Requests returns the requests so far.
func (f *Feed) Requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// Changed returns a channel closed at the next request.
func (f *Feed) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *Feed) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	close(f.changed)
	f.changed = make(chan struct{})
	body, status, etag, hang, location := f.body, f.status, f.etag, f.hang, f.location
	f.mu.Unlock()
	if hang {
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
		return
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
		if status == 0 && r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusFound {
		w.Header().Set("Location", location)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}
