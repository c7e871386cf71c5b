package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
)

// The dashboard's way in. A browser never holds the control token: a client
// that has it (the tray, `cairn open`) asks POST /v1/session for a one-time
// code and opens /open?code=…, which trades the code for a session cookie.
// Codes and sessions live only in memory, so a daemon restart signs every
// browser out; `cairn open` gets a new one.
const (
	// CodeTTL is how long a one-time code can be exchanged.
	CodeTTL = 60 * time.Second
	// SessionIdle is how long a session lives without a request.
	SessionIdle = 12 * time.Hour
	// SessionCookie names the dashboard's session cookie.
	SessionCookie = "cairn_session"

	maxCodes    = 32 // unused codes kept; the oldest goes first
	maxSessions = 32 // sessions kept; the longest idle goes first
)

// secrets holds random values with a deadline each. Lookups compare every
// entry in constant time; the sets are small and bounded, so this costs
// nothing and leaks nothing about how much of a guess was right.
type secrets struct {
	max   int
	ttl   time.Duration
	items map[string]time.Time // value → when it stops being valid
}

func (s *secrets) add(v string, now time.Time) {
	s.sweep(now)
	if len(s.items) >= s.max {
		var oldest string
		for k, t := range s.items {
			if oldest == "" || t.Before(s.items[oldest]) {
				oldest = k
			}
		}
		delete(s.items, oldest)
	}
	s.items[v] = now.Add(s.ttl)
}

func (s *secrets) sweep(now time.Time) {
	for k, t := range s.items {
		if !now.Before(t) {
			delete(s.items, k)
		}
	}
}

// find returns the stored value equal to v that is still valid.
func (s *secrets) find(v string, now time.Time) (string, bool) {
	s.sweep(now)
	found := ""
	for k := range s.items {
		if len(k) == len(v) && subtle.ConstantTimeCompare([]byte(k), []byte(v)) == 1 {
			found = k
		}
	}
	return found, found != ""
}

// sessions is the dashboard's codes and sessions, with a clock tests set.
type sessions struct {
	mu    sync.Mutex
	now   func() time.Time
	codes secrets
	live  secrets
}

func newSessions() *sessions {
	return &sessions{
		now:   time.Now,
		codes: secrets{max: maxCodes, ttl: CodeTTL, items: map[string]time.Time{}},
		live:  secrets{max: maxSessions, ttl: SessionIdle, items: map[string]time.Time{}},
	}
}

func randomHex() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// newCode returns a fresh one-time code.
func (s *sessions) newCode() string {
	c := randomHex()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes.add(c, s.now())
	return c
}

// exchange spends code and returns a new session, or false when the code is
// unknown, expired or already used.
func (s *sessions) exchange(code string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k, ok := s.codes.find(code, now)
	if !ok {
		return "", false
	}
	delete(s.codes.items, k) // single use
	id := randomHex()
	s.live.add(id, now)
	return id, true
}

// valid reports whether id is a live session, and keeps it alive.
func (s *sessions) valid(id string) bool {
	if id == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k, ok := s.live.find(id, now)
	if ok {
		s.live.items[k] = now.Add(s.live.ttl)
	}
	return ok
}

// hasSession reports whether r carries a live session cookie.
func (s *Server) hasSession(r *http.Request) bool {
	if fromStranger(r) {
		return false
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && s.sess.valid(c.Value)
}

// newSession hands a token holder a one-time code for a browser.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request) {
	code := s.sess.newCode()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, api.Session{
		Code:      code,
		URL:       "http://" + s.info.Addr + "/open?code=" + code,
		ExpiresIn: int(CodeTTL / time.Second),
	})
}

// open trades a one-time code for a session cookie and sends the browser on
// to / with 303, so the code does not stay in the address bar or history.
func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	// Another user's connection is refused before the code is looked at,
	// so a code read off the owner's browser command line is neither
	// redeemed nor used up.
	if fromStranger(r) {
		s.page(w, http.StatusForbidden, "refused.html")
		return
	}
	id, ok := s.sess.exchange(r.URL.Query().Get("code"))
	if !ok {
		s.page(w, http.StatusForbidden, "refused.html")
		return
	}
	authenticated(r.Context())
	// No Secure attribute: the daemon serves plain http on loopback only,
	// and a Secure cookie would never be sent back to it. HttpOnly keeps
	// it from scripts; SameSite=Strict keeps other sites' pages from
	// sending it.
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
