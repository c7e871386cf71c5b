package exepath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckChars(t *testing.T) {
	for _, ok := range []string{"/usr/bin/cairn", `C:\Program Files\Cairn\cairn.exe`, "/home/zoë/日本語/cairn", `/a "b" 'c' $d %e`} {
		if err := CheckChars(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"a\nb": "control character U+000A", "a\tb": "control character U+0009",
		"a\x7fb": "control character U+007F", "a\xffb": "not valid UTF-8",
	} {
		if err := CheckChars(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
}

func TestSame(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "cairn")
	other := filepath.Join(dir, "other")
	for _, f := range []string{exe, other} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard")
	if err := os.Link(exe, hard); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(dir, "gone")
	cases := []struct {
		a, b string
		want bool
	}{
		{exe, exe, true},
		{exe, filepath.Join(dir, ".", "x", "..", "cairn"), true},
		{exe, link, true},
		{exe, hard, true},
		{exe, other, false},
		{exe, gone, false},
		{gone, gone, true},
		{"", "", false},
		{exe, "", false},
	}
	for _, c := range cases {
		if got := Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
