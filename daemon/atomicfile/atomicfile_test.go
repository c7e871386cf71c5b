package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep me"), 0o600)
	write := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		os.Chtimes(p, old, old)
		return p
	}
	oldTemp := write(".http_addr.tmp123", time.Hour)
	newTemp := write(".http_addr.tmp456", 0)
	otherTemp := write(".control.token.tmp1", time.Hour)
	keep := write("http_addr", time.Hour)
	if runtime.GOOS != "windows" {
		os.Symlink(victim, filepath.Join(dir, ".http_addr.tmp789"))
		old := time.Now().Add(-time.Hour)
		os.Chtimes(filepath.Join(dir, ".http_addr.tmp789"), old, old) // the target's time: the link is judged by Lstat
	}

	// Only one target's temps, only old ones.
	if err := RemoveStale(dir, "http_addr", time.Minute); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{oldTemp: false, newTemp: true, otherTemp: true, keep: true} {
		if _, err := os.Lstat(p); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	// Every temp, whatever its age; a symlink goes as a link.
	if err := RemoveStale(dir, "", 0); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{newTemp: false, otherTemp: false, keep: true} {
		if _, err := os.Lstat(p); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Errorf("the symlink's target was touched: %q %v", b, err)
	}
}
