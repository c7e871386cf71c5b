package server

import (
	"strings"
	"testing"
)

func TestAllowedHost(t *testing.T) {
	allowed := []string{"127.0.0.1", "127.0.0.1:7070", "localhost", "LOCALHOST:7070", "LocalHost", "[::1]", "[::1]:7070"}
	refused := []string{
		"", ":7070", "evil.example", "evil.example:7070", "127.0.0.1.nip.io", "127.0.0.1.nip.io:7070",
		"localhost.", "localhost:", "localhost:abc", "localhost:0", "localhost:99999", "[::1", "[::1]x",
		"[::1]:", "[::2]:7070", "::1", "127.0.0.2", "0.0.0.0:7070", "127.0.0.1:7070:1", "[::ffff:127.0.0.1]",
	}
	for _, h := range allowed {
		if !AllowedHost(h) {
			t.Errorf("AllowedHost(%q) = false", h)
		}
	}
	for _, h := range refused {
		if AllowedHost(h) {
			t.Errorf("AllowedHost(%q) = true", h)
		}
	}
}

func FuzzAllowedHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1:7070", "localhost", "[::1]:1", "", ":7070", "evil.example", "LOCALHOST:65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if !AllowedHost(h) {
			return
		}
		// Anything allowed names loopback, whatever the case and port.
		name := strings.ToLower(h)
		if i := strings.LastIndex(name, ":"); i >= 0 && !strings.HasSuffix(name, "]") {
			name = name[:i]
		}
		switch name {
		case "127.0.0.1", "localhost", "[::1]":
		default:
			t.Fatalf("allowed %q", h)
		}
	})
}
