//go:build !windows

package paths

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestEnsureDataDirCreatesEachLevelPrivate(t *testing.T) {
	root := t.TempDir()
	p := ForDataDir(filepath.Join(root, "a", "b", "cairn"), "")
	if err := p.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b"), p.DataDir, p.LogDir} {
		if m := mode(t, d); m.Perm() != 0o700 || !m.IsDir() {
			t.Errorf("%s: mode %v, want drwx------", d, m)
		}
	}
	if err := p.EnsureDataDir(); err != nil {
		t.Errorf("second call: %v", err)
	}
}

// A folder Cairn did not create keeps its mode, and a writable one is
// refused with the command that fixes it.
func TestEnsureDataDirNeverChmodsAndRefusesWritable(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		fix  string
	}{
		{0o1777 | os.ModeSticky, "point CAIRN_HOME at a new folder"},
		{0o770, "chmod 700 "},
		{0o702, "chmod 700 "},
	} {
		dir := filepath.Join(t.TempDir(), "shared")
		os.Mkdir(dir, 0o700)
		if err := os.Chmod(dir, tc.mode); err != nil {
			t.Fatal(err)
		}
		before := mode(t, dir)
		err := ForDataDir(dir, "").EnsureDataDir()
		var de *DirError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.fix) || !strings.Contains(err.Error(), "written by group or others") {
			t.Errorf("mode %v: err = %v, want a DirError with %q", before, err, tc.fix)
		}
		if after := mode(t, dir); after != before {
			t.Errorf("mode changed from %v to %v", before, after)
		}
	}
}

func TestCheckDataDirAncestors(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "parent")
	os.Mkdir(parent, 0o700)
	dir := filepath.Join(parent, "cairn")
	p := ForDataDir(dir, "")
	if err := p.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o777)
	err := p.CheckDataDir()
	if err == nil || !strings.Contains(err.Error(), "chmod go-w "+parent) {
		t.Errorf("group-writable parent: %v", err)
	}
	// With the sticky bit, as /tmp has, others cannot replace our folder.
	os.Chmod(parent, 0o777|os.ModeSticky)
	if err := p.CheckDataDir(); err != nil {
		t.Errorf("sticky parent: %v", err)
	}
}

// A data dir to be made inside a folder others can write is refused
// before any folder is made in it; inside a sticky one (as /tmp) it is
// made.
func TestEnsureDataDirRefusesBeforeCreatingInAWritableFolder(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777)
	err := ForDataDir(filepath.Join(shared, "sub", "cairn"), "").EnsureDataDir()
	if err == nil || !strings.Contains(err.Error(), "chmod go-w "+shared) {
		t.Errorf("inside a folder others can write: %v", err)
	}
	if _, err := os.Stat(filepath.Join(shared, "sub")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a folder was made before the refusal: %v", err)
	}
	os.Chmod(shared, 0o777|os.ModeSticky)
	if err := ForDataDir(filepath.Join(shared, "sub", "cairn"), "").EnsureDataDir(); err != nil {
		t.Errorf("inside a sticky folder: %v", err)
	}
}

func TestEnsureDataDirRefusesOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root; CI runs as root")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := ForDataDir(dir, "").EnsureDataDir()
	if err == nil || !strings.Contains(err.Error(), "not by you (root)") || !strings.Contains(err.Error(), "chown root ") {
		t.Errorf("root with a dir of uid 65534: %v", err)
	}
}

func TestEnsureDataDirRefusesSymlinkedLogs(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(dir, "logs"))
	err := ForDataDir(dir, "").EnsureDataDir()
	if err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("logs -> elsewhere: %v", err)
	}
}

func TestResolveRefusesRelativeHome(t *testing.T) {
	t.Setenv("CAIRN_HOME", "")
	t.Setenv("HOME", "relative/home")
	if _, err := Resolve(); !errors.Is(err, ErrRelativeHome) || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("Resolve with HOME=relative/home: %v", err)
	}
}

func TestResolveRefusesARelativeDataDir(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CAIRN_HOME", "relhome")
	if _, err := Resolve(); !errors.Is(err, ErrRelativeDataDir) || !strings.Contains(err.Error(), `"relhome"`) {
		t.Errorf("Resolve with CAIRN_HOME=relhome: %v", err)
	}
	t.Setenv("CAIRN_HOME", "")
	t.Setenv("XDG_DATA_HOME", "rel/data")
	if p, err := Resolve(); err == nil && !filepath.IsAbs(p.DataDir) {
		t.Errorf("Resolve with XDG_DATA_HOME=rel/data: a relative data dir %q", p.DataDir)
	}
}

func TestRemoveStaleTemps(t *testing.T) {
	root := t.TempDir()
	p := ForDataDir(filepath.Join(root, "cairn"), filepath.Join(root, "home"))
	if err := p.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	dot := filepath.Dir(p.DotAddrFile)
	os.MkdirAll(dot, 0o700)
	victim := filepath.Join(root, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	write := func(path string) string { os.WriteFile(path, nil, 0o600); return path }
	aged := func(path string) string {
		old := time.Now().Add(-time.Hour)
		os.Chtimes(path, old, old)
		return path
	}
	gone := []string{
		write(filepath.Join(p.DataDir, ".http_addr.tmp123")),
		write(filepath.Join(p.DataDir, ".control.token.tmp9")),
		aged(write(filepath.Join(dot, ".http_addr.tmp42"))),
	}
	gone = append(gone, aged(write(filepath.Join(p.DataDir, ".update.json.tmp8"))))
	link := filepath.Join(p.DataDir, ".daemon.lock.pid.tmp7")
	os.Symlink(victim, link)
	gone = append(gone, link)
	kept := []string{
		write(filepath.Join(p.DataDir, "http_addr")),
		write(filepath.Join(dot, ".other.tmp1")), // ~/.cairn is not only ours
		// ~/.cairn is shared by every data dir's daemon, which our lock does
		// not order: a fresh temp file there may be another's live write.
		write(filepath.Join(dot, ".http_addr.tmp43")),
		// The tray writes these without the daemon's lock: a fresh temp
		// file may be its live write (the daemon starting beside it once
		// cut a rename short).
		write(filepath.Join(p.DataDir, ".update.json.tmp5")),
		write(filepath.Join(p.DataDir, ".config.json.tmp6")),
		victim,
	}
	if err := p.RemoveStaleTemps(); err != nil {
		t.Fatal(err)
	}
	for _, f := range gone {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s not removed", f)
		}
	}
	for _, f := range kept {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("%s removed", f)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("victim changed: %q", data)
	}
}

// A data dir reached through a symlink that someone else could re-point
// is refused: the check follows the link, every later open goes through it.
func TestCheckDataDirLinksOnTheWay(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(root, "ours")
	os.Symlink(real, ours)
	if err := ForDataDir(ours, "").CheckDataDir(); err != nil {
		t.Fatalf("our own link to our own folder refused: %v", err)
	}

	shared := filepath.Join(root, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777) // writable by all, no sticky bit
	inShared := filepath.Join(shared, "link")
	os.Symlink(real, inShared)
	var de *DirError
	if err := ForDataDir(inShared, "").CheckDataDir(); !errors.As(err, &de) || !strings.Contains(de.Problem, "symlink") {
		t.Fatalf("a link in a folder anyone can write: %v, want a DirError about the symlink", err)
	}

	if os.Geteuid() != 0 {
		t.Fatal("the foreign-owned link needs root to chown it (CI is root)")
	}
	theirs := filepath.Join(root, "theirs")
	os.Symlink(real, theirs)
	if err := os.Lchown(theirs, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := ForDataDir(theirs, "").CheckDataDir(); !errors.As(err, &de) || !strings.Contains(de.Problem, "owned by") {
		t.Fatalf("a link another user owns: %v, want a DirError naming its owner", err)
	}
	// A data dir to be made beyond their link is refused before anything
	// is created through it.
	target := filepath.Join(root, "target")
	os.Mkdir(target, 0o700)
	theirs2 := filepath.Join(root, "theirs2")
	os.Symlink(target, theirs2)
	if err := os.Lchown(theirs2, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := ForDataDir(filepath.Join(theirs2, "sub", "cairn"), "").EnsureDataDir(); !errors.As(err, &de) || !strings.Contains(de.Problem, "owned by") {
		t.Fatalf("a data dir beyond a link another user owns: %v, want a DirError naming its owner", err)
	}
	if _, err := os.Lstat(filepath.Join(target, "sub")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("EnsureDataDir made a folder through their link before refusing it: %v", err)
	}
}
