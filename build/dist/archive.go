package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// artifact is one file in dist/ and the binaries inside it, which its SBOM
// describes.
type artifact struct {
	name     string   // base name in dist/
	binaries []string // paths of the binaries it carries
}

// entry is one file to put into an archive.
type entry struct {
	name string // path inside the archive
	src  string
	mode fs.FileMode
}

// archiveName is the base name of p's archive, without extension.
func (b *builder) archiveName(p platform) string {
	return fmt.Sprintf("cairn_%s_%s", b.version, p)
}

// archiveFiles lists what p's archive holds, in a directory named like the
// archive: the commands and the README. The README's "Install" section
// names the same files; build/distcheck holds the two together.
func (b *builder) archiveFiles(p platform) []entry {
	dir := b.archiveName(p) + "/"
	var es []entry
	for _, name := range p.commands() {
		es = append(es, entry{dir + p.exe(name), b.bin(p, name), 0o755})
	}
	es = append(es, entry{dir + "README.md", filepath.Join(b.root, "README.md"), 0o644})
	slices.SortFunc(es, func(x, y entry) int { return strings.Compare(x.name, y.name) })
	return es
}

// archive writes p's .zip (Windows) or .tar.gz (the rest).
func (b *builder) archive(p platform) (artifact, error) {
	es := b.archiveFiles(p)
	var data []byte
	var err error
	name := b.archiveName(p)
	if p.os == "windows" {
		name += ".zip"
		data, err = b.zipBytes(es)
	} else {
		name += ".tar.gz"
		data, err = b.tarGz(es)
	}
	if err != nil {
		return artifact{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.out, name), data, 0o644); err != nil {
		return artifact{}, err
	}
	a := artifact{name: name}
	for _, cmd := range p.commands() {
		a.binaries = append(a.binaries, b.bin(p, cmd))
	}
	return a, nil
}

// tarGz packs es, in order, with a directory entry first: owned by root,
// dated b.epoch, in a gzip stream without a name or time.
func (b *builder) tarGz(es []entry) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	dir, _, _ := strings.Cut(es[0].name, "/")
	hdr := func(name string, mode fs.FileMode, size int64, typ byte) *tar.Header {
		return &tar.Header{Name: name, Mode: int64(mode), Size: size, Typeflag: typ, ModTime: b.epoch, Format: tar.FormatUSTAR, Uname: "root", Gname: "root"}
	}
	if err := tw.WriteHeader(hdr(dir+"/", 0o755, 0, tar.TypeDir)); err != nil {
		return nil, err
	}
	for _, e := range es {
		data, err := os.ReadFile(e.src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(hdr(e.name, e.mode, int64(len(data)), tar.TypeReg)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipBytes packs es, in order, deflated, dated b.epoch.
func (b *builder) zipBytes(es []entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		data, err := os.ReadFile(e.src)
		if err != nil {
			return nil, err
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: b.epoch}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses data at the best level with no name or time in the
// header, as `gzip -9n` does.
func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	gz.Write(data)
	gz.Close()
	return buf.Bytes()
}

// writeSums writes SHA256SUMS over every file directly in dir, sorted by
// name, in the format `sha256sum -c` reads.
func writeSums(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var out strings.Builder
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "SHA256SUMS" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&out, "%s  %s\n", hex.EncodeToString(sum[:]), e.Name())
	}
	return os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(out.String()), 0o644)
}
