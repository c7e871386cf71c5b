//go:build !windows

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/internal/proctest"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// writeStale leaves what a daemon killed long ago leaves: a lock file whose
// record names pid (no one holds the lock) and discovery files.
func writeStale(t *testing.T, env *proctest.Env, pid int) {
	t.Helper()
	ps := env.Paths()
	if err := ps.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ps.Lock, []byte(fmt.Sprintf("%d\n", pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := discovery.Parse([]byte(fmt.Sprintf("127.0.0.1:%d", env.Port)))
	if err := discovery.Write(ps.AddrFiles(), addr); err != nil {
		t.Fatal(err)
	}
}

// makeReachable lets another user execute bin: every folder above it gets
// the search bit.
func makeReachable(t *testing.T, bin string) {
	t.Helper()
	for dir := filepath.Dir(bin); dir != "/"; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(dir, fi.Mode().Perm()|0o011)
		}
	}
	os.Chmod(bin, 0o755)
}
