package server

import (
	"container/list"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/cairnlabs/cairn/daemon/proc"
)

// The connection policy. Any local user can connect to 127.0.0.1, so
// without it a few tens of thousands of idle connections fill the daemon's
// file descriptor table and the owner's /health times out. A connection
// counts as authenticated once a request on it has passed the bearer-token
// check; until then it is capped and kept on short deadlines.
const (
	// maxUnauthConns is how many connections that have not authenticated
	// the daemon holds at once; past it the oldest is closed. Honest
	// unauthenticated clients hold a handful (the CLI's and the tray's
	// /health probes, a browser on the status page), and a few hundred
	// stays far below any descriptor limit we meet (Linux's 1024 default
	// soft limit before Go raises it, launchd's 256 raised to at least
	// 10240), so eviction, not the kernel, decides who goes. Each accepted
	// connection arrives with the newest ones, so the owner's probe would
	// only be evicted if this many others arrived while it was waiting to
	// be read, which takes tens of milliseconds even during a flood.
	maxUnauthConns = 256

	// unauthReadTimeout bounds every read on a connection that has not
	// authenticated: waiting for the request headers (slowloris), for its
	// body, and idle between keep-alive requests. The CLI and the tray
	// send a request the moment they connect and a probe answers in
	// milliseconds, so 3 s is ample even on a loaded machine, while a
	// slot held by an idle or stalled stranger frees itself quickly.
	unauthReadTimeout = 3 * time.Second // writes too: an answer a stranger never reads

	// maxOwnConns caps the unauthenticated connections of the daemon's own
	// user, kept apart from strangers' (Linux, where the kernel names the
	// peer): another user's flood evicts only another user's connections,
	// so the owner's probe is never pushed out by it.
	maxOwnConns = 64

	// maxStrangerRequests is how many requests another user's (or an
	// unknown peer's) unauthenticated connection may make before it is
	// closed: the proof, /health and a browser's page and icon fit, a
	// pipelined stream of thousands does not.
	maxStrangerRequests = 4

	// strangerHandlers is how many of another user's requests are handled
	// at once. The rest wait, not runnable, so hundreds of a stranger's
	// busy connections cannot take the scheduler's turns from the accept
	// loop and the owner's requests.
	strangerHandlers = 4
)

// conns tracks the connections of all of a Server's listeners, so the cap
// covers 127.0.0.1 and [::1] together.
type conns struct {
	max     int           // maxUnauthConns; tests lower it
	timeout time.Duration // unauthReadTimeout; tests lower it

	mu     sync.Mutex
	unauth list.List // of *conn not yet authenticated, oldest accepted first
	own    list.List // the same, for connections of the daemon's own user

	gate chan struct{} // strangers' requests in progress

	// peer says who is behind a connection's other end (peerOf); nil
	// treats every peer as unknown.
	peer func(net.Conn) peer
}

func newConns() *conns {
	return &conns{max: maxUnauthConns, timeout: unauthReadTimeout, gate: make(chan struct{}, strangerHandlers), peer: peerOf}
}

// conn is an accepted connection as http.Server sees it: the deadlines it
// sets are clamped until a request on it authenticates.
type conn struct {
	net.Conn
	set *conns

	// Guarded by set.mu: the conn's place in set.unauth or set.own (nil
	// once it has authenticated or gone).
	elem *list.Element
	list *list.List

	// Who is on the other end, by the kernel's word (Linux): our own user,
	// another user, or unknown (neither set).
	owner, stranger bool
	requests        int  // handled while unauthenticated; guarded by mu
	used            bool // a request has begun on it; guarded by set.mu

	mu         sync.Mutex // guards authed and the requested deadlines, and orders deadline calls
	authed     bool
	requested  time.Time // the read deadline http.Server last asked for
	requestedW time.Time // the write deadline http.Server last asked for

	closeOnce sync.Once
	closeErr  error
}

// listener applies the policy to what its inner listener accepts.
type listener struct {
	net.Listener
	set *conns
}

// Listener wraps ln so the connection policy applies to what it accepts.
// Every listener passed to the Serve of HTTPServer's server must be
// wrapped; the server's hooks ignore connections that are not.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &listener{Listener: ln, set: s.conns}
}

// Accept never blocks on the cap: a limit that stopped accepting would
// leave the owner's connection in the kernel's backlog behind the flood.
// It accepts, and closes the oldest unauthenticated connections instead.
func (l *listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		// Out of descriptors (something besides our capped connections
		// holds them): give one up so http.Server's retry, after its
		// short backoff, can take the waiting connection.
		if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
			l.set.evict(nil)
		}
		return nil, err
	}
	return l.set.add(nc), nil
}

// add tracks a newly accepted connection and closes the oldest
// unauthenticated ones over the cap.
func (s *conns) add(nc net.Conn) *conn {
	c := &conn{Conn: nc, set: s, list: &s.unauth}
	max := s.max
	if s.peer != nil {
		switch p := s.peer(nc); {
		case p.known:
			c.owner, c.stranger = p.uid == os.Geteuid(), p.uid != os.Geteuid()
		case p.gone:
			// Nobody can be named as the sender of what it sent: that
			// is a stranger's case, not an unknown's, or a connection
			// reset before the accept would carry a leaked credential
			// past fromStranger.
			c.stranger = true
		}
	}
	if c.owner {
		c.list, max = &s.own, maxOwnConns
	}
	s.mu.Lock()
	c.elem = c.list.PushBack(c)
	var victims []*conn
	for c.list.Len() > max {
		v := s.victimLocked(c.list, c)
		if v == nil {
			break
		}
		victims = append(victims, v)
	}
	s.mu.Unlock()
	for _, v := range victims {
		v.Close()
	}
	// No read on it may be unbounded, even before http.Server sets its
	// header deadline.
	c.SetReadDeadline(time.Time{})
	return c
}

// evict closes the oldest unauthenticated connection other than keep.
func (s *conns) evict(keep *conn) {
	s.mu.Lock()
	v := s.victimLocked(&s.unauth, keep)
	s.mu.Unlock()
	if v != nil {
		v.Close()
	}
}

// victimLocked removes and returns the connection to close: the oldest
// unauthenticated one, mid-request or not, never keep (the conn just
// accepted: a newcomer always gets its chance). Strictly oldest first is
// what protects the owner: a stranger can keep old connections busy (a
// request that never finishes, an answer never read) but cannot make them
// young, and the owner's connection is always among the youngest for the
// milliseconds its proof and request take.
func (s *conns) victimLocked(l *list.List, keep *conn) *conn {
	var oldest *conn
	for e := l.Front(); e != nil; e = e.Next() {
		if c := e.Value.(*conn); c != keep {
			oldest = c
			break
		}
	}
	if oldest != nil {
		l.Remove(oldest.elem)
		oldest.elem = nil
	}
	return oldest
}

func (s *conns) forget(c *conn) {
	s.mu.Lock()
	if c.elem != nil {
		c.list.Remove(c.elem)
		c.elem = nil
	}
	s.mu.Unlock()
}

// peer is who is behind a connection's other end: a known user, or gone
// (the kernel was asked, and no process holds that end any more: it was
// closed or reset before the accept, and what it sent is still buffered),
// or neither (the kernel cannot be asked: off Linux).
type peer struct {
	uid         int
	known, gone bool
}

// peerOf asks the kernel who is behind nc's other end.
func peerOf(nc net.Conn) peer {
	local, err1 := netip.ParseAddrPort(nc.LocalAddr().String())
	remote, err2 := netip.ParseAddrPort(nc.RemoteAddr().String())
	if err1 != nil || err2 != nil {
		return peer{gone: true}
	}
	sock, err := proc.TCPSocket(remote, local)
	switch {
	case errors.Is(err, proc.ErrCannotAsk):
		return peer{}
	case err != nil || !sock.Open:
		// A closed socket's remnant reports uid 0, which on a daemon
		// run by root would pass for its owner.
		return peer{gone: true}
	}
	// Asked after the lookup, which is by address: another process can
	// connect from the sender's address once the sender lets go of it,
	// and be what the kernel found. A review won that race with a
	// stranger's reset request and the owner's next connection. Reset,
	// the connection is CLOSE at once. Closed with a FIN, its sender's
	// socket turns into a time-wait remnant (no inode: gone, above) that
	// loopback lets a new connection reuse; that connection's SYN meets
	// this half-closed one, and the challenge ACK and the reset it draws
	// close this one too, so it is CLOSE by the time the lookup can find
	// the newcomer. Established, or half-closed by a sender still holding
	// its socket (and so its port: nobody else can bind it), the socket
	// found is the sender's. A connection that cannot be asked is a
	// stranger's too.
	if holds, err := proc.HoldsAddress(nc); !errors.Is(err, proc.ErrCannotAsk) && (err != nil || !holds) {
		return peer{gone: true}
	}
	return peer{uid: sock.UID, known: true}
}

// admit is the policy's part of every request: a stranger's connection
// that has not authenticated is closed after maxStrangerRequests, and its
// requests are handled strangerHandlers at a time. The owner's connections
// (known by the kernel's word, or by the token) pass straight through.
func (s *conns) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(connKey{}).(*conn)
		if !ok || c.owner {
			next.ServeHTTP(w, r)
			return
		}
		c.mu.Lock()
		authed := c.authed
		if !authed {
			c.requests++
			if c.requests >= maxStrangerRequests {
				w.Header().Set("Connection", "close")
			}
		}
		c.mu.Unlock()
		if c.stranger && !authed && s.gate != nil {
			select {
			case s.gate <- struct{}{}:
				defer func() { <-s.gate }()
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// unauthCount is how many connections have not authenticated.
func (s *conns) unauthCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unauth.Len()
}

// connState is http.Server's ConnState hook: it tells the tracker which
// connections are gone.
func (s *conns) connState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*conn)
	switch {
	case !ok:
	case state == http.StateClosed || state == http.StateHijacked:
		s.forget(c)
	case state == http.StateActive:
		s.mu.Lock()
		c.used = true
		s.mu.Unlock()
	}
}

// closeUnused closes the connections on which no request has begun. A
// drain calls it: http.Server.Shutdown counts such a connection as busy
// until it is 5 s old (or until our 3 s read clamp cuts it), and clients
// leave them behind all the time (an http.Transport's spare dial), so a
// daemon with busy clients took seconds to stop. They carry nothing to
// drain.
func (s *conns) closeUnused() {
	s.mu.Lock()
	var unused []*conn
	for _, l := range []*list.List{&s.unauth, &s.own} {
		for e := l.Front(); e != nil; e = e.Next() {
			if c := e.Value.(*conn); !c.used {
				unused = append(unused, c)
			}
		}
	}
	s.mu.Unlock()
	for _, c := range unused {
		c.Close()
	}
}

// connContext is http.Server's ConnContext hook: it puts the conn where
// authed can find it.
func connContext(ctx context.Context, nc net.Conn) context.Context {
	if c, ok := nc.(*conn); ok {
		return context.WithValue(ctx, connKey{}, c)
	}
	return ctx
}

type connKey struct{}

// fromStranger reports whether the kernel names another user as the owner
// of r's connection, or was asked and could name nobody because that end
// was closed or reset before the accept (Linux; elsewhere it is never
// known). No credential
// counts on such a connection: a token, session cookie or dashboard code
// in another user's hands can only have leaked (a code is in the
// browser's command line, which /proc shows every user; a cookie for
// 127.0.0.1 goes to every port on it), and the daemon serves its owner
// alone.
func fromStranger(r *http.Request) bool {
	c, ok := r.Context().Value(connKey{}).(*conn)
	return ok && c.stranger
}

// authenticated marks the connection of a request that passed the token
// check: it leaves the cap and gets the server's normal deadlines back,
// so the tray's proven keep-alive connection and its event stream are
// never cut by strangers.
func authenticated(ctx context.Context) {
	c, ok := ctx.Value(connKey{}).(*conn)
	if !ok {
		return
	}
	c.set.forget(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.authed {
		c.authed = true
		c.Conn.SetReadDeadline(c.requested)
		c.Conn.SetWriteDeadline(c.requestedW)
	}
}

// SetReadDeadline records what http.Server asks for and, until the conn
// has authenticated, holds the conn to at most unauthReadTimeout from now.
// http.Server sets a read deadline before every wait: ReadHeaderTimeout
// before a request, ReadTimeout for its body, IdleTimeout between
// requests, none (zero) after a background read; so clamping here covers
// every wait without knowing which one it is.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requested = t
	return c.Conn.SetReadDeadline(c.clampLocked(t))
}

// clampLocked is t, or at most the unauthenticated timeout from now while
// the conn has not authenticated.
func (c *conn) clampLocked(t time.Time) time.Time {
	if limit := time.Now().Add(c.set.timeout); !c.authed && (t.IsZero() || t.After(limit)) {
		return limit
	}
	return t
}

// SetWriteDeadline clamps writes like reads: a stranger that never reads
// its answers (a tiny receive buffer, pipelined requests) must not hold a
// connection for the server's full write timeout.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requestedW = t
	return c.Conn.SetWriteDeadline(c.clampLocked(t))
}

// SetDeadline goes through both clamps.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// Close closes the conn once and stops tracking it.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		c.set.forget(c)
		c.closeErr = c.Conn.Close()
	})
	return c.closeErr
}

// CloseWrite keeps http.Server's graceful close (half-close, then wait for
// the client) working through the wrapper.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
