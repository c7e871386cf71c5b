package server

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
)

// Idempotency-Key: a client that retries a write (the MCP bridge after a
// broken connection, say) sends the same key, and gets the first answer
// instead of a second write. Answers that wrote (2xx) are kept in memory
// for a day, at most idemMax of them: after a daemon restart a retry is
// still safe, because an identical memory comes back as "duplicate". The
// key is the request's: sent with another body it is refused (422), not
// answered with the first request's result.
const (
	idemTTL    = 24 * time.Hour
	idemMax    = 10000
	idemKeyMax = 128
)

type idemEntry struct {
	sum    [sha256.Size]byte // of the first request's method, path and body
	done   chan struct{}     // closed when the first request has answered
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
		// The body is read here to know the request again (it is bounded
		// already), and handed on as it was.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeBodyError(w, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\x00"), body...))
		e, first := s.idem.claim(key, sum)
		if !first && e.sum != sum {
			writeJSON(w, http.StatusUnprocessableEntity, api.Error{
				Error: "Idempotency-Key: was used for a different request in the last 24 hours; send a new key with a new request, the same key only with the same request retried",
				Field: "Idempotency-Key"})
			return
		}
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
		if e.code >= 400 {
			// Only a write is an answer to keep. A refusal wrote nothing:
			// the retry, perhaps with the body fixed, goes through again.
			s.idem.drop(key)
		}
		close(e.done)
	}
}

func (c *idemCache) claim(key string, sum [sha256.Size]byte) (*idemEntry, bool) {
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
	e := &idemEntry{sum: sum, done: make(chan struct{}), at: now}
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
