package exepath

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// TestBeside: a program in this executable's folder; PATH only for
// BesideOrOnPath; a clear error when it is in neither.
func TestBeside(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := func(name string) string {
		if runtime.GOOS == "windows" {
			return name + ".exe"
		}
		return name
	}
	name := fmt.Sprintf("exepath-beside-%d", os.Getpid())
	beside := filepath.Join(filepath.Dir(self), exe(name))
	onPath := t.TempDir()
	for _, f := range []string{beside, filepath.Join(onPath, exe(name)), filepath.Join(onPath, exe(name+"-path"))} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(f) })
	}
	t.Setenv("PATH", onPath)
	for _, find := range []func(string) (string, error){Beside, BesideOrOnPath} {
		if got, err := find(name); err != nil || got != beside {
			t.Errorf("%q: %q, %v; want the one beside the executable, %q", name, got, err, beside)
		}
	}
	if got, err := Beside(name + "-path"); err == nil || !strings.Contains(err.Error(), "cannot find "+exe(name+"-path")+" beside "+self) {
		t.Errorf("Beside of a program only on PATH = %q, %v; want it not found", got, err)
	}
	if got, err := BesideOrOnPath(name + "-path"); err != nil || got != filepath.Join(onPath, exe(name+"-path")) {
		t.Errorf("BesideOrOnPath of a program on PATH = %q, %v", got, err)
	}
	if _, err := BesideOrOnPath(name + "-nowhere"); err == nil || !strings.Contains(err.Error(), "cannot find "+exe(name+"-nowhere")+" beside this program or on PATH") {
		t.Errorf("BesideOrOnPath of a missing program: %v", err)
	}
	t.Setenv("PATH", ".")
	t.Chdir(onPath)
	if got, err := BesideOrOnPath(name + "-path"); err == nil {
		t.Errorf("BesideOrOnPath took %q from a relative PATH entry", got)
	}
}
