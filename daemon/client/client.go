// Package client is the typed client of the daemon's local API, used by the
// CLI and the tray.
package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/token"
)

// Client talks to one daemon address.
type Client struct {
	addr  netip.AddrPort
	token string
	http  *http.Client
}

// New returns a client for addr. token may be empty for /health only.
func New(addr netip.AddrPort, token string) *Client {
	return &Client{
		addr:  addr,
		token: token,
		http: &http.Client{
			Transport: &http.Transport{
				Proxy:               nil, // never send the token through a proxy
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     30 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Discover builds a client from the data dir's discovery file and token.
// The token is optional: without it only Health works.
func Discover(p paths.Paths) (*Client, error) {
	addr, err := discovery.Read(p.AddrFile)
	if err != nil {
		return nil, err
	}
	tok, _ := token.Read(p.Token)
	return New(addr, tok), nil
}

// Addr is the daemon address this client talks to.
func (c *Client) Addr() netip.AddrPort { return c.addr }

// BaseURL is the daemon's root URL.
func (c *Client) BaseURL() string { return "http://" + c.addr.String() }

// StatusError is an HTTP error answer from the daemon.
type StatusError struct {
	Code    int
	Message string
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

// Events calls GET /v1/events and hands each event name to fn until the
// stream ends, ctx is done or fn returns false. A stream that ends without a
// "stopping" event means the daemon died.
func (c *Client) Events(ctx context.Context, fn func(event string) bool) error {
	req, err := c.request(ctx, http.MethodGet, "/v1/events")
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
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
			if !fn(name) {
				return nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}

func (c *Client) request(ctx context.Context, method, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL()+path, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	req, err := c.request(ctx, method, path)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
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
	return &StatusError{Code: resp.StatusCode, Message: e.Error}
}

// IsUnauthorized reports a 401 answer.
func IsUnauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusUnauthorized
}

// CloseIdle releases idle connections; call it when done with a client.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }
