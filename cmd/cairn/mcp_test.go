//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// mcpBridge is one `cairn mcp` driven by the SDK's client over stdio.
type mcpBridge struct {
	cs     *sdk.ClientSession
	stderr *proctest.SyncBuffer
}

// startMCP starts `cairn mcp args...` in dir with env, as the MCP client
// clientName, and initializes the session. Cleanup closes its standard
// input and waits for it to exit.
func startMCP(t *testing.T, env *proctest.Env, dir, clientName string, args ...string) *mcpBridge {
	t.Helper()
	return startBridge(t, env, dir, clientName, cairnBin, append([]string{"mcp"}, args...)...)
}

// startBridge is startMCP with any program and arguments.
func startBridge(t *testing.T, env *proctest.Env, dir, clientName, bin string, args ...string) *mcpBridge {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env.Environ()
	cmd.Dir = dir
	b := &mcpBridge{stderr: &proctest.SyncBuffer{}}
	cmd.Stderr = b.stderr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: clientName, Version: "1.0"}, nil)
	cs, err := c.Connect(ctx, &sdk.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect to cairn mcp: %v\nstderr: %s", err, b.stderr)
	}
	b.cs = cs
	t.Cleanup(func() {
		cs.Close()
		if strings.Contains(b.stderr.String(), "panic") {
			t.Errorf("cairn mcp panicked:\n%s", b.stderr)
		}
	})
	return b
}

// call calls a tool and decodes its structured answer into out (when not
// nil). A protocol error fails the test; a tool error is returned.
func (b *mcpBridge) call(t *testing.T, name string, args any, out any) *sdk.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v\nstderr: %s", name, err, b.stderr)
	}
	if out != nil && !res.IsError {
		data, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: decode %s: %v", name, data, err)
		}
	}
	return res
}

// ok calls a tool that must succeed.
func (b *mcpBridge) ok(t *testing.T, name string, args any, out any) {
	t.Helper()
	if res := b.call(t, name, args, out); res.IsError {
		t.Fatalf("%s %v: tool error %s\nstderr: %s", name, args, toolText(res), b.stderr)
	}
}

// toolErr calls a tool that must fail with a tool error whose text holds want.
func (b *mcpBridge) toolErr(t *testing.T, name string, args any, want string) {
	t.Helper()
	res := b.call(t, name, args, nil)
	if !res.IsError || !strings.Contains(toolText(res), want) {
		t.Errorf("%s %v: IsError %v %q, want a tool error naming %q", name, args, res.IsError, toolText(res), want)
	}
}

func toolText(res *sdk.CallToolResult) string {
	var s []string
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			s = append(s, tc.Text)
		}
	}
	return strings.Join(s, "\n")
}

// gitRepo makes a git repository named name under a temp dir and returns
// a folder inside it.
func gitRepo(t *testing.T, name string) string {
	t.Helper()
	top := filepath.Join(t.TempDir(), name)
	sub := filepath.Join(top, "src", "deep")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", top).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	return sub
}

func stopDaemon(t *testing.T, env *proctest.Env) {
	t.Cleanup(func() { cairn(t, env, "stop") })
}

// TestMCPTools: a fresh data dir, no daemon; the bridge lists its tools
// within the size budget, starts the daemon on the first call, and every
// tool works and answers bad input with a tool error naming the field.
func TestMCPTools(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDaemon(t, env)
	b := startMCP(t, env, gitRepo(t, "web-shop"), "test-agent")
	ctx := context.Background()

	if ir := b.cs.InitializeResult(); ir == nil || ir.ServerInfo.Name != "cairn" || ir.Capabilities.Tools == nil {
		t.Fatalf("initialize: %+v", ir)
	}
	tl, err := b.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(tl)
	for _, tool := range tl.Tools {
		d, _ := json.Marshal(tool)
		t.Logf("%s: %d bytes", tool.Name, len(d))
	}
	t.Logf("tools/list: %d bytes, ~%d tokens", len(data), len(data)/4)
	if len(data) > 1500*4 {
		t.Errorf("tools/list is %d bytes (~%d tokens), over the 1,500-token budget", len(data), len(data)/4)
	}
	var names []string
	for _, tool := range tl.Tools {
		names = append(names, tool.Name)
		a := tool.Annotations
		if a == nil || a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s: OpenWorldHint must be set false: %+v", tool.Name, a)
			continue
		}
		read := slices.Contains([]string{"recall", "recent", "get", "tags"}, tool.Name)
		if a.ReadOnlyHint != read {
			t.Errorf("%s: ReadOnlyHint %v", tool.Name, a.ReadOnlyHint)
		}
		if !read && (a.DestructiveHint == nil || *a.DestructiveHint != (tool.Name == "forget")) {
			t.Errorf("%s: DestructiveHint %v, want it set, true only on forget", tool.Name, a.DestructiveHint)
		}
		if tool.InputSchema == nil || tool.Description == "" {
			t.Errorf("%s: no input schema or description", tool.Name)
		}
	}
	slices.Sort(names)
	if want := []string{"forget", "get", "recall", "recent", "remember", "tags", "update"}; !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	schema, _ := json.Marshal(tl.Tools[slices.IndexFunc(tl.Tools, func(x *sdk.Tool) bool { return x.Name == "remember" })].InputSchema)
	for _, field := range []string{"text", "tags", "key", "expires_in", "allow_secret"} {
		if !strings.Contains(string(schema), `"`+field+`"`) {
			t.Errorf("remember's schema lacks %s: %s", field, schema)
		}
	}

	if _, _, ok := proctest.Healthy(ctx, env.Paths()); ok {
		t.Fatal("a daemon runs before the first tool call")
	}
	var r1, r2, dup RememberOutT
	b.ok(t, "remember", map[string]any{"text": "prod-east needs the c++ toolchain", "tags": []string{"deploy"}}, &r1)
	if r1.ID == "" || r1.Status != "created" {
		t.Fatalf("remember: %+v", r1)
	}
	if _, _, ok := proctest.Healthy(ctx, env.Paths()); !ok {
		t.Fatal("no daemon after the bridge's first call")
	}
	b.ok(t, "remember", map[string]any{"text": "staging rotates credentials weekly", "tags": []string{"ops", "deploy"}, "key": "rotation", "expires_in": "7d"}, &r2)
	b.ok(t, "remember", map[string]any{"text": "prod-east needs the c++ toolchain", "tags": []string{"deploy"}}, &dup)
	if dup.ID != r1.ID || dup.Status != "duplicate" {
		t.Errorf("same memory again: %+v, want duplicate of %s", dup, r1.ID)
	}
	b.toolErr(t, "remember", map[string]any{"text": "x", "tags": []string{"Not A Tag!"}}, "tags")
	b.toolErr(t, "remember", map[string]any{"text": "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"}, "allow_secret")
	b.toolErr(t, "remember", map[string]any{"text": "x", "expires_in": "soon"}, "expires_in")
	b.toolErr(t, "remember", map[string]any{"tags": []string{"a"}}, "text")

	// Who and where: the client's name and the git repository's folder.
	c, err := client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	m, err := c.Memory(ctx, r1.ID)
	if err != nil || m.Source != "test-agent" || m.Project != "web-shop" {
		t.Errorf("stored with source %q project %q (%v); want test-agent, web-shop", m.Source, m.Project, err)
	}

	var rec MemoriesT
	b.ok(t, "recall", map[string]any{"query": "c++ toolchain"}, &rec)
	if len(rec.Memories) != 1 || rec.Memories[0].ID != r1.ID || rec.Memories[0].Score <= 0 || rec.Memories[0].CreatedAt == "" || !slices.Equal(rec.Memories[0].Tags, []string{"deploy"}) {
		t.Errorf("recall: %+v", rec)
	}
	b.ok(t, "recall", map[string]any{"query": "prod staging", "tags": []string{"ops"}, "since": "2000-01-01", "limit": 5}, &rec)
	if len(rec.Memories) != 1 || rec.Memories[0].ID != r2.ID {
		t.Errorf("recall by tag: %+v", rec)
	}
	b.ok(t, "recall", map[string]any{"query": "prod-east staging", "max_bytes": 10}, &rec)
	if !rec.Truncated || len(rec.Memories) != 1 {
		t.Errorf("recall with max_bytes 10: %+v, want one memory and truncated", rec)
	}
	b.toolErr(t, "recall", map[string]any{"query": "x", "limit": 51}, "limit")
	b.toolErr(t, "recall", map[string]any{"query": "x", "since": "yesterday"}, "since")
	b.toolErr(t, "recall", map[string]any{"query": "x", "tags": []string{"BAD TAG"}}, "tag")
	b.toolErr(t, "recall", map[string]any{"query": "x", "bogus": 1}, "bogus")

	b.ok(t, "recent", map[string]any{}, &rec)
	if len(rec.Memories) != 2 || rec.Memories[0].ID != r2.ID || rec.Memories[1].ID != r1.ID {
		t.Errorf("recent: %+v, want %s then %s", rec, r2.ID, r1.ID)
	}
	b.ok(t, "recent", map[string]any{"limit": 1, "tags": []string{"deploy"}}, &rec)
	if len(rec.Memories) != 1 || rec.Memories[0].ID != r2.ID {
		t.Errorf("recent limit 1: %+v", rec)
	}
	b.toolErr(t, "recent", map[string]any{"limit": -1}, "limit")

	var found FoundT
	missing := "01JE5Z0000000000000000NONE"
	b.ok(t, "get", map[string]any{"ids": []string{r1.ID, missing}}, &found)
	if len(found.Memories) != 1 || found.Memories[0].Text != "prod-east needs the c++ toolchain" || !slices.Equal(found.NotFound, []string{missing}) {
		t.Errorf("get: %+v", found)
	}
	b.toolErr(t, "get", map[string]any{"ids": []string{}}, "ids")

	var upd MemoryT
	b.ok(t, "update", map[string]any{"id": r1.ID, "text": "prod-east needs the c++ and rust toolchains", "add_tags": []string{"build"}, "remove_tags": []string{"deploy"}}, &upd)
	if upd.ID != r1.ID || !strings.Contains(upd.Text, "rust") || !slices.Equal(upd.Tags, []string{"build"}) {
		t.Errorf("update: %+v", upd)
	}
	b.toolErr(t, "update", map[string]any{"id": r1.ID, "add_tags": []string{"No Good"}}, "add_tags")
	b.toolErr(t, "update", map[string]any{"id": missing, "text": "x"}, "no memory")

	var tags struct{ Tags []api.TagCount }
	b.ok(t, "tags", map[string]any{}, &tags)
	if !slices.Equal(tags.Tags, []api.TagCount{{Tag: "build", Count: 1}, {Tag: "deploy", Count: 1}, {Tag: "ops", Count: 1}}) {
		t.Errorf("tags: %+v", tags)
	}

	var gone ForgottenT
	b.ok(t, "forget", map[string]any{"ids": []string{r1.ID, missing}}, &gone)
	if !slices.Equal(gone.Deleted, []string{r1.ID}) || !slices.Equal(gone.NotFound, []string{missing}) {
		t.Errorf("forget: %+v", gone)
	}
	b.toolErr(t, "forget", map[string]any{}, "ids")
	if _, err := c.Memory(ctx, r1.ID); err == nil {
		t.Error("a forgotten memory is still there")
	}
	// The bridge is still serving after all those errors.
	b.ok(t, "recent", nil, &rec)
}

// The tools' answers, as a test decodes them.
type (
	RememberOutT struct{ ID, Status string }
	MemoryT      struct {
		ID, Text  string
		CreatedAt string `json:"created_at"`
		Tags      []string
		Score     float64
	}
	MemoriesT struct {
		Memories  []MemoryT
		Truncated bool
	}
	FoundT struct {
		Memories []MemoryT
		NotFound []string `json:"not_found"`
	}
	ForgottenT struct {
		Deleted  []string
		NotFound []string `json:"not_found"`
	}
)

// TestMCPProject: the project is the git top-level folder's name from any
// folder inside it, none outside a repository, and --project wins; with no
// client name the source is "mcp".
func TestMCPProject(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDaemon(t, env)
	outside := t.TempDir()
	cases := []struct {
		dir, client string
		args        []string
		project     string
		source      string
	}{
		{gitRepo(t, "alpha-repo"), "", nil, "alpha-repo", "mcp"},
		{outside, "cursor", nil, "", "cursor"},
		{gitRepo(t, "beta"), "vscode", []string{"--project", "override"}, "override", "vscode"},
	}
	c := func() *client.Client {
		t.Helper()
		c, err := client.Discover(env.Paths())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i, tc := range cases {
		b := startMCP(t, env, tc.dir, tc.client, tc.args...)
		var r RememberOutT
		b.ok(t, "remember", map[string]any{"text": "case " + strconv.Itoa(i)}, &r)
		cl := c()
		m, err := cl.Memory(context.Background(), r.ID)
		cl.CloseIdle()
		if err != nil || m.Project != tc.project || m.Source != tc.source {
			t.Errorf("case %d (%s): project %q source %q (%v), want %q %q", i, tc.dir, m.Project, m.Source, err, tc.project, tc.source)
		}
	}
}

// killDaemon SIGKILLs the data dir's daemon (which this test's bridge
// started) and waits until its port refuses connections.
func killDaemon(t *testing.T, env *proctest.Env) {
	t.Helper()
	pid, addr, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok {
		t.Fatal("no daemon to kill")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proctest.Eventually(t, 10*time.Second, "the killed daemon's port to close", func() bool {
		conn, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
}

// TestMCPDaemonKilled: the daemon is SIGKILLed between two calls; the next
// call finds it gone, starts one and succeeds. Killed again and started
// from the terminal with a new token: the next call proves the new daemon
// and succeeds. No write is stored twice.
func TestMCPDaemonKilled(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDaemon(t, env)
	b := startMCP(t, env, t.TempDir(), "test-agent")
	var r RememberOutT
	b.ok(t, "remember", map[string]any{"text": "first, before the kill"}, &r)
	first, _, _ := proctest.Healthy(context.Background(), env.Paths())

	killDaemon(t, env)
	b.ok(t, "remember", map[string]any{"text": "second, after the kill"}, &r)
	if r.Status != "created" {
		t.Errorf("remember after the kill: %+v", r)
	}
	second, _, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok || second == first {
		t.Fatalf("daemon after the kill: PID %d (ok %v), the killed one was %d", second, ok, first)
	}

	// A new token: the bridge's client holds the old one.
	killDaemon(t, env)
	if err := os.Remove(env.Paths().Token); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cairn(t, env, "start"); code != 0 {
		t.Fatalf("cairn start: exit %d %s%s", code, out, errOut)
	}
	var rec MemoriesT
	b.ok(t, "recent", map[string]any{"limit": 50}, &rec)
	b.ok(t, "remember", map[string]any{"text": "third, after the new token"}, &r)
	b.ok(t, "remember", map[string]any{"text": "second, after the kill"}, &r)
	if r.Status != "duplicate" {
		t.Errorf("the second memory again: %+v, want duplicate", r)
	}
	b.ok(t, "recent", map[string]any{"limit": 50}, &rec)
	var texts []string
	for _, m := range rec.Memories {
		texts = append(texts, m.Text)
	}
	if want := []string{"third, after the new token", "second, after the kill", "first, before the kill"}; !slices.Equal(texts, want) {
		t.Errorf("memories %q, want %q (each once)", texts, want)
	}
	if n := strings.Count(b.stderr.String(), "finding it again"); n != 2 {
		t.Errorf("the bridge looked for the daemon again %d times, want 2:\n%s", n, b.stderr)
	}
}

// TestMCPStartsOneDaemon: ten bridges at once against no daemon; each
// one's first call succeeds, one daemon serves, every memory is stored.
func TestMCPStartsOneDaemon(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDaemon(t, env)
	bridges := make([]*mcpBridge, 10)
	for i := range bridges {
		bridges[i] = startMCP(t, env, t.TempDir(), "agent-"+strconv.Itoa(i))
	}
	var wg sync.WaitGroup
	for i, b := range bridges {
		wg.Go(func() {
			res := b.call(t, "remember", map[string]any{"text": fmt.Sprintf("memory number %d", i)}, nil)
			if res.IsError {
				t.Errorf("bridge %d: %s\nstderr: %s", i, toolText(res), b.stderr)
			}
		})
	}
	wg.Wait()
	assertOneDaemonHolds(t, env, 10)
}

// TestMCPConfig: the snippet names this binary's absolute path; an unknown
// client is bad usage.
func TestMCPConfig(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	code, out, errOut := cairn(t, env, "mcp", "config", "--client", "claude-code")
	if code != 0 || !strings.Contains(out, "claude mcp add --scope user cairn -- "+cairnBin+" mcp") {
		t.Errorf("claude-code: exit %d %s%s", code, out, errOut)
	}
	code, out, _ = cairn(t, env, "mcp", "config", "--client", "cursor")
	if code != 0 || !strings.Contains(out, `"command": "`+cairnBin+`"`) || !strings.Contains(out, `"mcpServers"`) {
		t.Errorf("cursor: exit %d %s", code, out)
	}
	if code, _, errOut = cairn(t, env, "mcp", "config", "--client", "emacs"); code != 2 || !strings.Contains(errOut, "claude-desktop") {
		t.Errorf("unknown client: exit %d %s", code, errOut)
	}
}

// TestMCPRunsTheHelper: `cairn mcp` becomes cairn-mcp (the same process,
// so the AI tool's handle on it stays true) and names itself as the cairn
// to start the daemon with; the helper refuses a bad command line on its
// own; a cairn without its helper says what is missing, and never takes
// one from PATH; a helper run by hand with no cairn to start still uses a
// running daemon and says why it cannot start one.
func TestMCPRunsTheHelper(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	cmd := exec.Command(cairnBin, "mcp", "--project", "p")
	cmd.Env = env.Environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(filepath.Dir(cairnBin), "cairn-mcp")
	if runtime.GOOS == "linux" {
		// The kernel shows the new exe a moment before the new argv.
		var argv []byte
		proctest.Eventually(t, 10*time.Second, "cairn mcp to become cairn-mcp", func() bool {
			exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
			argv, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
			return exe == helper && len(argv) > 0
		})
		if !strings.Contains(string(argv), "\x00--cairn="+cairnBin+"\x00") {
			t.Errorf("cairn-mcp's command line %q does not name the cairn that ran it", argv)
		}
	}
	stdin.Close() // the client is done: the server ends, cleanly
	if err := cmd.Wait(); err != nil {
		t.Errorf("cairn mcp after its input closed: %v", err)
	}

	for _, args := range [][]string{{"--bogus"}, {"stray"}, {"--port", "70000"}} {
		code, _, errOut := proctest.Run(t, env, helper, args...)
		if code != 2 || !strings.HasPrefix(errOut, "cairn: ") {
			t.Errorf("cairn-mcp %q: exit %d, %q; want 2 and one sentence", args, code, errOut)
		}
	}

	onPath := t.TempDir()
	proctest.Link(t, helper, onPath, "cairn-mcp") // a cairn-mcp on PATH is not this cairn's
	env.Extra = append(env.Extra, "PATH="+onPath)
	alone := proctest.Link(t, cairnBin, t.TempDir(), "cairn")
	code, _, errOut := proctest.Run(t, env, alone, "mcp")
	if code != 1 || !strings.Contains(errOut, "cannot find cairn-mcp beside "+alone+"; it comes with cairn") {
		t.Errorf("cairn mcp without cairn-mcp beside it: exit %d, %q", code, errOut)
	}

	// A package's bin folder often holds only a symlink to the install:
	// cairn-mcp is found beside what it points at, before one beside the
	// link (which this one refuses to be). On Linux os.Executable has
	// already resolved the link (/proc/self/exe), so there this checks
	// the whole way, not Beside's order; on macOS it checks the order too.
	bin := t.TempDir()
	link := filepath.Join(bin, "cairn")
	if err := os.Symlink(cairnBin, link); err != nil {
		t.Fatal(err)
	}
	proctest.WriteExecutable(t, filepath.Join(bin, "cairn-mcp"), "#!/bin/sh\necho 'a cairn-mcp beside the link' >&2\nexit 3\n", 0o755)
	if code, _, errOut := proctest.Run(t, env, link, "mcp"); code != 0 {
		t.Errorf("cairn mcp through a symlink to cairn: exit %d, %q", code, errOut)
	}

	b := startBridge(t, env, t.TempDir(), "agent", proctest.Link(t, helper, t.TempDir(), "cairn-mcp"))
	b.toolErr(t, "recall", map[string]any{"query": "anything"}, "no Cairn daemon answers, and this bridge cannot start one: cannot find cairn beside this program or on PATH")
	serveReady(t, env)
	b.ok(t, "remember", map[string]any{"text": "through a daemon the bridge found"}, nil)
}
