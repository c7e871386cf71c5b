//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestExportTargets: cairn export FILE replaces a plain file (through a
// link, keeping the link), writes into a pipe as it is (a device such as
// /dev/null would be the same: as root, the rename once made it a plain
// file), and refuses a folder, a dangling link and an empty name before
// it writes anything.
func TestExportTargets(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })
	for _, text := range []string{"first memory to export", "second memory to export"} {
		if code, out, errOut := cairn(t, env, "remember", text); code != 0 {
			t.Fatalf("remember: exit %d %s%s", code, out, errOut)
		}
	}
	dir := t.TempDir()

	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(fifo) // blocks until the export opens it, reads to its close
		got <- string(data)
	}()
	if code, _, errOut := cairn(t, env, "export", fifo); code != 0 || !strings.Contains(errOut, "Exported 2 memories to "+fifo) {
		t.Fatalf("export into a pipe: exit %d %s", code, errOut)
	}
	select {
	case data := <-got:
		if strings.Count(data, "\n") != 2 || !strings.Contains(data, "second memory to export") {
			t.Errorf("the pipe's reader got %q", data)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the pipe's reader got nothing in 20 s")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe is no longer a pipe: %v %v", fi, err)
	}

	target := filepath.Join(dir, "target.jsonl")
	link := filepath.Join(dir, "link.jsonl")
	if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cairn(t, env, "export", link); code != 0 {
		t.Fatalf("export through a link: exit %d %s", code, errOut)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if data, err := os.ReadFile(target); err != nil || strings.Count(string(data), "\n") != 2 || strings.Contains(string(data), "precious") {
		t.Errorf("the link's file holds %q (%v); want the export", data, err)
	}

	dangling := filepath.Join(dir, "dangling.jsonl")
	if err := os.Symlink(filepath.Join(dir, "nowhere", "x"), dangling); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "folder")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)
	for _, tc := range []struct {
		name, want string
		code       int
	}{
		{sub, "cannot write " + sub + ": it is a folder", 1},
		{dangling, "cannot write " + dangling + ": it is a link to " + filepath.Join(dir, "nowhere", "x") + ", which does not exist", 1},
		{"", "give a file name to export to", 2},
	} {
		if code, _, errOut := cairn(t, env, "export", tc.name); code != tc.code || !strings.HasPrefix(errOut, "cairn: "+tc.want) {
			t.Errorf("export %q: exit %d %q; want %d and %q", tc.name, code, errOut, tc.code, tc.want)
		}
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Errorf("a refused export left files: %d entries before, %d after", len(before), len(after))
	}
	if entries, _ := os.ReadDir(sub); len(entries) != 0 {
		t.Errorf("the folder was written into: %v", entries)
	}
}
