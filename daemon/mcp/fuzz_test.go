//go:build !windows

package mcp

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// toolParams are each tool's argument names: a tool error about bad input
// must name one of them (or say the daemon could not be reached).
var toolParams = map[string][]string{
	"remember": {"text", "tags", "key", "expires_in", "allow_secret"},
	"recall":   {"query", "tags", "since", "until", "limit", "max_bytes"},
	"recent":   {"limit", "tags", "since"},
	"get":      {"ids"},
	"update":   {"id", "text", "add_tags", "remove_tags"},
	"forget":   {"ids"},
	"tags":     {},
}

var toolNames = []string{"remember", "recall", "recent", "get", "update", "forget", "tags"}

// FuzzToolArguments: whatever arguments an AI tool sends, a call is a
// result (an IsError result naming the argument for bad input, never a
// protocol error for an object), and what remember stored, get reads back
// byte for byte. One real daemon serves every call.
func FuzzToolArguments(f *testing.F) {
	// The daemon is started here, not by the Daemon: that would need this
	// process's HOME pointed at the test's, and the fuzzing workers, which
	// inherit it, would then build the binaries into an empty module cache.
	env := proctest.NewEnv(f)
	serve := proctest.Start(f, env, cairnBin, "serve", "--foreground")
	proctest.Eventually(f, time.Minute, "the daemon to serve", func() bool {
		_, _, ok := proctest.Healthy(context.Background(), env.Paths())
		return ok || serve.Exited()
	})
	if serve.Exited() {
		f.Fatalf("the daemon exited: %s", serve.Stderr())
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := NewDaemon(env.Paths(), env.Port, log)
	d.Exe = cairnBin
	f.Cleanup(d.Close)
	srv := NewServer(Options{Daemon: d, Project: "fuzz", Log: log})
	ct, st := sdk.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "fuzz\nclient"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cs.Close() })

	seeds := map[string][]string{
		"remember": {`{"text":"a"}`, `{"text":""}`, `{"text":"a","tags":["Not OK"]}`, `{"text":"a","tags":"x"}`, `{"text":5}`,
			`{"text":"a","expires_in":"soon"}`, `{"text":"a","expires_in":"1e300d"}`, `{"text":"aws AKIAIOSFODNN7EXAMPLE"}`,
			`{"text":"a\u0000b"}`, `{"text":"prod-east c++ NEAR( OR * ?"}`, `{}`, `{"text":"a","extra":1}`, `[]`, `null`, `"text"`},
		"recall": {`{"query":"deploy"}`, `{"query":"\""}`, `{"query":"a","limit":51}`, `{"query":"a","limit":-1}`, `{"query":"a","max_bytes":-5}`,
			`{"query":"a","since":"yesterday"}`, `{"query":"a","tags":["Prod"]}`, `{"query":"a","limit":1.5}`, `{}`},
		"recent": {`{}`, `{"limit":0}`, `{"limit":1e10}`, `{"since":"2026-12-01"}`, `{"tags":[""]}`},
		"get":    {`{"ids":[]}`, `{"ids":[""]}`, `{"ids":["01JE0000000000000000000000"]}`, `{"ids":["../../v1/shutdown"]}`, `{"ids":["%2e%2e"]}`, `{"ids":"x"}`},
		"update": {`{"id":""}`, `{"id":"nope","text":"b"}`, `{"id":"01JE0000000000000000000000","add_tags":["BAD TAG"]}`, `{"id":"?x=1"}`},
		"forget": {`{"ids":["nope"]}`, `{"ids":["/"]}`, `{"ids":["a/b"]}`},
		"tags":   {`{}`, `{"x":1}`},
	}
	for i, name := range toolNames {
		for _, a := range seeds[name] {
			f.Add(uint8(i), []byte(a))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, args []byte) {
		name := toolNames[int(which)%len(toolNames)]
		if !json.Valid(args) {
			return // the SDK's JSON-RPC layer never hands a tool invalid JSON
		}
		var raw any
		json.Unmarshal(args, &raw)
		_, isObject := raw.(map[string]any)
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
		if err != nil {
			if isObject {
				t.Fatalf("%s(%s): protocol error %v; want a tool result", name, args, err)
			}
			return
		}
		text := resultText(res)
		if res.IsError {
			if text == "" {
				t.Fatalf("%s(%s): an error with no words", name, args)
			}
			if !namesParam(text, toolParams[name]) {
				t.Fatalf("%s(%s): error %q names none of %v", name, args, text, toolParams[name])
			}
			return
		}
		if name != "remember" {
			return
		}
		var sent RememberIn
		json.Unmarshal(args, &sent)
		var out RememberOut
		if err := json.Unmarshal([]byte(text), &out); err != nil || out.ID == "" {
			t.Fatalf("remember(%s) answered %q", args, text)
		}
		got, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "get", Arguments: map[string]any{"ids": []string{out.ID}}})
		if err != nil || got.IsError {
			t.Fatalf("get %s: %v %s", out.ID, err, resultText(got))
		}
		var found Found
		if err := json.Unmarshal([]byte(resultText(got)), &found); err != nil || len(found.Memories) != 1 {
			t.Fatalf("get %s: %s", out.ID, resultText(got))
		}
		if out.Status != "duplicate" && (found.Memories[0].Text != sent.Text || found.Memories[0].Project != "fuzz") {
			t.Fatalf("remember(%s) stored %+v", args, found.Memories[0])
		}
	})
}

func resultText(r *sdk.CallToolResult) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// namesParam: the message names one of the tool's arguments as a word
// (the SDK's schema check quotes the property; the bridge and the daemon
// start with its name; a 404 says "no memory with id …"), or is about the
// arguments as a whole.
func namesParam(msg string, params []string) bool {
	for _, p := range params {
		if regexp.MustCompile(`(^|[^a-z_])` + p + `([^a-z_]|$)`).MatchString(msg) {
			return true
		}
	}
	return strings.Contains(msg, "arguments") || strings.Contains(msg, "additionalProperties")
}
