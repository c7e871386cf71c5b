//go:build distcheck

package distcheck

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

var (
	distDir  = flag.String("dist", "", "the dist directory make dist wrote")
	dist2Dir = flag.String("dist2", "", "a second dist build of the same tree, for the reproducibility check")
	version  = flag.String("version", "", "the version make dist stamped")
)

// readmePath is the README whose "Install" section the artifacts must match.
const readmePath = "../../README.md"

func TestMain(m *testing.M) {
	flag.Parse()
	if *distDir == "" || *version == "" {
		os.Stderr.WriteString("distcheck: pass -dist DIR -dist2 DIR2 -version V (make check-dist does)\n")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// platforms are the archives make dist writes.
var platforms = []struct{ os, arch string }{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
}

func artifact(os_, arch, ext string) string {
	return "cairn_" + *version + "_" + os_ + "_" + arch + "." + ext
}

func archiveExt(goos string) string {
	if goos == "windows" {
		return "zip"
	}
	return "tar.gz"
}

// sums reads dir/SHA256SUMS into name -> hex digest.
func sums(t *testing.T, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS line %q is not `<sha256>  <name>`", sc.Text())
		}
		m[name] = sum
	}
	return m
}

func TestEveryArtifactIsSummedAndHasAnSBOM(t *testing.T) {
	want := map[string]bool{}
	for _, p := range platforms {
		want[artifact(p.os, p.arch, archiveExt(p.os))] = true
		if p.os == "linux" {
			want[artifact(p.os, p.arch, "deb")] = true
			want[artifact(p.os, p.arch, "rpm")] = true
		}
	}
	for _, name := range slices.Collect(maps.Keys(want)) {
		want[name+".cdx.json"] = true
	}
	got := sums(t, *distDir)
	entries, err := os.ReadDir(*distDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "SHA256SUMS" {
			continue
		}
		if !want[e.Name()] {
			t.Errorf("dist holds %s, which is not an artifact", e.Name())
		}
		data, err := os.ReadFile(filepath.Join(*distDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(data)
		if got[e.Name()] != hex.EncodeToString(s[:]) {
			t.Errorf("SHA256SUMS has %q for %s, the file hashes to %x", got[e.Name()], e.Name(), s)
		}
		delete(want, e.Name())
	}
	for name := range want {
		t.Errorf("dist has no %s", name)
	}
	if len(got) != len(entries)-2 { // all but SHA256SUMS and the darwin/ directory
		t.Errorf("SHA256SUMS lists %d files, dist holds %d artifacts", len(got), len(entries)-2)
	}
}

// TestReproducible: a second build of the same tree, from another
// directory, gives the same bytes.
func TestReproducible(t *testing.T) {
	if *dist2Dir == "" {
		t.Fatal("pass -dist2 with a second build of the same tree")
	}
	a, b := sums(t, *distDir), sums(t, *dist2Dir)
	for name, sum := range a {
		if b[name] != sum {
			t.Errorf("%s differs between the two builds (%s, %s)", name, sum, b[name])
		}
	}
	if len(a) != len(b) {
		t.Errorf("the builds hold %d and %d artifacts", len(a), len(b))
	}
}

// readmeBlock returns the lines of the first code block after the README
// line that contains marker.
func readmeBlock(t *testing.T, marker string) []string {
	t.Helper()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, marker) })
	if i < 0 {
		t.Fatalf("README has no line with %q", marker)
	}
	var block []string
	in := false
	for _, l := range lines[i+1:] {
		if strings.HasPrefix(l, "```") {
			if in {
				return block
			}
			in = true
			continue
		}
		if in && strings.TrimSpace(l) != "" {
			block = append(block, strings.TrimSpace(l))
		}
	}
	t.Fatalf("README: no code block after %q", marker)
	return nil
}

// matchesExactly checks that every name matches one of the README's
// patterns (path.Match) and every pattern matches at least one name.
func matchesExactly(t *testing.T, what string, names, patterns []string) {
	t.Helper()
	used := map[string]bool{}
	for _, n := range names {
		ok := false
		for _, p := range patterns {
			if m, err := path.Match(p, n); err != nil {
				t.Fatalf("README pattern %q: %v", p, err)
			} else if m {
				used[p], ok = true, true
			}
		}
		if !ok {
			t.Errorf("%s holds %s, which the README does not list", what, n)
		}
	}
	for _, p := range patterns {
		if !used[p] {
			t.Errorf("the README lists %s, which %s does not hold", p, what)
		}
	}
}

func TestArchivesHoldWhatTheREADMESays(t *testing.T) {
	for _, p := range platforms {
		name := artifact(p.os, p.arch, archiveExt(p.os))
		t.Run(name, func(t *testing.T) {
			prefix := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz") + "/"
			var files []string
			entries := archiveEntries(t, filepath.Join(*distDir, name))
			for _, e := range entries {
				if e.dir {
					continue
				}
				if !strings.HasPrefix(e.name, prefix) {
					t.Errorf("%s is outside the archive's directory %s", e.name, prefix)
				}
				if e.mtime != entries[0].mtime {
					t.Errorf("%s has its own time; every entry should carry SOURCE_DATE_EPOCH", e.name)
				}
				files = append(files, strings.TrimPrefix(e.name, prefix))
			}
			if !slices.IsSorted(files) {
				t.Errorf("entries are not sorted: %q", files)
			}
			matchesExactly(t, name, files, readmeBlock(t, "`cairn_<version>_"+p.os+"_<arch>."+archiveExt(p.os)+"`"))
		})
	}
}

type archiveEntry struct {
	name  string
	dir   bool
	mtime int64
	data  []byte
}

func archiveEntries(t *testing.T, file string) []archiveEntry {
	t.Helper()
	var es []archiveEntry
	if strings.HasSuffix(file, ".zip") {
		zr, err := zip.OpenReader(file)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, archiveEntry{f.Name, f.FileInfo().IsDir(), f.Modified.Unix(), data})
		}
		return es
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("%s: gzip header carries name %q, time %v; want neither", file, gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: %s owned by %d:%d, want root", file, h.Name, h.Uid, h.Gid)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, archiveEntry{h.Name, h.Typeflag == tar.TypeDir, h.ModTime.Unix(), data})
	}
	return es
}

// extract writes the archive's files into a new directory and returns it.
func extract(t *testing.T, file string) string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range archiveEntries(t, file) {
		if e.dir {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		proctest.WriteExecutable(t, p, string(e.data), 0o755)
	}
	return dir
}

// TestVersionIsStamped runs this machine's cairn, cairn-mcp and cairn-tray
// from the archive.
func TestVersionIsStamped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatalf("dist is checked on Linux, not %s", runtime.GOOS)
	}
	name := artifact("linux", runtime.GOARCH, "tar.gz")
	dir := filepath.Join(extract(t, filepath.Join(*distDir, name)), strings.TrimSuffix(name, ".tar.gz"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cairn", "--version"}, "cairn " + *version + "\n"},
		{[]string{"cairn", "version"}, "cairn " + *version + " ("},
		{[]string{"cairn-mcp", "--version"}, "cairn-mcp " + *version + "\n"},
		{[]string{"cairn-tray", "--version"}, "cairn-tray " + *version + "\n"},
	} {
		out, err := exec.Command(filepath.Join(dir, c.args[0]), c.args[1:]...).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), c.want) {
			t.Errorf("%s: %q (%v), want it to start %q", strings.Join(c.args, " "), out, err, c.want)
		}
	}
}

type cdx struct {
	BOMFormat    string `json:"bomFormat"`
	SpecVersion  string `json:"specVersion"`
	SerialNumber string `json:"serialNumber"`
	Metadata     struct {
		Component struct{ Name, Version string } `json:"component"`
	} `json:"metadata"`
	Components []struct {
		Type, Name, Version, PURL string
		Hashes                    []struct{ Alg, Content string }
	} `json:"components"`
}

func TestSBOMs(t *testing.T) {
	for name := range sums(t, *distDir) {
		if strings.HasSuffix(name, ".cdx.json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(*distDir, name+".cdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		var bom cdx
		if err := json.Unmarshal(data, &bom); err != nil {
			t.Fatalf("%s.cdx.json: %v", name, err)
		}
		if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
			t.Errorf("%s.cdx.json: format %q %q, serial %q; want CycloneDX 1.5 with a urn:uuid serial", name, bom.BOMFormat, bom.SpecVersion, bom.SerialNumber)
		}
		if bom.Metadata.Component.Name != name || bom.Metadata.Component.Version != *version {
			t.Errorf("%s.cdx.json describes %s %s", name, bom.Metadata.Component.Name, bom.Metadata.Component.Version)
		}
		var apps, sqlite int
		for _, c := range bom.Components {
			if c.Type == "application" && len(c.Hashes) == 1 && len(c.Hashes[0].Content) == 64 {
				apps++
			}
			if c.Name == "modernc.org/sqlite" && c.PURL == "pkg:golang/modernc.org/sqlite@"+c.Version {
				sqlite++
			}
		}
		if apps == 0 || sqlite != 1 {
			t.Errorf("%s.cdx.json: %d hashed binaries, %d modernc.org/sqlite entries; want at least one binary and the store's driver once", name, apps, sqlite)
		}
	}
}

// run runs a command and returns its output, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
