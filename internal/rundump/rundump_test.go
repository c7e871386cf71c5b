package rundump

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDumpCountsGoroutines(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	for range 10 {
		go func() { <-stop }()
	}
	path := filepath.Join(t.TempDir(), "dump.txt")
	if err := ToFile(path, "test"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := Figures(b)
	if n, ok := fs["goroutines"]; !ok || n < 11 {
		t.Fatalf("goroutines %d, %v in\n%s", n, ok, b)
	}
	if fs["heap_live_bytes"] <= 0 || fs["sys_bytes"] < fs["heap_live_bytes"] {
		t.Errorf("memory figures %v", fs)
	}
	if !strings.Contains(string(b), "goroutine profile: total") || !bytes.Contains(b, []byte("heap_inuse_bytes: ")) {
		t.Errorf("dump lacks the profile or the figures:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("dump mode %v, want 0600", fi.Mode().Perm())
	}
	if fs := Figures([]byte("no figures\n\ngoroutines: 3\n")); len(fs) != 0 {
		t.Errorf("figures outside the header: %v", fs)
	}
}
