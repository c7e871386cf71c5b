// Package client is the typed client of the daemon's local API, used by the
// CLI, the tray and every other tool: the one path by which the control
// token leaves this process, and only to a daemon that proved itself.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/poll"
	"github.com/cairnlabs/cairn/daemon/proof"
	"github.com/cairnlabs/cairn/daemon/token"
)

// Client talks to one daemon address. With a token, every connection it
// opens is proven before it carries a request (package proof): the token
// never leaves for a listener that cannot show it already holds it.
type Client struct {
	addr     netip.AddrPort
	token    string
	lockPath string // when set, the proven PID must be this lock's holder
	http     *http.Client
}

// ProofTimeout bounds the challenge on a new connection.
var ProofTimeout = 2 * time.Second

// ProbeTimeout bounds each Probe.
var ProbeTimeout = time.Second

// New returns a client for addr. token may be empty for /health only; such
// a client proves nothing and so can tell nothing about who answers.
func New(addr netip.AddrPort, token string) *Client {
	c := &Client{addr: addr, token: token}
	c.http = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // never send the token through a proxy
			DialContext:         c.dial,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Discover builds a client from the data dir's discovery file and token;
// the daemon that answers must also be the lock's holder. The token is
// optional: without it only Health works, unproven.
func Discover(p paths.Paths) (*Client, error) {
	// Nothing in a data dir another user could have planted files in is
	// believed: not its address, token or lock record (a *paths.DirError).
	if err := p.CheckDataDir(); err != nil {
		return nil, err
	}
	addr, err := discovery.Read(p.AddrFile)
	if err != nil {
		return nil, err
	}
	return ForAddr(p, addr), nil
}

// ForAddr is Discover for an address the caller already knows (a child it
// is waiting for, say): the data dir's token, proven against its lock.
func ForAddr(p paths.Paths, addr netip.AddrPort) *Client {
	tok, _ := token.Read(p.Token)
	c := New(addr, tok)
	c.lockPath = p.Lock
	return c
}

// Proven reports whether this client proves every connection (it has a
// token), so that a successful call means the daemon is ours.
func (c *Client) Proven() bool { return c.token != "" }

// ErrNoToken means the client has no token to prove the daemon with.
var ErrNoToken = errors.New("the control token cannot be read, so the daemon cannot be proven")

// ProofError means the listener at Addr could not prove it is this data
// dir's daemon: an impostor (another user's squatter on a port a dead
// daemon left in http_addr), or a daemon of another data dir.
type ProofError struct {
	Addr   netip.AddrPort
	Reason string
}

func (e *ProofError) Error() string {
	return fmt.Sprintf("the listener at %s is not this data dir's Cairn daemon: %s", e.Addr, e.Reason)
}

// IsImpostor reports whether err (from any call) is a failed proof.
func IsImpostor(err error) bool {
	var pe *ProofError
	return errors.As(err, &pe)
}

// dial connects and, when the client has a token, runs the challenge on the
// new connection before the transport may send anything on it.
func (c *Client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	conn, err := dialRedialing(ctx, c.addr.String())
	if err != nil {
		return nil, err
	}
	if c.token == "" {
		return conn, nil
	}
	if err := c.prove(conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// redialAfter is how long a connect may go unanswered before another one is
// started beside it, and maxDials how many run at most. A SYN that finds the
// daemon's accept queue full (another user's connect flood, a burst) is
// dropped, and the kernel sends it again only after its initial
// retransmission timeout of 1 s, as long as ProbeTimeout: one dropped SYN
// made a live daemon "not responding" to the CLI and the tray while the
// queue had drained in milliseconds. A new connect is a new SYN.
const (
	redialAfter = 200 * time.Millisecond
	maxDials    = 4
)

// dialRedialing connects to addr, starting another connect every
// redialAfter while none has completed (up to maxDials), and returns the
// first that does; the others are canceled or closed. It fails when every
// connect started has failed (a refusal comes back at once) or ctx ends.
func dialRedialing(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn net.Conn
		err  error
	}
	results := make(chan result, maxDials)
	started, pending := 0, 0
	start := func() {
		started++
		pending++
		go func() {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr)
			results <- result{conn, err}
		}()
	}
	start()
	tick := time.NewTicker(redialAfter)
	defer tick.Stop()
	var firstErr error
	for {
		select {
		case r := <-results:
			pending--
			if r.err == nil {
				// The losers are canceled by the deferred cancel; one that
				// connected all the same is closed.
				go func(n int) {
					for range n {
						if l := <-results; l.conn != nil {
							l.conn.Close()
						}
					}
				}(pending)
				return r.conn, nil
			}
			if firstErr == nil {
				firstErr = r.err
			}
			if pending == 0 {
				return nil, firstErr
			}
		case <-tick.C:
			if started < maxDials {
				start()
			}
		}
	}
}

// withVerdict is err, a transient failure that was not retried away, as
// the verdict it carries when it has one.
func withVerdict(err error, te *transientError) error {
	var ue *url.Error
	if te.verdict != nil && errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: ue.URL, Err: te.verdict}
	}
	return err
}

// transientError is a connection that broke before the proof completed
// (reset, closed, timed out), or a proof from this data dir's daemon as it
// stops: a daemon shedding load or shutting down, not an impostor. Nothing
// was sent with the token on it, so a retry is safe for any request. One
// that persists is its verdict, when it has one: a daemon that answers
// after every retry without holding the lock is not stopping.
type transientError struct {
	err     error
	verdict *ProofError // what it means if it does not go away; nil: stays transient
}

func (e *transientError) Error() string { return e.err.Error() }

// broke is a connection that broke before the proof completed.
func broke(err error) *transientError {
	return &transientError{err: fmt.Errorf("the connection broke before the daemon proved itself: %w", err)}
}
func (e *transientError) Unwrap() error { return e.err }

// prove runs the challenge on a new connection. Only a completed wrong
// answer is a ProofError; a connection that breaks first is transient. It
// is bounded by ProofTimeout alone: net/http dials with a context that is
// never canceled, so the request's deadline does not reach here.
func (c *Client) prove(conn net.Conn) error {
	if uid, ok := listenerUID(conn); ok && uid != os.Getuid() {
		return &ProofError{c.addr, fmt.Sprintf("it belongs to user ID %d, not to you", uid)}
	}
	conn.SetDeadline(time.Now().Add(ProofTimeout))
	nonce := proof.NewNonce()
	if _, err := fmt.Fprintf(conn, "GET %s?nonce=%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cairn-client\r\n\r\n",
		proof.Path, nonce, c.addr); err != nil {
		return broke(err)
	}
	br := bufio.NewReaderSize(conn, 2*proof.MaxAnswerBytes)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		var ne net.Error
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &ne) {
			return broke(err)
		}
		return &ProofError{c.addr, fmt.Sprintf("it did not answer the challenge with HTTP: %v", err)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, proof.MaxAnswerBytes+1))
	resp.Body.Close()
	switch {
	case err != nil:
		return broke(err)
	case resp.StatusCode != http.StatusOK:
		return &ProofError{c.addr, fmt.Sprintf("it answered the challenge with HTTP %d", resp.StatusCode)}
	case br.Buffered() > 0:
		// Anything past the answer would be read as the next response.
		return &ProofError{c.addr, "it answered the challenge with more than one answer"}
	}
	a, err := proof.ParseAnswer(body)
	if err != nil {
		return &ProofError{c.addr, err.Error()}
	}
	if !proof.Verify(c.token, nonce, c.addr.String(), a) {
		return &ProofError{c.addr, "it does not hold this data dir's control token"}
	}
	// From here it is this data dir's daemon: only it holds the token. A
	// daemon that is stopping closes the connection after its answer
	// (http.Server's Connection: close while it shuts down) and gives up
	// the lock a moment later; neither makes it an impostor, and nothing
	// is sent on this connection, so the request is tried again (and then
	// meets the next daemon, or none).
	if resp.Close {
		return &transientError{err: fmt.Errorf("the daemon at %s (PID %d) is stopping", c.addr, a.PID)}
	}
	if c.lockPath != "" {
		// The lock is the truth; discovery is a hint.
		if holder, err := lock.ReadRecord(c.lockPath); err != nil || holder != a.PID {
			return &transientError{
				err:     fmt.Errorf("the daemon at %s (PID %d) no longer holds the data dir's lock: it is stopping", c.addr, a.PID),
				verdict: &ProofError{c.addr, fmt.Sprintf("the daemon that answered (PID %d) does not hold the data dir's lock", a.PID)},
			}
		}
	}
	conn.SetDeadline(time.Time{})
	return nil
}

// Addr is the daemon address this client talks to.
func (c *Client) Addr() netip.AddrPort { return c.addr }

// BaseURL is the daemon's root URL.
func (c *Client) BaseURL() string { return "http://" + c.addr.String() }

// StatusError is an HTTP error answer from the daemon; Field names the
// input a 400 is about.
type StatusError struct {
	Code    int
	Message string
	Field   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("daemon answered %d: %s", e.Code, e.Message)
}

// Health calls GET /health and checks that a Cairn daemon answered.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var h api.Health
	if err := c.do(ctx, http.MethodGet, "/health", &h); err != nil {
		return h, err
	}
	if h.Status != "ok" || h.Service != api.Service || h.PID <= 0 {
		return h, fmt.Errorf("%s answered /health but is not a healthy Cairn daemon", c.addr)
	}
	return h, nil
}

// Probe is the one health probe of a data dir: the discovered address's
// /health over a proven connection. It returns the health
// and address of this data dir's daemon; a listener that answers but fails
// the proof gives a *ProofError; with no readable token, the unproven
// health comes back with ErrNoToken, for a caller to weigh against the lock.
// The timeout is ProbeTimeout.
func Probe(ctx context.Context, p paths.Paths) (api.Health, netip.AddrPort, error) {
	c, h, err := ProbeClient(ctx, p)
	if c == nil {
		return h, netip.AddrPort{}, err
	}
	c.CloseIdle()
	return h, c.Addr(), err
}

// ProbeClient is Probe that also returns the client (nil when there was no
// discovery file), whose proven connection a caller can go on using; it
// must CloseIdle it.
func ProbeClient(ctx context.Context, p paths.Paths) (*Client, api.Health, error) {
	c, err := Discover(p)
	if err != nil {
		return nil, api.Health{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	h, err := c.Health(ctx)
	if err == nil && !c.Proven() {
		err = ErrNoToken
	}
	return c, h, err
}

// Status calls GET /v1/status.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.do(ctx, http.MethodGet, "/v1/status", &s)
	return s, err
}

// Shutdown calls POST /v1/shutdown; the daemon answers 202 and then drains.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/shutdown", nil)
}

// Events calls GET /v1/events and hands each event's name and data (JSON)
// to fn until the stream ends, ctx is done or fn returns false. A stream that ends without a
// "stopping" event means the daemon died.
func (c *Client) Events(ctx context.Context, fn func(event, data string) bool) error {
	req, err := c.request(ctx, http.MethodGet, "/v1/events", nil)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			data := ""
			if sc.Scan() {
				data, _ = strings.CutPrefix(sc.Text(), "data: ")
			}
			if !fn(name, data) {
				return nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}

// request builds a request with the token, except for /health, which never
// carries it: it is the one route any listener is asked before it proved
// anything, and asking it must not depend on the proof having run.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL()+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" && path != "/health" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	return c.doJSON(ctx, method, path, nil, out, nil)
}

// doJSON sends in (when not nil) as a JSON body and decodes the answer
// into out (when not nil); hdr adds headers.
func (c *Client) doJSON(ctx context.Context, method, path string, in, out any, hdr http.Header) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	var e api.Error
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
	}
	return &StatusError{Code: resp.StatusCode, Message: e.Error, Field: e.Field}
}

// IsUnauthorized reports a 401 answer.
func IsUnauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusUnauthorized
}

// CloseIdle releases idle connections; call it when done with a client.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }

// send is http.Client.Do, retried twice when the connection broke before
// the daemon proved itself: nothing was sent on it, so even a POST is safe
// to send again, and a daemon that sheds another user's connection flood
// gets the owner's next try in.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	wait := poll.New(10*time.Millisecond, 40*time.Millisecond)
	for attempt := 0; ; attempt++ {
		resp, err := c.http.Do(req)
		var te *transientError
		if err == nil || !errors.As(err, &te) {
			return resp, err
		}
		if attempt == 2 || req.Body != nil && req.GetBody == nil {
			return resp, withVerdict(err, te)
		}
		if req.Body != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		if !wait.Sleep(req.Context()) {
			return nil, req.Context().Err()
		}
	}
}
