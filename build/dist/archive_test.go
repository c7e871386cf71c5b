package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestArchivesAreReproducible packs the same files twice, the second time
// from other copies with other times and modes on disk: the bytes match.
func TestArchivesAreReproducible(t *testing.T) {
	pack := func(mtime time.Time) (tgz, zip []byte) {
		dir := t.TempDir()
		var es []entry
		for _, name := range []string{"a", "b"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte("content of "+name), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
			es = append(es, entry{"pkg/" + name, p, 0o755})
		}
		b := &builder{epoch: time.Unix(1700000000, 0).UTC()}
		tgz, err := b.tarGz(es)
		if err != nil {
			t.Fatal(err)
		}
		zip, err = b.zipBytes(es)
		if err != nil {
			t.Fatal(err)
		}
		return tgz, zip
	}
	t1, z1 := pack(time.Now())
	t2, z2 := pack(time.Now().Add(-time.Hour))
	if !bytes.Equal(t1, t2) {
		t.Error("the tar.gz depends on the files' times on disk")
	}
	if !bytes.Equal(z1, z2) {
		t.Error("the zip depends on the files' times on disk")
	}
}

func TestStableUUID(t *testing.T) {
	a, b := stableUUID("x.tar.gz"), stableUUID("x.tar.gz")
	if a != b || a == stableUUID("y.tar.gz") {
		t.Fatalf("stableUUID: %s, %s", a, b)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
		t.Fatalf("stableUUID = %s, not a version 5 UUID URN", a)
	}
}
