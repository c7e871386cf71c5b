// Package mcp is the MCP bridge (`cairn mcp`): a stdio MCP server whose
// tools are each one request through daemon/client. It never opens the
// database; the daemon validates, and its messages become tool errors.
package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
)

// Limits of recall and recent.
const (
	DefaultLimit    = 10
	MaxLimit        = 50
	DefaultMaxBytes = 8000
)

// Options configure a bridge.
type Options struct {
	Daemon  *Daemon
	Project string // stamped on every memory written; "" for none
	Version string
	// Log is the SDK's log of the protocol (sessions, failed sends); stderr,
	// never stdout, which carries only JSON-RPC.
	Log *slog.Logger
}

// NewServer returns the MCP server with Cairn's tools. Run it on an
// sdk.StdioTransport.
func NewServer(o Options) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "cairn", Version: o.Version}, &sdk.ServerOptions{
		Logger:       o.Log,
		Instructions: "Cairn is the user's local memory. Recall before answering about past work; remember durable facts and decisions.",
	})
	b := &bridge{Options: o}
	read := &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)}
	write := func(destructive, idempotent bool) *sdk.ToolAnnotations {
		return &sdk.ToolAnnotations{DestructiveHint: new(destructive), IdempotentHint: idempotent, OpenWorldHint: new(false)}
	}
	sdk.AddTool(s, &sdk.Tool{Name: "remember", Description: "Store a memory. The same text, tags and project is stored once; a key replaces the memory with that key.", Annotations: write(false, true)}, b.remember)
	sdk.AddTool(s, &sdk.Tool{Name: "recall", Description: "Find memories by words, best match first.", Annotations: read}, b.recall)
	sdk.AddTool(s, &sdk.Tool{Name: "recent", Description: "The newest memories.", Annotations: read}, b.recent)
	sdk.AddTool(s, &sdk.Tool{Name: "get", Description: "Memories by id.", Annotations: read}, b.get)
	sdk.AddTool(s, &sdk.Tool{Name: "update", Description: "Change a memory's text or tags.", Annotations: write(false, true)}, b.update)
	sdk.AddTool(s, &sdk.Tool{Name: "forget", Description: "Delete memories by id.", Annotations: write(true, true)}, b.forget)
	sdk.AddTool(s, &sdk.Tool{Name: "tags", Description: "The tags in use, with counts.", Annotations: read}, b.tags)
	return s
}

type bridge struct{ Options }

// Memory is a memory as the tools return it.
type Memory struct {
	ID        string   `json:"id"`
	Text      string   `json:"text"`
	Tags      []string `json:"tags"`
	Project   string   `json:"project,omitempty"`
	CreatedAt string   `json:"created_at"`
	Score     float64  `json:"score,omitempty"`
}

func memoryOf(m api.Memory) Memory {
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	return Memory{ID: m.ID, Text: m.Text, Tags: tags, Project: m.Project, CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339), Score: m.Score}
}

// RememberIn is remember's input.
type RememberIn struct {
	Text        string   `json:"text"`
	Tags        []string `json:"tags,omitempty" jsonschema:"lowercase letters, digits, . _ -"`
	Key         string   `json:"key,omitempty"`
	ExpiresIn   string   `json:"expires_in,omitempty" jsonschema:"e.g. 12h, 7d"`
	AllowSecret bool     `json:"allow_secret,omitempty"`
}

// RememberOut is remember's answer.
type RememberOut struct {
	ID     string `json:"id"`
	Status string `json:"status" jsonschema:"created, duplicate or replaced"`
}

func (b *bridge) remember(ctx context.Context, req *sdk.CallToolRequest, in RememberIn) (*sdk.CallToolResult, RememberOut, error) {
	r := client.RememberRequest{Text: in.Text, Tags: in.Tags, Project: b.Project, Source: source(req), Key: in.Key, ExpiresIn: in.ExpiresIn, AllowSecret: in.AllowSecret}
	key := idempotencyKey()
	var res api.PutResult
	err := b.Daemon.Do(ctx, func(c *client.Client) (err error) {
		res, err = c.Remember(ctx, r, key)
		return err
	})
	if err != nil {
		return nil, RememberOut{}, toolError(err)
	}
	return nil, RememberOut{ID: res.ID, Status: res.Status}, nil
}

// RecallIn is recall's input.
type RecallIn struct {
	Query    string   `json:"query"`
	Tags     []string `json:"tags,omitempty" jsonschema:"all of these tags"`
	Since    string   `json:"since,omitempty" jsonschema:"RFC 3339 or date"`
	Until    string   `json:"until,omitempty"`
	Limit    int      `json:"limit,omitempty" jsonschema:"default 10, max 50"`
	MaxBytes int      `json:"max_bytes,omitempty" jsonschema:"default 8000"`
}

// Memories is recall's and recent's answer.
type Memories struct {
	Memories  []Memory `json:"memories"`
	Truncated bool     `json:"truncated" jsonschema:"max_bytes cut the answer short (more matched), or its one memory is longer than max_bytes"`
}

func (b *bridge) recall(ctx context.Context, _ *sdk.CallToolRequest, in RecallIn) (*sdk.CallToolResult, Memories, error) {
	q, err := listQuery(in.Limit, in.MaxBytes, in.Tags, in.Since, in.Until)
	if err != nil {
		return nil, Memories{}, err
	}
	q.Set("q", in.Query)
	return b.list(ctx, q)
}

// RecentIn is recent's input.
type RecentIn struct {
	Limit int      `json:"limit,omitempty" jsonschema:"default 10, max 50"`
	Tags  []string `json:"tags,omitempty"`
	Since string   `json:"since,omitempty"`
}

func (b *bridge) recent(ctx context.Context, _ *sdk.CallToolRequest, in RecentIn) (*sdk.CallToolResult, Memories, error) {
	q, err := listQuery(in.Limit, 0, in.Tags, in.Since, "")
	if err != nil {
		return nil, Memories{}, err
	}
	return b.list(ctx, q)
}

func listQuery(limit, maxBytes int, tags []string, since, until string) (url.Values, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return nil, fmt.Errorf("limit: must be from 1 to %d", MaxLimit)
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxBytes < 0 {
		return nil, errors.New("max_bytes: must be more than 0")
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "max_bytes": {strconv.Itoa(maxBytes)}}
	for _, t := range tags {
		q.Add("tag", t)
	}
	if since != "" {
		q.Set("since", since)
	}
	if until != "" {
		q.Set("until", until)
	}
	return q, nil
}

func (b *bridge) list(ctx context.Context, q url.Values) (*sdk.CallToolResult, Memories, error) {
	var page api.Page
	err := b.Daemon.Do(ctx, func(c *client.Client) (err error) {
		page, err = c.Memories(ctx, q)
		return err
	})
	var se *client.StatusError
	if errors.As(err, &se) && se.Field == "tag" {
		// The API's filter is tag=, repeated; the tools' argument is tags.
		return nil, Memories{}, errors.New("tags" + strings.TrimPrefix(se.Message, "tag"))
	}
	if err != nil {
		return nil, Memories{}, toolError(err)
	}
	out := Memories{Memories: make([]Memory, 0, len(page.Memories)), Truncated: page.Truncated}
	for _, m := range page.Memories {
		out.Memories = append(out.Memories, memoryOf(m))
	}
	return nil, out, nil
}

// IDs is the input of get and forget.
type IDs struct {
	IDs []string `json:"ids"`
}

// Found is get's answer.
type Found struct {
	Memories []Memory `json:"memories"`
	NotFound []string `json:"not_found"`
}

func (b *bridge) get(ctx context.Context, _ *sdk.CallToolRequest, in IDs) (*sdk.CallToolResult, Found, error) {
	if err := checkIDs(in.IDs); err != nil {
		return nil, Found{}, err
	}
	out := Found{Memories: []Memory{}, NotFound: []string{}}
	for _, id := range in.IDs {
		var m api.Memory
		err := b.Daemon.Do(ctx, func(c *client.Client) (err error) {
			m, err = c.Memory(ctx, id)
			return err
		})
		switch {
		case err == nil:
			out.Memories = append(out.Memories, memoryOf(m))
		case isNotFound(err):
			out.NotFound = append(out.NotFound, id)
		default:
			return nil, Found{}, toolError(err)
		}
	}
	return nil, out, nil
}

// UpdateIn is update's input.
type UpdateIn struct {
	ID         string   `json:"id"`
	Text       *string  `json:"text,omitempty"`
	AddTags    []string `json:"add_tags,omitempty"`
	RemoveTags []string `json:"remove_tags,omitempty"`
}

func (b *bridge) update(ctx context.Context, _ *sdk.CallToolRequest, in UpdateIn) (*sdk.CallToolResult, Memory, error) {
	if in.ID == "" {
		return nil, Memory{}, errors.New("id: is required")
	}
	var m api.Memory
	err := b.Daemon.Do(ctx, func(c *client.Client) (err error) {
		m, err = c.Update(ctx, in.ID, client.Patch{Text: in.Text, AddTags: in.AddTags, RemoveTags: in.RemoveTags})
		return err
	})
	var se *client.StatusError
	if errors.As(err, &se) && se.Field == "tags" {
		// The daemon checks the tags the memory would have; a bad one
		// can only have come in add_tags.
		return nil, Memory{}, errors.New("add_tags" + strings.TrimPrefix(se.Message, "tags"))
	}
	if err != nil {
		return nil, Memory{}, toolError(err)
	}
	return nil, memoryOf(m), nil
}

// Forgotten is forget's answer.
type Forgotten struct {
	Deleted  []string `json:"deleted"`
	NotFound []string `json:"not_found"`
}

func (b *bridge) forget(ctx context.Context, _ *sdk.CallToolRequest, in IDs) (*sdk.CallToolResult, Forgotten, error) {
	if err := checkIDs(in.IDs); err != nil {
		return nil, Forgotten{}, err
	}
	out := Forgotten{Deleted: []string{}, NotFound: []string{}}
	for _, id := range in.IDs {
		err := b.Daemon.Do(ctx, func(c *client.Client) error { return c.Forget(ctx, id) })
		switch {
		case err == nil:
			out.Deleted = append(out.Deleted, id)
		case isNotFound(err):
			out.NotFound = append(out.NotFound, id)
		default:
			return nil, Forgotten{}, toolError(err)
		}
	}
	return nil, out, nil
}

// TagsOut is tags' answer.
type TagsOut struct {
	Tags []api.TagCount `json:"tags"`
}

func (b *bridge) tags(ctx context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, TagsOut, error) {
	var tags []api.TagCount
	err := b.Daemon.Do(ctx, func(c *client.Client) (err error) {
		tags, err = c.Tags(ctx)
		return err
	})
	if err != nil {
		return nil, TagsOut{}, toolError(err)
	}
	if tags == nil {
		tags = []api.TagCount{}
	}
	return nil, TagsOut{Tags: tags}, nil
}

// maxIDs bounds one get or forget: each id is one request.
const maxIDs = 100

func checkIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > maxIDs {
		return fmt.Errorf("ids: give from 1 to %d ids", maxIDs)
	}
	for i, id := range ids {
		if id == "" {
			return fmt.Errorf("ids[%d]: is empty", i)
		}
	}
	return nil
}

func isNotFound(err error) bool {
	var se *client.StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// toolError is what the model reads: the daemon's own sentence (it names
// the field for bad input), or what went wrong reaching it.
func toolError(err error) error {
	var se *client.StatusError
	if errors.As(err, &se) {
		return errors.New(se.Message)
	}
	return fmt.Errorf("cairn: %w", err)
}

// source is who writes: the MCP client's name from initialize, else "mcp"
// (also for a name the store would refuse, so no write fails over it).
func source(req *sdk.CallToolRequest) string {
	if req != nil && req.Session != nil {
		if p := req.Session.InitializeParams(); p != nil && p.ClientInfo != nil {
			return sourceName(p.ClientInfo.Name)
		}
	}
	return "mcp"
}

func sourceName(name string) string {
	if name == "" || len(name) > 64 || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "mcp"
	}
	return name
}

// idempotencyKey is random per tool call and the same on its retry.
func idempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "mcp-" + hex.EncodeToString(b)
}
