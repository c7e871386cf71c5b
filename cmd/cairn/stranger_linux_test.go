package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/server"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestStolenCredentialsRefusedToAnotherUser: the token, a dashboard
// session cookie and a one-time dashboard code, all valid, are refused
// when another local user sends them (the kernel names the owner of every
// connection), and a code they tried is not used up: the owner can still
// redeem it. How they could get them: a code is in the browser's command
// line, which /proc shows every user, and a cookie for 127.0.0.1 goes to
// every port on it, another user's server's too.
func TestStolenCredentialsRefusedToAnotherUser(t *testing.T) {
	t.Parallel()
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Fatal("this test makes requests as another local user, which needs root (make test runs as root in CI)")
	}
	env := proctest.NewEnv(t)
	d := serveReady(t, env)
	const secret = "the owner's private note about the lawyer"
	if code, _, errOut := cairn(t, env, "remember", secret); code != 0 {
		t.Fatalf("remember: exit %d: %s", code, errOut)
	}
	tok, err := os.ReadFile(env.Paths().Token)
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Authorization: Bearer " + strings.TrimSpace(string(tok))
	base := fmt.Sprintf("http://127.0.0.1:%d", env.Port)

	const pkg = "github.com/cairnlabs/cairn/internal/proctest/request"
	bins, err := proctest.Build(t.TempDir(), pkg)
	if err != nil {
		t.Fatal(err)
	}
	requestBin := bins[pkg]
	makeReachable(t, requestBin)
	// asOther makes one request as the other user and returns the status
	// code and the body.
	asOther := func(method, path string, headers ...string) (int, string) {
		t.Helper()
		args := []string{"-method", method}
		for _, h := range headers {
			args = append(args, "-header", h)
		}
		p := proctest.StartWith(t, env, u.Credential, requestBin, append(args, base+path)...)
		if code := p.Wait(t, 30*time.Second); code != 0 {
			t.Fatalf("request %s %s as %s: exit %d: %s", method, path, u.Name, code, p.Stderr())
		}
		first, body, _ := strings.Cut(p.Stdout(), "\n")
		var status int
		fmt.Sscan(first, &status)
		return status, body
	}

	owner := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ownerDo := func(method, path string, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Set(k, strings.TrimSpace(v))
		}
		resp, err := owner.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	newCode := func() string {
		t.Helper()
		resp := ownerDo(http.MethodPost, "/v1/session", bearer)
		var s api.Session
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK || s.Code == "" {
			t.Fatalf("the owner's POST /v1/session: %d %v", resp.StatusCode, err)
		}
		return s.Code
	}

	// The owner's browser signs in: a session cookie.
	resp := ownerDo(http.MethodGet, "/open?code="+newCode())
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == server.SessionCookie {
			cookie = "Cookie: " + c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == "" {
		t.Fatalf("the owner's /open: %d, cookie %q", resp.StatusCode, cookie)
	}

	for _, c := range []struct {
		what, method, path, header string
	}{
		{"the token", http.MethodGet, "/v1/memories?q=lawyer", bearer},
		{"the token", http.MethodGet, "/v1/status", bearer},
		{"the token", http.MethodPost, "/v1/session", bearer},
		{"the session cookie", http.MethodGet, "/v1/memories?q=lawyer", cookie},
		{"the session cookie", http.MethodGet, "/v1/tags", cookie},
	} {
		code, body := asOther(c.method, c.path, c.header)
		if code != http.StatusForbidden || !strings.Contains(body, "another user") {
			t.Errorf("%s %s with %s, as another user: %d %s; want 403 naming another user", c.method, c.path, c.what, code, body)
		}
		if strings.Contains(body, "lawyer") {
			t.Errorf("%s %s with %s, as another user, gave away the memory: %s", c.method, c.path, c.what, body)
		}
	}
	// With the cookie, the dashboard's page is the sign-in page, not the app.
	if code, body := asOther(http.MethodGet, "/", cookie); code != http.StatusOK || (!strings.Contains(body, "cairn open") || strings.Contains(body, "Cairn dashboard")) {
		t.Errorf("GET / with the session cookie, as another user: %d, want the sign-in page:\n%s", code, body)
	}

	// A code another user read off the browser's command line: refused, and
	// not used up.
	code := newCode()
	if status, _ := asOther(http.MethodGet, "/open?code="+code); status != http.StatusForbidden {
		t.Errorf("GET /open with a live code, as another user: %d, want 403", status)
	}
	if resp := ownerDo(http.MethodGet, "/open?code="+code); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the owner's /open with the code another user tried: %d, want 303 (the code must not be used up)", resp.StatusCode)
	}

	// The owner, with the same token and cookie, is served.
	for _, h := range []string{bearer, cookie} {
		resp := ownerDo(http.MethodGet, "/v1/memories?q=lawyer", h)
		var page api.Page
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK || len(page.Memories) != 1 {
			t.Errorf("the owner's GET /v1/memories with %.20s…: %d %v %+v", h, resp.StatusCode, err, page)
		}
	}
	d.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, d)
}
