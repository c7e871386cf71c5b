//go:build !windows

package main

import (
	"context"
	"io"
	"os"
	"os/exec"
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

// TestExportToDescriptors: cairn export /dev/stdout writes where the
// shell pointed standard output, as a pipe or a device is written: a
// file opened with >> keeps what it held and gets the export after it
// (replacing the file would lose the log it was appended to), and
// /dev/fd/N of a pipe (bash's >(…)) carries the export to its reader.
func TestExportToDescriptors(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })
	if code, out, errOut := cairn(t, env, "remember", "a memory for the log"); code != 0 {
		t.Fatalf("remember: exit %d %s%s", code, out, errOut)
	}
	logPath := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(logPath, []byte("earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(stdout *os.File, extra []*os.File, args ...string) string {
		cmd := exec.CommandContext(ctx, cairnBin, args...)
		cmd.Env = env.Environ()
		cmd.Stdout = stdout
		cmd.ExtraFiles = extra
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("cairn %s: %v %s", strings.Join(args, " "), err, stderr.String())
		}
		return stderr.String()
	}

	if errOut := run(logFile, nil, "export", "/dev/stdout"); !strings.Contains(errOut, "Exported 1 memory to /dev/stdout") {
		t.Errorf("export /dev/stdout said %q", errOut)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "earlier line\n{") || !strings.Contains(string(data), "a memory for the log") {
		t.Errorf("the >> file holds %q; want its earlier line, then the export", data)
	}
	if after, err := os.Stat(logPath); err != nil || !os.SameFile(before, after) {
		t.Errorf("the >> file was replaced by another (%v)", err)
	}

	got := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(r)
		got <- string(data)
	}()
	run(nil, []*os.File{w}, "export", "/dev/fd/3") // ExtraFiles[0] is descriptor 3
	w.Close()
	select {
	case data := <-got:
		if !strings.Contains(data, "a memory for the log") {
			t.Errorf("/dev/fd/3's reader got %q", data)
		}
	case <-ctx.Done():
		t.Fatal("/dev/fd/3's reader got nothing before the deadline")
	}
}
