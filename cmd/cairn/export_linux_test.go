package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestExportRefusesWhatAnotherUserPlanted: a link or a pipe another user
// made where an export is to be written (a shared folder, as /tmp is) is
// refused: through the link the export would replace a file of the
// exporter's, and through the pipe the other user would read every
// memory. Nothing is written, and the file the link names is untouched.
func TestExportRefusesWhatAnotherUserPlanted(t *testing.T) {
	t.Parallel()
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Skip("creating another user needs root; CI runs as root")
	}
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })
	if code, out, errOut := cairn(t, env, "remember", "a private memory"); code != 0 {
		t.Fatalf("remember: exit %d %s%s", code, out, errOut)
	}
	shared := t.TempDir()
	precious := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(precious, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(shared, "link.jsonl")
	fifo := filepath.Join(shared, "pipe.jsonl")
	if err := os.Symlink(precious, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{link, fifo} {
		if err := os.Lchown(f, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{link, "is a link another user made"},
		{fifo, "is a pipe or device another user made"},
	} {
		// A refused pipe is never opened: an export that opened it would
		// block here, with no reader, until the test's deadline.
		if code, _, errOut := cairn(t, env, "export", tc.name); code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("export %s: exit %d %q; want 1 and %q", tc.name, code, errOut, tc.want)
		}
	}
	if data, err := os.ReadFile(precious); err != nil || string(data) != "keep me\n" {
		t.Errorf("the linked file now holds %q (%v)", data, err)
	}
}
