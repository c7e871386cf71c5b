package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAcquireReleaseProbe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	if held, err := Probe(path); held || err != nil {
		t.Fatalf("probe of a missing lock: %v %v", held, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("probe created the lock file")
	}
	l, err := Acquire(path, 4242)
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := ReadRecord(path); err != nil || pid != 4242 {
		t.Fatalf("record = %d, %v", pid, err)
	}
	if held, _ := Probe(path); !held {
		t.Error("probe does not see the held lock")
	}
	if _, err := Acquire(path, 1); !errors.Is(err, ErrHeld) {
		t.Errorf("second acquire: %v, want ErrHeld", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("release left the lock file")
	}
}

func TestAcquireOverStaleRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	os.WriteFile(path, []byte("123456789\ntrailing garbage that is longer than the new record\n"), 0o600)
	l, err := Acquire(path, 77)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	data, _ := os.ReadFile(RecordPath(path))
	if string(data) != "77\n" {
		t.Errorf("record = %q, want exactly %q", data, "77\n")
	}
}

// A releasing holder unlinks the file before unlocking; a process that
// opened the old file must not end up holding a lock nobody can see.
func TestReleaseDoesNotRemoveASuccessorsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	old, err := Acquire(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path) // someone wipes it; a successor takes a new file
	successor, err := Acquire(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer successor.Release()
	old.Release()
	if pid, err := ReadRecord(path); err != nil || pid != 2 {
		t.Fatalf("successor's record = %d, %v", pid, err)
	}
	if held, _ := Probe(path); !held {
		t.Error("the successor's lock file was removed or released")
	}
}

func TestParseRecord(t *testing.T) {
	for in, want := range map[string]int{"1\n": 1, "4242": 4242, " 99 \r\nx": 99, "2147483647\n": 2147483647} {
		if got, err := ParseRecord([]byte(in)); err != nil || got != want {
			t.Errorf("ParseRecord(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", "0", "-5", "abc", "2147483648", "12 34", "\x00\xff", "0x10"} {
		if _, err := ParseRecord([]byte(in)); !errors.Is(err, ErrBadRecord) {
			t.Errorf("ParseRecord(%q) err = %v, want ErrBadRecord", in, err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{"1\n", "4242", "", "0", "-1", "99999999999", "\xff\x00", " 7 \n8", "12\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pid, err := ParseRecord(data)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if pid <= 0 {
			t.Fatalf("accepted non-positive PID %d", pid)
		}
		// Whatever parses round-trips through the writer's format.
		if again, err := ParseRecord([]byte(FormatRecord(pid))); err != nil || again != pid {
			t.Fatalf("round trip of %d: %d, %v", pid, again, err)
		}
		if strings.Contains(FormatRecord(pid), " ") {
			t.Fatal("format has spaces")
		}
	})
}
