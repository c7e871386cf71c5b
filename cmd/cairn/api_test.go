//go:build !windows

// The end-to-end tests drive POSIX signals (SIGTERM, SIGKILL, SIGSTOP);
// Windows binaries cannot run on the CI machine.

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/token"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// rawRequest sends exactly the bytes a hostile or sloppy client would,
// bypassing net/http's client, which would fix up the Host header.
func rawRequest(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request %q: %v", req, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("%q answered with Access-Control-Allow-Origin", req)
	}
	if resp.StatusCode >= 400 && !strings.HasPrefix(string(body), `{"error":`) {
		t.Errorf("%q: error body is not JSON: %q", req, body)
	}
	return resp
}

func TestAPISecurity(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := serveReady(t, env)
	addr := fmt.Sprintf("127.0.0.1:%d", env.Port)
	tok, err := token.Read(env.Paths().Token)
	if err != nil {
		t.Fatal(err)
	}
	auth := "Authorization: Bearer " + tok + "\r\n"

	req := func(method, path, host, headers string) string {
		h := ""
		if host != "\x00" {
			h = "Host: " + host + "\r\n"
		}
		return method + " " + path + " HTTP/1.1\r\n" + h + headers + "Connection: close\r\n\r\n"
	}
	port := fmt.Sprint(env.Port)
	cases := []struct {
		name string
		raw  string
		want int
	}{
		{"evil host", req("GET", "/health", "evil.example:"+port, ""), 403},
		{"rebinding host", req("GET", "/health", "127.0.0.1.nip.io", ""), 403},
		{"port-only host", req("GET", "/health", ":"+port, ""), 403},
		{"empty host", req("GET", "/health", "", ""), 403},
		{"evil host with token", req("GET", "/v1/status", "evil.example", auth), 403},
		{"uppercase localhost", req("GET", "/health", "LOCALHOST:"+port, ""), 200},
		{"127.0.0.1", req("GET", "/health", "127.0.0.1:"+port, ""), 200},
		{"ipv6 loopback", req("GET", "/health", "[::1]:"+port, ""), 200},
		{"status without token", req("GET", "/v1/status", "127.0.0.1", ""), 401},
		{"status wrong token", req("GET", "/v1/status", "127.0.0.1", "Authorization: Bearer "+strings.Repeat("0", 64)+"\r\n"), 401},
		{"status truncated token", req("GET", "/v1/status", "127.0.0.1", "Authorization: Bearer "+tok[:63]+"\r\n"), 401},
		{"status token in query", req("GET", "/v1/status?token="+tok, "127.0.0.1", ""), 401},
		{"status token without Bearer", req("GET", "/v1/status", "127.0.0.1", "Authorization: "+tok+"\r\n"), 401},
		{"status", req("GET", "/v1/status", "127.0.0.1", auth), 200},
		{"shutdown without token", req("POST", "/v1/shutdown", "127.0.0.1", "Content-Length: 0\r\n"), 401},
		{"shutdown wrong token", req("POST", "/v1/shutdown", "127.0.0.1", "Content-Length: 0\r\nAuthorization: Bearer nope\r\n"), 401},
		{"shutdown truncated token", req("POST", "/v1/shutdown", "127.0.0.1", "Content-Length: 0\r\nAuthorization: Bearer "+tok[:32]+"\r\n"), 401},
		{"GET shutdown", req("GET", "/v1/shutdown", "127.0.0.1", auth), 405},
		{"cross-site POST", req("POST", "/v1/shutdown", "127.0.0.1", auth+"Sec-Fetch-Site: cross-site\r\nContent-Length: 0\r\n"), 403},
		{"foreign Origin POST", req("POST", "/v1/shutdown", "127.0.0.1:"+port, auth+"Origin: https://evil.example\r\nContent-Length: 0\r\n"), 403},
		{"oversized body", req("POST", "/v1/shutdown", "127.0.0.1", auth+"Content-Length: 2000000\r\n"), 413},
		{"unknown path", req("GET", "/v1/nothing", "127.0.0.1", auth), 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, addr, tc.raw)
			if resp.StatusCode != tc.want {
				body, _ := io.ReadAll(resp.Body)
				t.Errorf("got %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		})
	}
	if p.Exited() {
		t.Fatal("a refused request stopped the daemon")
	}

	// An oversized body streamed without Content-Length is cut off too.
	t.Run("oversized chunked body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST /v1/shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\n%sTransfer-Encoding: chunked\r\n\r\n", auth)
		chunk := strings.Repeat("x", 64<<10)
		go func() {
			for range 20 {
				if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
					return
				}
			}
			io.WriteString(conn, "0\r\n\r\n")
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 413 {
			t.Errorf("got %d, want 413", resp.StatusCode)
		}
	})
	if p.Exited() {
		t.Fatal("an oversized body stopped the daemon")
	}

	// Health holds nothing private.
	resp := rawRequest(t, addr, req("GET", "/health", "127.0.0.1", ""))
	body, _ := io.ReadAll(resp.Body)
	for _, secret := range []string{tok, env.CairnHome, env.Home} {
		if strings.Contains(string(body), secret) {
			t.Errorf("/health leaks %q: %s", secret, body)
		}
	}
	p.Signal(t, syscall.SIGTERM)
	assertCleanExit(t, env, p)
}
