package token

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.token")
	tok, created, err := LoadOrCreate(path)
	if err != nil || !created || !Valid(tok) {
		t.Fatalf("create: %q %v %v", tok, created, err)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	again, created, err := LoadOrCreate(path)
	if err != nil || created || again != tok {
		t.Errorf("reload: %q %v %v", again, created, err)
	}
	// A token others could read is replaced, not reused.
	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o644)
		third, created, err := LoadOrCreate(path)
		if err != nil || !created || third == tok || !Private(path) {
			t.Errorf("loose token kept: %v %v", created, err)
		}
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if fixed, created, err := LoadOrCreate(path); err != nil || !created || !Valid(fixed) {
		t.Errorf("garbage token not replaced: %v %v", created, err)
	}
}

// A symlinked token is replaced by the atomic rename, never followed: the
// link's target keeps its content.
func TestLoadOrCreateReplacesASymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	path := filepath.Join(dir, "control.token")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil {
		t.Fatal("Read followed the symlink")
	}
	tok, created, err := LoadOrCreate(path)
	if err != nil || !created || !Valid(tok) {
		t.Fatalf("LoadOrCreate over a symlink: %q %v %v", tok, created, err)
	}
	if fi, _ := os.Lstat(path); !fi.Mode().IsRegular() {
		t.Errorf("token is still %v", fi.Mode())
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Errorf("victim changed: %q", data)
	}
}
