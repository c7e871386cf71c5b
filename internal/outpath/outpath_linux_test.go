package outpath

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestResolveRefusesAnotherUsers: in a folder everybody writes (as /tmp,
// sticky), another user plants a link to a file of the writer's, a link
// standing for a folder (to put the write among the writer's files), a
// pipe whose reader they are; or the write is aimed into a folder of
// theirs, where they could swap any of that in after the check. Each is
// refused, with who made it.
func TestResolveRefusesAnotherUsers(t *testing.T) {
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Skip("creating another user needs root; CI runs as root")
	}
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(base, "shared")
	mine := filepath.Join(base, "mine")
	theirs := filepath.Join(base, "theirs")
	for _, d := range []string{shared, mine, theirs} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(mine, "notes.txt")
	if err := os.WriteFile(precious, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plant := func(name string, make func(string) error) string {
		p := filepath.Join(shared, name)
		if err := make(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fileLink := plant("export.jsonl", func(p string) error { return os.Symlink(precious, p) })
	folderLink := plant("out", func(p string) error { return os.Symlink(mine, p) })
	fifo := plant("pipe.jsonl", func(p string) error { return syscall.Mkfifo(p, 0o666) })
	if err := os.Chown(theirs, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	// A link of the writer's own that leads into the other user's folder.
	myLink := filepath.Join(mine, "totheirs")
	if err := os.Symlink(theirs, myLink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{fileLink, fileLink + " is a link another user made"},
		{filepath.Join(folderLink, "notes.txt"), folderLink + " is a link another user made"},
		{fifo, fifo + " is a pipe or device another user made"},
		{filepath.Join(theirs, "new.jsonl"), "the folder " + theirs + " belongs to another user"},
		{filepath.Join(myLink, "new.jsonl"), "the folder " + theirs + " belongs to another user"},
	} {
		if got, err := Resolve(tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%s) = %v %q, %v; want an error saying %q", tc.name, got.Kind, got.Path, err, tc.want)
		}
	}
	// The writer's own name in the shared folder is theirs to write.
	if got, err := Resolve(filepath.Join(shared, "fresh.jsonl")); err != nil || got.Kind != New {
		t.Errorf("Resolve(a new name in the sticky shared folder) = %v, %v; want New", got.Kind, err)
	}
}
