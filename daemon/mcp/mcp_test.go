//go:build !windows

package mcp

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// useEnv gives the test its own data dir, home and port, in this process's
// environment too: instance.Start passes that environment to the daemon it
// starts. (So these tests cannot run in parallel.)
func useEnv(t *testing.T) *proctest.Env {
	env := proctest.NewEnv(t)
	for _, kv := range env.Environ() {
		if k, v, _ := strings.Cut(kv, "="); k == "HOME" || strings.HasPrefix(k, "CAIRN_") || strings.HasPrefix(k, "XDG_") || k == "GORACE" {
			t.Setenv(k, v)
		}
	}
	return env
}

// TestDoRetriesWithTheSameKey: the first answer of a write is lost (the
// request reached the daemon, the bridge saw a 401); the retry carries the
// same Idempotency-Key and gets the first answer back, and the memory is
// stored once. The daemon is started by the Daemon itself.
func TestDoRetriesWithTheSameKey(t *testing.T) {
	env := useEnv(t)
	t.Cleanup(func() { proctest.Run(t, env, cairnBin, "stop") })
	d := NewDaemon(env.Paths(), env.Port, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Exe = cairnBin
	defer d.Close()
	ctx := context.Background()

	key := idempotencyKey()
	var results []api.PutResult
	err := d.Do(ctx, func(c *client.Client) error {
		res, err := c.Remember(ctx, client.RememberRequest{Text: "stored once", Source: "test"}, key)
		if err != nil {
			return err
		}
		results = append(results, res)
		if len(results) == 1 {
			return &client.StatusError{Code: 401, Message: "the answer was lost"}
		}
		return nil
	})
	if err != nil || len(results) != 2 {
		t.Fatalf("Do: %v, %d tries; want success on the second", err, len(results))
	}
	if results[1].ID != results[0].ID || results[1].Status != "created" {
		t.Errorf("retry answered %+v, first %+v: want the first answer replayed", results[1], results[0])
	}
	var page api.Page
	if err := d.Do(ctx, func(c *client.Client) (err error) {
		page, err = c.Memories(ctx, url.Values{"limit": {"10"}})
		return err
	}); err != nil || len(page.Memories) != 1 {
		t.Fatalf("%d memories (%v), want 1", len(page.Memories), err)
	}
}

// TestDoDoesNotRetryBadInput: a 400 is the caller's, answered once.
func TestDoDoesNotRetryBadInput(t *testing.T) {
	env := useEnv(t)
	t.Cleanup(func() { proctest.Run(t, env, cairnBin, "stop") })
	d := NewDaemon(env.Paths(), env.Port, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Exe = cairnBin
	defer d.Close()
	tries := 0
	err := d.Do(context.Background(), func(c *client.Client) error {
		tries++
		_, err := c.Remember(context.Background(), client.RememberRequest{Text: "x", Tags: []string{"BAD TAG"}}, "")
		return err
	})
	if msg := toolError(err); tries != 1 || msg == nil || !strings.HasPrefix(msg.Error(), "tags: ") {
		t.Errorf("%d tries, error %v; want one try and the daemon's message naming tags", tries, msg)
	}
}

// TestProject: the git top-level folder's name from a folder deep inside,
// none outside a repository, and the nearest .git when git is missing.
func TestProject(t *testing.T) {
	top := filepath.Join(t.TempDir(), "my-repo")
	deep := filepath.Join(top, "a", "b")
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", top).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	if got := Project(deep); got != "my-repo" {
		t.Errorf("Project in a repo: %q, want my-repo", got)
	}
	if got := Project(t.TempDir()); got != "" {
		t.Errorf("Project outside a repo: %q, want none", got)
	}
	t.Setenv("PATH", t.TempDir()) // no git
	if got := Project(deep); got != "my-repo" {
		t.Errorf("Project without git: %q, want my-repo", got)
	}
}

// TestSourceName: a client name the store would refuse becomes "mcp".
func TestSourceName(t *testing.T) {
	for in, want := range map[string]string{"claude-code": "claude-code", "Cursor Agent": "Cursor Agent", "": "mcp", "a\nb": "mcp", strings.Repeat("x", 65): "mcp", "\xff": "mcp"} {
		if got := sourceName(in); got != want {
			t.Errorf("sourceName(%q) = %q, want %q", in, got, want)
		}
	}
}
