package server

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Idempotency-Key: a client that retries a write (the MCP bridge after a
// broken connection, say) sends the same key, and gets the first answer
// instead of a second write. Answers are kept in memory for a day, at most
// idemMax of them: after a daemon restart a retry is still safe, because an
// identical memory comes back as "duplicate".
const (
	idemTTL    = 24 * time.Hour
	idemMax    = 10000
	idemKeyMax = 128
)

type idemEntry struct {
	done   chan struct{} // closed when the first request has answered
	code   int
	header http.Header
	body   []byte
	at     time.Time
}

type idemCache struct {
	mu      sync.Mutex
	entries map[string]*idemEntry
}

func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		if len(key) > idemKeyMax || !printableASCII(key) {
			writeFieldError(w, "Idempotency-Key", "must be 1 to 128 printable ASCII characters")
			return
		}
		e, first := s.idem.claim(key)
		if !first {
			select {
			case <-e.done:
			case <-r.Context().Done():
				return
			}
			for k, v := range e.header {
				w.Header()[k] = v
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(e.code)
			w.Write(e.body)
			return
		}
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		next(rec, r)
		e.code, e.header, e.body = rec.code, w.Header().Clone(), rec.buf.Bytes()
		if e.code >= 500 || e.code == http.StatusTooManyRequests {
			s.idem.drop(key) // a failure is not an answer: let the retry try again
		}
		close(e.done)
	}
}

func (c *idemCache) claim(key string) (*idemEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*idemEntry{}
	}
	now := time.Now()
	if e, ok := c.entries[key]; ok && now.Sub(e.at) < idemTTL {
		return e, false
	}
	if len(c.entries) >= idemMax {
		c.evict(now)
	}
	e := &idemEntry{done: make(chan struct{}), at: now}
	c.entries[key] = e
	return e, true
}

// evict drops expired answers, and if none were, the oldest tenth.
func (c *idemCache) evict(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= idemTTL {
			delete(c.entries, k)
		}
	}
	for len(c.entries) >= idemMax {
		var oldest string
		var at time.Time
		for k, e := range c.entries {
			if oldest == "" || e.at.Before(at) {
				oldest, at = k, e.at
			}
		}
		delete(c.entries, oldest)
	}
}

func (c *idemCache) drop(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// recorder keeps a copy of what a handler answers.
type recorder struct {
	http.ResponseWriter
	code int
	buf  bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}
