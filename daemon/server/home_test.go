package server

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/store"
	"github.com/cairnlabs/cairn/daemon/web"
)

// fakeClock is the sessions' clock seam: tests move it, nothing sleeps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const secretText = "the vault combination is 31-41-59"

// dashboard is the real handler over a real store holding one memory, with
// the sessions on a fake clock.
func dashboard(t *testing.T) (http.Handler, *fakeClock) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "cairn.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Put(t.Context(), store.NewMemory{Text: secretText}); err != nil {
		t.Fatal(err)
	}
	s := New(Info{PID: 4242, Addr: "127.0.0.1:7070", Version: "1.2.3", DataDir: "/secret/data", StartedAt: time.Now()}, apiToken, func() {})
	s.SetMemories(st)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s.sess.now = clock.now
	return s.Handler(), clock
}

// do sends one request; hdr is name, value pairs ("Cookie", …).
func do(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://127.0.0.1:7070"+target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			r.Host = hdr[i+1]
			continue
		}
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newCode(t *testing.T, h http.Handler) api.Session {
	t.Helper()
	w := do(h, http.MethodPost, "/v1/session", "Authorization", "Bearer "+apiToken)
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/session = %d %s", w.Code, w.Body)
	}
	var c api.Session
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Code) != 64 || c.ExpiresIn != 60 || c.URL != "http://127.0.0.1:7070/open?code="+c.Code {
		t.Fatalf("session answer %+v", c)
	}
	return c
}

// exchange opens /open?code= and returns the answer.
func exchange(h http.Handler, code string) *httptest.ResponseRecorder {
	return do(h, http.MethodGet, "/open?code="+url.QueryEscape(code))
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", SessionCookie, w.Header())
	return nil
}

func assertPrivateFree(t *testing.T, what, body string) {
	t.Helper()
	for _, private := range []string{secretText, "31-41-59", "/secret/data", apiToken, "4242"} {
		if strings.Contains(body, private) {
			t.Errorf("%s shows private %q:\n%s", what, private, body)
		}
	}
}

func TestSessionExchange(t *testing.T) {
	h, _ := dashboard(t)
	c := newCode(t, h)

	w := exchange(h, c.Code)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("exchange = %d Location %q, want 303 to /", w.Code, w.Header().Get("Location"))
	}
	ck := sessionCookie(t, w)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure || len(ck.Value) != 64 {
		t.Errorf("cookie %+v, want HttpOnly, SameSite=Strict, Path=/, 32 random bytes in hex", ck)
	}
	if ck.Value == c.Code {
		t.Error("the session is the code itself")
	}
	cookie := SessionCookie + "=" + ck.Value

	// The cookie reaches the API: memories, status, and a state change.
	if w := do(h, http.MethodGet, "/v1/memories", "Cookie", cookie); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), secretText) {
		t.Errorf("GET /v1/memories with the cookie = %d %s", w.Code, w.Body)
	}
	if w := do(h, http.MethodGet, "/v1/status", "Cookie", cookie); w.Code != http.StatusOK {
		t.Errorf("GET /v1/status with the cookie = %d", w.Code)
	}
	// The dashboard itself, with the cookie.
	if w := do(h, http.MethodGet, "/", "Cookie", cookie); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `src="/static/app.js"`) {
		t.Errorf("GET / with the cookie = %d, not the dashboard:\n%s", w.Code, w.Body)
	}
	// A session cannot mint codes: that takes the token.
	if w := do(h, http.MethodPost, "/v1/session", "Cookie", cookie); w.Code != http.StatusUnauthorized {
		t.Errorf("POST /v1/session with only the cookie = %d, want 401", w.Code)
	}
	// A made-up cookie is nothing.
	if w := do(h, http.MethodGet, "/v1/memories", "Cookie", SessionCookie+"="+strings.Repeat("0", 64)); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /v1/memories with a made-up cookie = %d, want 401", w.Code)
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	h, _ := dashboard(t)
	c := newCode(t, h)
	if w := exchange(h, c.Code); w.Code != http.StatusSeeOther {
		t.Fatalf("first exchange = %d", w.Code)
	}
	w := exchange(h, c.Code)
	if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Fatalf("second exchange = %d, cookies %v; want 403 and none", w.Code, w.Result().Cookies())
	}
	if !strings.Contains(w.Body.String(), "cairn open") {
		t.Errorf("the refusal does not say how to get in:\n%s", w.Body)
	}
	assertPrivateFree(t, "the refusal", w.Body.String())
}

func TestCodeExpires(t *testing.T) {
	h, clock := dashboard(t)
	c := newCode(t, h)
	clock.add(CodeTTL)
	if w := exchange(h, c.Code); w.Code != http.StatusForbidden {
		t.Fatalf("exchange at 60 s = %d, want 403", w.Code)
	}
	c = newCode(t, h)
	clock.add(CodeTTL - time.Second)
	if w := exchange(h, c.Code); w.Code != http.StatusSeeOther {
		t.Fatalf("exchange at 59 s = %d, want 303", w.Code)
	}
}

func TestSessionExpiresWhenIdle(t *testing.T) {
	h, clock := dashboard(t)
	cookie := SessionCookie + "=" + sessionCookie(t, exchange(h, newCode(t, h).Code)).Value
	// Use keeps it alive past SessionIdle from its start...
	clock.add(SessionIdle - time.Minute)
	if w := do(h, http.MethodGet, "/v1/memories", "Cookie", cookie); w.Code != http.StatusOK {
		t.Fatalf("after 12 h less a minute = %d", w.Code)
	}
	clock.add(SessionIdle - time.Minute)
	if w := do(h, http.MethodGet, "/v1/memories", "Cookie", cookie); w.Code != http.StatusOK {
		t.Fatalf("used again within 12 h = %d", w.Code)
	}
	// ...and 12 h unused ends it.
	clock.add(SessionIdle)
	if w := do(h, http.MethodGet, "/v1/memories", "Cookie", cookie); w.Code != http.StatusUnauthorized {
		t.Fatalf("after 12 h idle = %d, want 401", w.Code)
	}
}

func TestUnknownCodeIsRefused(t *testing.T) {
	h, _ := dashboard(t)
	newCode(t, h)
	for _, code := range []string{"", "nope", strings.Repeat("a", 64)} {
		w := exchange(h, code)
		if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
			t.Errorf("exchange %q = %d, want 403 and no cookie", code, w.Code)
		}
	}
	if w := do(h, http.MethodPost, "/v1/session"); w.Code != http.StatusUnauthorized {
		t.Errorf("POST /v1/session without the token = %d, want 401", w.Code)
	}
}

func TestNoSessionSeesNothingPrivate(t *testing.T) {
	h, _ := dashboard(t)
	if w := do(h, http.MethodGet, "/v1/memories"); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /v1/memories without a cookie = %d, want 401", w.Code)
	}
	w := do(h, http.MethodGet, "/")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "cairn open") || !strings.Contains(w.Body.String(), "Open dashboard") {
		t.Fatalf("GET / without a session = %d:\n%s", w.Code, w.Body)
	}
	assertPrivateFree(t, "the sign-in page", w.Body.String())
	if strings.Contains(w.Body.String(), "app.js") {
		t.Error("the sign-in page loads the dashboard's script")
	}
}

func TestForeignHostIsRefused(t *testing.T) {
	h, _ := dashboard(t)
	c := newCode(t, h)
	for _, target := range []string{"/", "/open?code=" + c.Code, "/static/app.js"} {
		if w := do(h, http.MethodGet, target, "Host", "evil.example:7070"); w.Code != http.StatusForbidden {
			t.Errorf("GET %s with Host evil.example = %d, want 403", target, w.Code)
		}
	}
	// The refused exchange did not spend the code.
	if w := exchange(h, c.Code); w.Code != http.StatusSeeOther {
		t.Errorf("exchange after the foreign-Host try = %d, want 303", w.Code)
	}
}

func TestDashboardHeaders(t *testing.T) {
	h, _ := dashboard(t)
	cookie := SessionCookie + "=" + sessionCookie(t, exchange(h, newCode(t, h).Code)).Value
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	}
	for _, c := range []struct{ name, target, cookie string }{
		{"sign-in page", "/", ""},
		{"dashboard", "/", cookie},
		{"refusal", "/open?code=x", ""},
		{"script", "/static/app.js", ""},
		{"styles", "/static/app.css", ""},
	} {
		w := do(h, http.MethodGet, c.target, "Cookie", c.cookie)
		if w.Code >= 500 || w.Code == http.StatusNotFound {
			t.Errorf("%s: %d", c.name, w.Code)
		}
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s sent a CORS header", c.name)
		}
	}
	// Under /static/ only the scripts and styles: no pages, no listing.
	for _, target := range []string{"/static/", "/static/index.html", "/static/login.html"} {
		if w := do(h, http.MethodGet, target); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, w.Code)
		}
	}
	// No inline script or style in the pages (the CSP would block them).
	for _, name := range []string{"index.html", "login.html", "refused.html"} {
		b, err := fs.ReadFile(web.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		if strings.Contains(body, "<style") || strings.Contains(body, "style=") || strings.Contains(body, "<script>") || strings.Contains(body, "onclick") {
			t.Errorf("%s has inline script or style", name)
		}
	}
	// A cross-site state change is still refused with a cookie.
	w := do(h, http.MethodDelete, "/v1/memories/x", "Cookie", cookie, "Sec-Fetch-Site", "cross-site")
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site DELETE with the cookie = %d, want 403", w.Code)
	}
	// Only the root itself: anything else is still a JSON 404, and the
	// page is GET only.
	if w := do(h, http.MethodGet, "/nope"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("GET /nope = %d %q, want a JSON 404", w.Code, w.Body.String())
	}
	if w := do(h, http.MethodPost, "/"); w.Code == http.StatusOK {
		t.Errorf("POST / = 200; the page is GET only")
	}
}

// Codes are bounded: minting many keeps only the newest.
func TestCodesAreBounded(t *testing.T) {
	h, clock := dashboard(t)
	first := newCode(t, h)
	for range maxCodes {
		clock.add(time.Millisecond)
		newCode(t, h)
	}
	if w := exchange(h, first.Code); w.Code != http.StatusForbidden {
		t.Errorf("the oldest of %d codes = %d, want 403 (evicted)", maxCodes+1, w.Code)
	}
}

// TestStaticRefusesNamesNoFileCanHave (found by FuzzRequest): a dashboard
// file name with invalid UTF-8 (/static/%ff.js) reached FileServerFS, which
// answered 500; it is a 404 like any other name that is not ours.
func TestStaticRefusesNamesNoFileCanHave(t *testing.T) {
	h, _ := dashboard(t)
	for _, target := range []string{"/static/%ff.js", "/static/a/%ff.css"} {
		if w := do(h, http.MethodGet, target); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", target, w.Code, w.Body)
		}
	}
	if w := do(h, http.MethodGet, "/static/app.js"); w.Code != http.StatusOK {
		t.Errorf("GET /static/app.js: %d", w.Code)
	}
}
