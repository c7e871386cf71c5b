package server

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// checkHost refuses any Host but 127.0.0.1, localhost and [::1], with or
// without a port. This is the DNS-rebinding defence: a page on
// evil.example that re-resolves its name to 127.0.0.1 still sends its own
// name as Host. An empty host (":7070" or no header) is refused too;
// Ollama's fix let it through.
func checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !AllowedHost(r.Host) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("host %q is not allowed; use 127.0.0.1 or localhost", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AllowedHost reports whether a Host header names this machine's loopback.
func AllowedHost(h string) bool {
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		host, port = h[1:end], h[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if !validPort(port) {
				return false
			}
		}
		return host == "::1"
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if !validPort(port) {
			return false
		}
	}
	host = strings.ToLower(host)
	return host == "127.0.0.1" || host == "localhost"
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	n, _ := strconv.Atoi(p)
	return n >= 1 && n <= 65535
}

// limitBody refuses a declared oversized body at once and caps the rest,
// and refuses a compressed one, which would otherwise be read as text
// ("is not valid UTF-8", about bytes the sender never wrote).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported; send the body uncompressed", ce))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// only answers 405 with an Allow header to any other method.
func only(method string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not allowed; use %s", r.Method, r.URL.Path, method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// strangerRefused is the answer to another user's request for anything
// that needs the token.
const strangerRefused = "refused: this connection comes from another user's process, and a Cairn daemon serves only the user who runs it; run your own with 'cairn start'"

// authed requires "Authorization: Bearer <control token>", compared in
// constant time, or the dashboard's session cookie (session.go). The token
// is never taken from the query string, where it would end up in browser
// history and logs. A request that passes marks its connection
// authenticated (conns.go). State changes from the page still pass
// CrossOriginProtection, and SameSite=Strict keeps the cookie off other
// sites' requests.
func (s *Server) authed(next http.HandlerFunc) http.Handler {
	token := s.tokenOnly(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && s.hasSession(r) {
			authenticated(r.Context())
			next(w, r)
			return
		}
		token.ServeHTTP(w, r)
	})
}

// tokenOnly requires the bearer token and takes no cookie: for minting
// dashboard codes, so a browser session cannot renew itself forever.
// Another user's connection is refused whatever it sends (fromStranger).
func (s *Server) tokenOnly(next http.HandlerFunc) http.Handler {
	want := []byte("Bearer " + s.token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fromStranger(r) {
			writeError(w, http.StatusForbidden, strangerRefused)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong control token; send Authorization: Bearer <contents of control.token>")
			return
		}
		authenticated(r.Context())
		next(w, r)
	})
}
