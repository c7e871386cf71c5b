// Package server is the daemon's local HTTP API and the security that wraps
// every request: Host allowlist, cross-origin protection, bearer token, body
// limit and JSON errors.
package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/proof"
	"github.com/cairnlabs/cairn/daemon/web"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// HeartbeatInterval is how often /v1/events sends a heartbeat.
var HeartbeatInterval = 15 * time.Second

// Info describes the running daemon for /health and /v1/status.
type Info struct {
	PID        int
	Addr       string
	Version    string
	DataDir    string
	Supervisor string
	StartedAt  time.Time
}

// Server serves the API. Create it with New.
type Server struct {
	info     Info
	token    string
	shutdown func() // asks the daemon to shut down; called at most once

	conns *conns    // the connection policy (conns.go)
	sess  *sessions // the dashboard's codes and sessions (session.go)

	mem  *memoryState // the store; nil until SetMemories or MemoriesOpening
	feed *Feed        // the store's changes; nil sends none
	idem idemCache    // answers by Idempotency-Key
	log  *slog.Logger // never nil

	shutdownOnce sync.Once
	drainOnce    sync.Once
	draining     chan struct{}
}

// New returns a server that authenticates with token and calls shutdown when
// a client asks the daemon to stop.
func New(info Info, token string, shutdown func()) *Server {
	return &Server{info: info, token: token, shutdown: shutdown, conns: newConns(), sess: newSessions(), draining: make(chan struct{}),
		log: slog.New(slog.DiscardHandler)}
}

// HTTPServer returns an http.Server with the API's handler and timeouts that
// keep a slow or stuck client from holding the daemon. Serve it on
// listeners wrapped by Listener: the hooks apply the connection policy
// (conns.go) to what those accept.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ConnState:         s.conns.connState,
		ConnContext:       connContext,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// BeginDrain tells long-lived requests (the event stream) that the daemon is
// shutting down, so they send their last events and end; http.Server's
// Shutdown then only waits for ordinary requests.
func (s *Server) BeginDrain() {
	s.drainOnce.Do(func() {
		close(s.draining)
		s.conns.closeUnused()
	})
}

// Handler is the API with its security middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/health", only(http.MethodGet, http.HandlerFunc(s.health)))
	mux.Handle(proof.Path, only(http.MethodGet, http.HandlerFunc(s.prove)))
	mux.Handle("/v1/status", only(http.MethodGet, s.authed(s.status)))
	mux.Handle("/v1/shutdown", only(http.MethodPost, s.authed(s.shutdownHandler)))
	mux.Handle("/v1/events", only(http.MethodGet, s.authed(s.events)))
	s.memoryRoutes(mux)
	mux.Handle("/v1/session", only(http.MethodPost, s.tokenOnly(s.newSession)))
	mux.Handle("/open", only(http.MethodGet, http.HandlerFunc(s.open)))
	mux.Handle("GET /static/", s.static())
	mux.Handle("GET /{$}", http.HandlerFunc(s.home))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	return s.conns.admit(checkHost(limitBody(cop.Handler(mux))))
}

// prove answers a client's challenge with a MAC made with the token over the
// nonce, the address this daemon serves and its PID: the client checks it
// before it sends the token on this connection (package proof).
func (s *Server) prove(w http.ResponseWriter, r *http.Request) {
	nonce, err := proof.ParseNonce(r.URL.Query().Get("nonce"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, proof.Answer{PID: s.info.PID, Proof: proof.Sign(s.token, nonce, s.info.Addr, s.info.PID)})
}

// SetLog sends the API's own log lines (store failures) to log.
func (s *Server) SetLog(log *slog.Logger) { s.log = log }

func (s *Server) logf(msg string, args ...any) { s.log.Warn(msg, args...) }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{
		Status:  "ok",
		Service: api.Service,
		PID:     s.info.PID,
		Version: s.info.Version,
		Uptime:  uptime(s.info.StartedAt),
	})
}

// securityHeaders are sent with every page and file of the dashboard: no
// inline script or style, nothing from another origin, no framing, no
// referrer, no MIME sniffing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
}

// home serves the dashboard to a browser with a session, and to anyone
// else a page that says how to get in and shows nothing private.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if s.hasSession(r) {
		authenticated(r.Context())
		s.page(w, http.StatusOK, "index.html")
		return
	}
	s.page(w, http.StatusOK, "login.html")
}

// page writes one of the dashboard's HTML files.
func (s *Server) page(w http.ResponseWriter, code int, name string) {
	b, err := fs.ReadFile(web.Files, name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "dashboard file missing: "+name)
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b)
}

// static serves the dashboard's scripts and styles; they hold no data, so
// they need no session. Only those: the pages go out through home and
// open, and there is no directory listing.
func (s *Server) static() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(web.Files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A name io/fs cannot hold (invalid UTF-8, say) is no file of ours:
		// FileServerFS would answer it with a 500.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if ext := path.Ext(r.URL.Path); ext != ".js" && ext != ".css" || !utf8.ValidString(name) || !fs.ValidPath(name) {
			writeError(w, http.StatusNotFound, "no such endpoint: "+strconv.Quote(r.URL.Path))
			return
		}
		securityHeaders(w.Header())
		files.ServeHTTP(w, r)
	})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Status{
		PID:        s.info.PID,
		Addr:       s.info.Addr,
		StartedAt:  s.info.StartedAt,
		Uptime:     uptime(s.info.StartedAt),
		Version:    s.info.Version,
		DataDir:    s.info.DataDir,
		Supervisor: s.info.Supervisor,
		Memories:   s.memoryCount(),
	})
}

// shutdownHandler answers 202 before the daemon starts draining, so the
// caller learns its request was accepted; it then waits for the lock to go.
func (s *Server) shutdownHandler(w http.ResponseWriter, r *http.Request) {
	// The body is optional and ignored, but it is read so an oversized one
	// is refused like everywhere else.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		writeBodyError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "shutting down"})
	s.shutdownOnce.Do(func() { go s.shutdown() })
}

// events streams server-sent events: ready at once, a heartbeat while idle,
// and draining then stopping when the daemon shuts down. A supervisor
// holding it open learns of a shutdown, or of a death (the stream ends),
// at once instead of at its next probe.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	sendData := func(event string, v any) bool {
		// The server's WriteTimeout would cut a long stream; each event gets
		// its own deadline instead.
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		data, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	send := func(event string) bool {
		return sendData(event, map[string]any{"pid": s.info.PID, "uptime_s": uptime(s.info.StartedAt)})
	}
	var changes <-chan api.MemoryEvent // nil without a feed: never ready
	if s.feed != nil {
		ch, unsubscribe := s.feed.subscribe()
		defer unsubscribe()
		changes = ch
	}
	if !send(api.EventReady) {
		return
	}
	tick := time.NewTicker(HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.draining:
			send(api.EventDraining)
			send(api.EventStopping)
			return
		case <-tick.C:
			if !send(api.EventHeartbeat) {
				return
			}
		case ev := <-changes:
			ev.Count = s.memoryCount()
			if !sendData(api.EventMemory, ev) {
				return
			}
		}
	}
}

// memoryCount is the live count, or -1 without an open store.
func (s *Server) memoryCount() int64 {
	m := s.opened()
	if m == nil {
		return -1
	}
	return m.Count()
}

func uptime(start time.Time) float64 {
	return float64(time.Since(start).Milliseconds()) / 1000
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, api.Error{Error: msg})
}

func writeBodyError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit))
		return
	}
	writeError(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
}
