//go:build !windows

package main

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/store"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestUnusableStoreExits5: the daemon serves while its store opens, but a
// store it cannot use still ends it with exit 5 and a message, and leaves
// no discovery file or lock behind. A newer schema, and a write-ahead log
// left without its store, are found before the daemon binds; a damaged
// file fails the open itself.
func TestUnusableStoreExits5(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
		served     bool // it got as far as serving before the store failed
		write      func(t *testing.T, path string)
	}{
		{"written by a newer Cairn", "newer Cairn", false, func(t *testing.T, path string) {
			s, err := store.Open(path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var v [4]byte
			binary.BigEndian.PutUint32(v[:], uint32(store.SchemaVersion+1))
			if _, err := f.WriteAt(v[:], 60); err != nil { // the header's user_version
				t.Fatal(err)
			}
		}},
		{"a write-ahead log without its store", "write-ahead log", false, func(t *testing.T, path string) {
			if err := os.WriteFile(path+"-wal", []byte("the old store's last writes"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"damaged", "cairn doctor", true, func(t *testing.T, path string) {
			data := append([]byte("SQLite format 3\x00"), make([]byte, 84)...)
			data = append(data, []byte(strings.Repeat("not a b-tree page ", 300))...)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := proctest.NewEnv(t)
			if err := os.MkdirAll(env.CairnHome, 0o700); err != nil {
				t.Fatal(err)
			}
			tc.write(t, env.Paths().Store)
			p := serve(t, env)
			if code := p.Wait(t, 20*time.Second); code != exitcode.DataDirBad {
				t.Fatalf("exit %d, want 5; stderr %s", code, p.Stderr())
			}
			if !strings.Contains(p.Stderr(), tc.want) || !strings.Contains(p.Stderr(), env.Paths().Store) {
				t.Errorf("the message should name the store and say %q: %q", tc.want, p.Stderr())
			}
			if served := strings.Contains(p.Stdout(), "is serving at"); served != tc.served {
				t.Errorf("served before exiting: %v, want %v; stdout %q", served, tc.served, p.Stdout())
			}
			ps := env.Paths()
			for _, f := range append(ps.AddrFiles(), ps.Lock) {
				if exists(f) {
					t.Errorf("%s left behind", f)
				}
			}
		})
	}
}
