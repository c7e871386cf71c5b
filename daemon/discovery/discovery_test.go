package discovery

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairnlabs/cairn/daemon/safefile"
)

func TestParse(t *testing.T) {
	good := map[string]string{
		"127.0.0.1:7070\n":  "127.0.0.1:7070",
		"127.0.0.1:7070":    "127.0.0.1:7070",
		"[::1]:7070\n":      "[::1]:7070",
		"127.0.0.1:1\r\n":   "127.0.0.1:1",
		"127.0.0.2:65535\n": "127.0.0.2:65535",
	}
	for in, want := range good {
		got, err := Parse([]byte(in))
		if err != nil || got.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "\n", "evil.example:7070\n", "10.0.0.1:7070\n", "0.0.0.0:7070\n", "127.0.0.1\n",
		"127.0.0.1:0\n", "127.0.0.1:70000\n", "127.0.0.1:07070\n", "127.0.0.1:7070\n127.0.0.1:7071\n",
		" 127.0.0.1:7070\n", "127.0.0.1:7070 \n", "localhost:7070\n", "[fe80::1%lo]:7070\n", "127.0.0.1:+70\n",
		"\x00\x01", "127.0.0.1:7070\n\n",
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) err = %v, want ErrInvalid", in, err)
		}
	}
}

func TestReadRejectsHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "http_addr")
	big := make([]byte, 10000)
	copy(big, "127.0.0.1:7070\n")
	os.WriteFile(path, big, 0o600)
	if _, err := Read(path); !errors.Is(err, ErrInvalid) {
		t.Errorf("Read of a huge file: %v", err)
	}
}

func TestWriteAndRemoveIfAddr(t *testing.T) {
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "data", "http_addr"), filepath.Join(dir, "home", ".cairn", "http_addr")}
	a := netip.MustParseAddrPort("127.0.0.1:7070")
	b := netip.MustParseAddrPort("127.0.0.1:7071")
	if err := Write(files, a); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if got, err := Read(f); err != nil || got != a {
			t.Fatalf("%s = %v, %v", f, got, err)
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, fi.Mode())
		}
	}
	// A successor's address in one of them: only ours is removed.
	Write(files[1:], b)
	if err := RemoveIfAddr(files, a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Error("our file not removed")
	}
	if got, _ := Read(files[1]); got != b {
		t.Error("the successor's file was touched")
	}
	// No temp files are left behind.
	for _, d := range []string{filepath.Dir(files[0]), filepath.Dir(files[1])} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.Name() != "http_addr" {
				t.Errorf("left behind: %s", e.Name())
			}
		}
	}
}

// Readers racing 1,000 rewrites see the old address or the new one, never
// a partial, empty or missing file.
func TestReadersNeverSeeAPartialFile(t *testing.T) {
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "http_addr"), filepath.Join(dir, "dot", "http_addr")}
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:7070"),
		netip.MustParseAddrPort("[::1]:65535"),
	}
	if err := Write(files, addrs[0]); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := files[r%2]
			for !done.Load() {
				got, err := Read(f)
				if err != nil {
					t.Errorf("read during rewrite: %v", err)
					return
				}
				if got != addrs[0] && got != addrs[1] {
					t.Errorf("read %v", got)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := range 1000 {
		if err := Write(files, addrs[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("readers never ran")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"127.0.0.1:7070\n", "[::1]:1", "evil:1", "127.0.0.1:0", "", "\n\n", "[::ffff:127.0.0.1]:80\n", "127.1:80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		addr, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !addr.Addr().IsLoopback() || addr.Port() == 0 {
			t.Fatalf("accepted %v", addr)
		}
		// What the reader accepts, the writer reproduces.
		again, err := Parse(Format(addr))
		if err != nil || again != addr {
			t.Fatalf("round trip %v: %v, %v", addr, again, err)
		}
	})
}

func TestReadRefusesSymlinkAndDirectory(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("127.0.0.1:7070\n"), 0o600)
	link := filepath.Join(dir, "http_addr")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(link); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("Read(symlink) = %v, want ErrNotRegular", err)
	}
	if _, err := Read(dir); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("Read(dir) = %v, want ErrNotRegular", err)
	}
}
