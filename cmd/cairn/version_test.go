//go:build !windows

package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/daemon/version"
	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/internal/update"
	"github.com/cairnlabs/cairn/internal/update/updatetest"
)

// TestVersionCheck runs the real `cairn version --check` against a local
// feed: what it prints and the exit code scripts read.
func TestVersionCheck(t *testing.T) {
	t.Parallel()
	current := version.Version // the built binary's version too: no -X in tests
	for _, tc := range []struct {
		name   string
		set    func(*updatetest.Feed)
		code   int
		stdout string
		stderr string
	}{
		{"newer", func(f *updatetest.Feed) { f.SetRelease("v99.0.0") }, 10, "Update available: v99.0.0 (this is " + current + ")\n", ""},
		{"same", func(f *updatetest.Feed) { f.SetRelease("v" + strings.TrimPrefix(current, "v")) }, 0, "is up to date", ""},
		{"older", func(f *updatetest.Feed) { f.SetRelease("v0.0.1") }, 0, "cairn " + current + " is up to date (latest release: v0.0.1)", ""},
		{"malformed JSON", func(f *updatetest.Feed) { f.SetBody(200, "{") }, 1, "", "cairn: update check failed: the release feed http://"},
		{"malformed tag", func(f *updatetest.Feed) { f.SetBody(200, `{"tag_name":"nightly","html_url":"https://example.com/"}`) }, 1, "",
			`latest tag is unusable: "nightly" is not a semantic version`},
		{"500", func(f *updatetest.Feed) { f.SetBody(500, "") }, 1, "", "answered 500 Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			feed := updatetest.Start(t, "v0.0.0")
			tc.set(feed)
			env := proctest.NewEnv(t)
			env.Extra = []string{update.EnvURL + "=" + feed.URL()}
			code, out, errOut := cairn(t, env, "version", "--check")
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, %q, %q", code, out, errOut, tc.code, tc.stdout, tc.stderr)
			}
			if tc.code == 10 && !strings.Contains(out, feed.PageURL("v99.0.0")) {
				t.Errorf("stdout %q lacks the release page", out)
			}
		})
	}
}

func TestVersionCheckJSON(t *testing.T) {
	t.Parallel()
	feed := updatetest.Start(t, "v99.1.0")
	env := proctest.NewEnv(t)
	env.Extra = []string{update.EnvURL + "=" + feed.URL()}
	code, out, _ := cairn(t, env, "version", "--check", "--json")
	var got updateCheck
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 10 {
		t.Fatalf("exit %d, %q (%v)", code, out, err)
	}
	want := updateCheck{Current: "v" + strings.TrimPrefix(version.Version, "v"), Latest: "v99.1.0", URL: feed.PageURL("v99.1.0"), UpdateAvailable: true}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	var shape struct{ Schema string }
	if json.Unmarshal([]byte(out), &shape); shape.Schema != schemaUpdateCheck {
		t.Errorf("schema %q, want %q", shape.Schema, schemaUpdateCheck)
	}
}

// TestVersionCheckWithoutFeed: a dev build without CAIRN_UPDATE_URL says
// how to check, and fails.
func TestVersionCheckWithoutFeed(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	env.Extra = []string{update.EnvURL + "="}
	code, out, errOut := cairn(t, env, "version", "--check")
	if code != 1 || out != "" || !strings.Contains(errOut, "set CAIRN_UPDATE_URL") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestVersionCheckUsesTheTraysCache: with the tray's cached answer the
// CLI asks with If-None-Match, takes the 304, and leaves the file alone.
func TestVersionCheckUsesTheTraysCache(t *testing.T) {
	t.Parallel()
	feed := updatetest.Start(t, "v99.0.0")
	env := proctest.NewEnv(t)
	if err := env.Paths().EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	tray := &update.Checker{URL: feed.URL(), Current: version.Version, StateFile: env.Paths().UpdateState}
	if _, err := tray.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(env.Paths().UpdateState)
	env.Extra = []string{update.EnvURL + "=" + feed.URL()}
	if code, out, errOut := cairn(t, env, "version", "--check"); code != 10 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	reqs := feed.Requests()
	if len(reqs) != 2 || reqs[1].Header.Get("If-None-Match") == "" {
		t.Errorf("the CLI's request carried no If-None-Match: %v", reqs[len(reqs)-1].Header)
	}
	if after, _ := os.ReadFile(env.Paths().UpdateState); string(after) != string(before) {
		t.Errorf("the CLI rewrote the tray's state file")
	}
}

// TestVersionCheckGoesThroughTheUsersProxy: a proxy set in the
// environment is used (HTTPS_PROXY here), and only for the feed's host.
func TestVersionCheckGoesThroughTheUsersProxy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	connects := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			connects <- "unreadable: " + err.Error()
			return
		}
		connects <- req.Method + " " + req.Host
		c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
	}()
	env := proctest.NewEnv(t)
	env.Extra = []string{
		update.EnvURL + "=https://updates.cairn.invalid/releases/latest",
		"HTTPS_PROXY=http://" + ln.Addr().String(), "https_proxy=", "NO_PROXY=", "no_proxy=",
	}
	code, _, errOut := cairn(t, env, "version", "--check")
	if code != 1 || !strings.Contains(errOut, "cannot reach the release feed") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	select {
	case got := <-connects:
		if got != "CONNECT updates.cairn.invalid:443" {
			t.Errorf("the proxy got %q", got)
		}
	default:
		t.Error("the check did not go through the proxy the environment names")
	}
}
