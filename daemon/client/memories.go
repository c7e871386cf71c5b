package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/cairnlabs/cairn/daemon/api"
)

// RememberRequest is the body of POST /v1/memories.
type RememberRequest struct {
	Text        string   `json:"text"`
	Tags        []string `json:"tags,omitempty"`
	Project     string   `json:"project,omitempty"`
	Source      string   `json:"source,omitempty"`
	Key         string   `json:"key,omitempty"`
	ExpiresIn   string   `json:"expires_in,omitempty"` // "12h", "7d"
	AllowSecret bool     `json:"allow_secret,omitempty"`
}

// Patch is the body of PATCH /v1/memories/{id}.
type Patch struct {
	Text        *string  `json:"text,omitempty"`
	AddTags     []string `json:"add_tags,omitempty"`
	RemoveTags  []string `json:"remove_tags,omitempty"`
	AllowSecret bool     `json:"allow_secret,omitempty"`
}

// Remember stores a memory. A non-empty idempotencyKey makes a retry of the
// same write return the first answer instead of writing again.
func (c *Client) Remember(ctx context.Context, r RememberRequest, idempotencyKey string) (api.PutResult, error) {
	var hdr http.Header
	if idempotencyKey != "" {
		hdr = http.Header{"Idempotency-Key": {idempotencyKey}}
	}
	var res api.PutResult
	err := c.doJSON(ctx, http.MethodPost, "/v1/memories", r, &res, hdr)
	return res, err
}

// Memories lists memories: ranked by the words in q["q"] when given,
// newest first otherwise (the parameters of GET /v1/memories).
func (c *Client) Memories(ctx context.Context, q url.Values) (api.Page, error) {
	var p api.Page
	path := "/v1/memories"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	err := c.do(ctx, http.MethodGet, path, &p)
	return p, err
}

// Memory gets one memory by id.
func (c *Client) Memory(ctx context.Context, id string) (api.Memory, error) {
	var m api.Memory
	err := c.do(ctx, http.MethodGet, "/v1/memories/"+url.PathEscape(id), &m)
	return m, err
}

// Update changes a memory's text or tags.
func (c *Client) Update(ctx context.Context, id string, p Patch) (api.Memory, error) {
	var m api.Memory
	err := c.doJSON(ctx, http.MethodPatch, "/v1/memories/"+url.PathEscape(id), p, &m, nil)
	return m, err
}

// Forget deletes a memory; a missing one is a 404 StatusError.
func (c *Client) Forget(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/memories/"+url.PathEscape(id), nil)
}

// Tags lists the tags in use with their counts.
func (c *Client) Tags(ctx context.Context) ([]api.TagCount, error) {
	var t api.Tags
	err := c.do(ctx, http.MethodGet, "/v1/tags", &t)
	return t.Tags, err
}

// CheckStore runs the store's integrity checks in the daemon.
func (c *Client) CheckStore(ctx context.Context) (api.StoreCheck, error) {
	var r api.StoreCheck
	err := c.do(ctx, http.MethodGet, "/v1/check", &r)
	return r, err
}

// Stats describes the store.
func (c *Client) Stats(ctx context.Context) (api.Stats, error) {
	var s api.Stats
	err := c.do(ctx, http.MethodGet, "/v1/stats", &s)
	return s, err
}

// Export copies every memory, as JSON Lines, to w.
func (c *Client) Export(ctx context.Context, w io.Writer) (int64, error) {
	req, err := c.request(ctx, http.MethodGet, "/v1/export", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.send(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, decodeError(resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("the export broke off after %d bytes: %w", n, err)
	}
	return n, nil
}

// Import sends one batch of JSON Lines (under the daemon's body limit).
// With allowSecret every line may hold text that looks like a secret, as
// if each said allow_secret (a backup exported before export marked them).
func (c *Client) Import(ctx context.Context, lines []byte, allowSecret bool) (api.ImportResult, error) {
	path := "/v1/import"
	if allowSecret {
		path += "?allow_secret=true"
	}
	req, err := c.request(ctx, http.MethodPost, path, bytes.NewReader(lines))
	if err != nil {
		return api.ImportResult{}, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.send(req)
	if err != nil {
		return api.ImportResult{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return api.ImportResult{}, decodeError(resp)
	}
	var res api.ImportResult
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res)
	return res, err
}

// Session asks for a one-time code that signs a browser in to the
// dashboard: open its URL within ExpiresIn seconds, once.
func (c *Client) Session(ctx context.Context) (api.Session, error) {
	var s api.Session
	err := c.do(ctx, http.MethodPost, "/v1/session", &s)
	return s, err
}
