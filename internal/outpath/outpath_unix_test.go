//go:build !windows

package outpath

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestResolve: each name lands where the kernel's own open would put it
// (links followed, ".." taken after them, never textually), and what is
// there says how it is written.
func TestResolve(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) string {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ln := func(to, at string) string {
		at = filepath.Join(dir, at)
		if err := os.Symlink(to, at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	plain := mk("plain.jsonl")
	deep := mk("a/b/deep.jsonl")
	upper := mk("a/upper.jsonl")
	ln("a/b", "tob")                     // relative, to a folder
	ln(filepath.Join(dir, "a/b"), "abs") // absolute, to a folder
	ln("plain.jsonl", "toplain")
	ln("toplain", "chain")
	ln("../upper.jsonl", "a/b/up") // relative, with ..
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kind Kind
		path string
	}{
		{plain, File, plain},
		{filepath.Join(dir, "toplain"), File, plain},
		{filepath.Join(dir, "chain"), File, plain},
		{filepath.Join(dir, "tob", "deep.jsonl"), File, deep},
		{filepath.Join(dir, "abs", "deep.jsonl"), File, deep},
		// tob/.. is tob's target's parent, a, not dir: the kernel's answer.
		{dir + "/tob/../upper.jsonl", File, upper},
		{filepath.Join(dir, "a", "b", "up"), File, upper},
		{filepath.Join(dir, "tob", "up"), File, upper},
		{dir + "/tob/../new.jsonl", New, filepath.Join(dir, "a", "new.jsonl")},
		{filepath.Join(dir, "new.jsonl"), New, filepath.Join(dir, "new.jsonl")},
		{fifo, Stream, fifo},
		{"/dev/null", Stream, "/dev/null"},
	} {
		got, err := Resolve(tc.name)
		if err != nil || got.Kind != tc.kind || got.Path != tc.path {
			t.Errorf("Resolve(%s) = %v %q, %v; want %v %q", tc.name, got.Kind, got.Path, err, tc.kind, tc.path)
			continue
		}
		// The kernel agrees on which file it is.
		if tc.kind == File {
			want, err1 := os.Stat(tc.name)
			have, err2 := os.Stat(got.Path)
			if err1 != nil || err2 != nil || !os.SameFile(want, have) {
				t.Errorf("Resolve(%s) = %s, which the kernel does not open for that name", tc.name, got.Path)
			}
		}
	}

	// A relative name starts where the process is, links resolved.
	t.Chdir(filepath.Join(dir, "tob"))
	if got, err := Resolve("../upper.jsonl"); err != nil || got.Path != upper {
		t.Errorf("Resolve(../upper.jsonl) in tob = %q, %v; want %s", got.Path, err, upper)
	}
}

// TestResolveRefuses: names that cannot be written say why in words.
func TestResolveRefuses(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere", "x"), dangling); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{"", "no file name given"},
		{dir, "it is a folder"},
		{dir + "/", "it ends in /"},
		{filepath.Join(dir, "."), "it is a folder"},
		{filepath.Join(file, "x"), file + " is not a folder"},
		{filepath.Join(dir, "missing", "x"), "the folder " + filepath.Join(dir, "missing") + " does not exist"},
		{filepath.Join(dir, "missing", "deeper", "x"), "the folder " + filepath.Join(dir, "missing", "deeper") + " does not exist"},
		{dangling, "it is a link to " + filepath.Join(dir, "nowhere", "x") + ", which does not exist"},
		{loop, "too many links"},
		{filepath.Join(open, "x"), "every user may change what is in the folder " + open},
	} {
		if got, err := Resolve(tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%q) = %v %q, %v; want an error saying %q", tc.name, got.Kind, got.Path, err, tc.want)
		}
	}
}

// TestResolveDescriptor: /dev/stdout, /dev/fd/N and /proc/self/fd/N name
// a descriptor of this process, and the write goes to it where it stands
// (opening the name anew would start a >> redirection's file over, and
// a pipe's name is no file at all).
func TestResolveDescriptor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd := int(w.Fd())
	names := map[string]int{"/dev/stdout": 1, "/dev/stderr": 2, fmt.Sprintf("/dev/fd/%d", fd): fd}
	if _, err := os.Stat("/proc/self/fd"); err == nil {
		names[fmt.Sprintf("/proc/self/fd/%d", fd)] = fd
	}
	for name, want := range names {
		got, err := Resolve(name)
		if err != nil || got.Kind != Descriptor || got.FD != want {
			t.Errorf("Resolve(%s) = %v %d, %v; want descriptor %d", name, got.Kind, got.FD, err, want)
		}
	}
	got, err := Resolve(fmt.Sprintf("/dev/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	f, err := got.Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("through the pipe\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing the duplicate left the pipe's own end open.
	if _, err := w.WriteString("and after\n"); err != nil {
		t.Fatalf("the descriptor was closed with its duplicate: %v", err)
	}
	w.Close()
	if data, _ := io.ReadAll(r); string(data) != "through the pipe\nand after\n" {
		t.Errorf("the pipe carried %q", data)
	}
}

// TestOpenStreamSwapped: a pipe replaced between Resolve and Open (by
// whoever can write its folder) is not written.
func TestOpenStreamSwapped(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Resolve(fifo)
	if err != nil || got.Kind != Stream {
		t.Fatalf("Resolve(pipe) = %v, %v", got.Kind, err)
	}
	// Made before the pipe goes, so that it cannot take the pipe's inode.
	other := fifo + ".other"
	if err := syscall.Mkfifo(other, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, fifo); err != nil {
		t.Fatal(err)
	}
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0) // so that an Open that went ahead would not block
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if f, err := got.Open(); err == nil || !strings.Contains(err.Error(), "changed while it was being opened") {
		if f != nil {
			f.Close()
		}
		t.Errorf("Open of a swapped pipe: %v; want a refusal", err)
	}
}
