package launch

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestArgs(t *testing.T) {
	if got := Args(7171); !slices.Equal(got, []string{"serve", "--foreground", "--port", "7171"}) {
		t.Errorf("Args = %q", got)
	}
}

func TestParseArgs(t *testing.T) {
	for _, port := range []int{1, 7070, 65535} {
		if got, ok := ParseArgs(Args(port)); !ok || got != port {
			t.Errorf("ParseArgs(Args(%d)) = %d, %v", port, got, ok)
		}
	}
	for _, args := range [][]string{
		nil,
		{"serve", "--foreground"},
		{"serve", "--foreground", "--port"},
		{"serve", "--foreground", "--port=7070"},
		{"serve", "--port", "7070", "--foreground"},
		{"serve", "--foreground", "--port", "7070", "--port", "7071"},
		{"serve", "--foreground", "--port", "7070", "extra"},
		{"serve", "--foreground=true", "--port", "7070"},
		{"start", "--foreground", "--port", "7070"},
		{"serve", "--foreground", "--port", "0"},
		{"serve", "--foreground", "--port", "65536"},
		{"serve", "--foreground", "--port", "-1"},
		{"serve", "--foreground", "--port", "07070"},
		{"serve", "--foreground", "--port", "+7070"},
		{"serve", "--foreground", "--port", "0x1b9e"},
		{"serve", "--foreground", "--port", " 7070"},
		{"serve", "--foreground", "--port", "99999999999999999999"},
	} {
		if port, ok := ParseArgs(args); ok {
			t.Errorf("ParseArgs(%q) = %d, true; want not Args' form", args, port)
		}
	}
}

func TestTagLines(t *testing.T) {
	var buf bytes.Buffer
	w := TagLines(&buf)
	w.Write([]byte("one\ntwo\n"))
	tag := TagPrefix(os.Getpid())
	if got, want := buf.String(), tag+"one\n"+tag+"two\n"; got != want {
		t.Errorf("tagged %q, want %q", got, want)
	}
}

// One run's lines among those of every other run that shares daemon.out:
// its tagged lines, and for the run's own reader untagged ones after its
// offset too, never another daemon's tagged lines.
func TestLines(t *testing.T) {
	out := filepath.Join(t.TempDir(), "daemon.out")
	before := "[7] Cairn 1 is serving at 127.0.0.1:1 (PID 7, data in /d).\nolder untagged\n"
	os.WriteFile(out, []byte(before), 0o600)
	after := "[9] first\n[7] another daemon's\nuntagged\n\n[9] last\n"
	f, _ := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(after)
	f.Close()
	if got := Lines(out, 0, 9, 10); !slices.Equal(got, []string{"first", "last"}) {
		t.Errorf("Lines = %q", got)
	}
	if got := Lines(out, 0, 9, 1); !slices.Equal(got, []string{"last"}) {
		t.Errorf("Lines(1) = %q", got)
	}
	if got := lastN(read(out, int64(len(before)), 9, true, window), 10); !slices.Equal(got, []string{"first", "untagged", "last"}) {
		t.Errorf("run lines = %q", got)
	}
	if got := Lines(filepath.Join(t.TempDir(), "missing"), 0, 9, 3); got != nil {
		t.Errorf("missing file: %q", got)
	}
}

func TestOpenOutRotates(t *testing.T) {
	out := filepath.Join(t.TempDir(), "daemon.out")
	os.WriteFile(out, bytes.Repeat([]byte("x"), maxOut+1), 0o600)
	f, off, err := OpenOut(out)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if off != 0 {
		t.Errorf("offset %d after rotation, want 0", off)
	}
	if fi, err := os.Stat(out + ".1"); err != nil || fi.Size() != maxOut+1 {
		t.Errorf("rotated file: %v", err)
	}
	// A symlink planted there is refused, not written through.
	link := filepath.Join(t.TempDir(), "daemon.out")
	os.Symlink(out, link)
	if _, _, err := OpenOut(link); err == nil {
		t.Error("OpenOut followed a symlink")
	}
}
