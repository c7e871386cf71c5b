package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHomePage(t *testing.T) {
	s := New(Info{PID: 4242, Version: "1.2.3", DataDir: "/secret/data", StartedAt: time.Now()}, "s3cr3t-t0ken", func() {})
	h := s.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:7070"+path, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := get("/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{"Cairn is running", "1.2.3", "4242"} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q:\n%s", want, body)
		}
	}
	// Open like /health: nothing private on it.
	if strings.Contains(body, "/secret/data") || strings.Contains(body, "s3cr3t-t0ken") {
		t.Errorf("home page shows private data:\n%s", body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("home page sent a CORS header")
	}
	// Only the root itself: anything else is still a JSON 404.
	if w := get("/nope"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("GET /nope = %d %q, want a JSON 404", w.Code, w.Body.String())
	}
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:7070/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		t.Errorf("POST / = 200; the page is GET only")
	}
}
