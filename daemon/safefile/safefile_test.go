package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenRegular(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := Open(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("hello\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := ReadFile(path, 6)
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("ReadFile = %q, %v", data, err)
	}
	if err := Check(path); err != nil {
		t.Errorf("Check(regular) = %v", err)
	}
	if err := Check(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("Check(missing) = %v", err)
	}
}

func TestReadFileCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	os.WriteFile(path, []byte(strings.Repeat("x", 100)), 0o600)
	if _, err := ReadFile(path, 99); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("100 bytes with max 99: %v, want ErrTooLarge", err)
	}
	if data, err := ReadFile(path, 100); err != nil || len(data) != 100 {
		t.Fatalf("100 bytes with max 100: %d, %v", len(data), err)
	}
}

func TestSymlinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY | os.O_TRUNC, os.O_CREATE | os.O_RDWR | os.O_TRUNC} {
		if f, err := Open(link, flag, 0o600); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "symlink") {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(link, %#x) = %v, want a symlink ErrNotRegular", flag, err)
		}
	}
	if _, err := ReadFile(link, 100); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile(link) = %v", err)
	}
	if err := Check(link); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Check(link) = %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("victim changed: %q", data)
	}
}

func TestDirectoryRefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(dir, 100); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "directory") {
		t.Errorf("ReadFile(dir) = %v", err)
	}
}
