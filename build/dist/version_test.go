package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// repo is a throwaway git repository for the version tests.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	r := &repo{t, t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) commit(msg string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "f"), []byte(msg), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", "f")
	r.git("commit", "-q", "-m", msg)
}

func (r *repo) version() string {
	r.t.Helper()
	v, err := gitVersion(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

func TestGitVersion(t *testing.T) {
	r := newRepo(t)
	r.commit("one")
	sha := r.git("rev-parse", "--short=12", "HEAD")
	var seen []string
	check := func(want string) {
		t.Helper()
		got := r.version()
		if !regexp.MustCompile("^" + want + "$").MatchString(got) {
			t.Fatalf("version = %q, want %q", got, want)
		}
		seen = append(seen, got)
	}
	check(`0\.1\.0-dev\.1\.g` + sha)
	r.commit("two")
	check(`0\.1\.0-dev\.2\.g[0-9a-f]{12}`)

	r.git("tag", "v0.1.0")
	check(`0\.1\.0`)

	// A tag that is not a release does not name the version.
	r.commit("three")
	r.git("tag", "nightly")
	check(`0\.1\.1-dev\.1\.g[0-9a-f]{12}`)
	r.commit("four")
	check(`0\.1\.1-dev\.2\.g[0-9a-f]{12}`)
	r.git("tag", "v0.2.0")
	check(`0\.2\.0`)
	for i := range 9 {
		r.commit(fmt.Sprint("more ", i))
	}
	check(`0\.2\.1-dev\.9\.g[0-9a-f]{12}`)
	r.commit("ten")
	check(`0\.2\.1-dev\.10\.g[0-9a-f]{12}`)

	// Uncommitted changes say so, even on a tag.
	r.git("tag", "v0.2.1")
	if err := os.WriteFile(filepath.Join(r.dir, "f"), []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.version(); !strings.HasSuffix(got, ".dirty") || !strings.HasPrefix(got, "0.2.2-dev.0.g") {
		t.Fatalf("dirty tree on a tag: version = %q, want 0.2.2-dev.0.g<sha>.dirty", got)
	}

	// Each version above sorts after the one before, in semver and in
	// dpkg's and rpm's order of what nfpm writes (the pre-release after a ~).
	for i := 1; i < len(seen); i++ {
		a, b := seen[i-1], seen[i]
		if semverCompare(a, b) >= 0 {
			t.Errorf("semver: %s does not sort before %s", a, b)
		}
		// dpkg and rpm come with make test's dependencies (scripts/test-deps.sh).
		if out, err := exec.Command("dpkg", "--compare-versions", debianVersion(a), "lt", debianVersion(b)).CombinedOutput(); err != nil {
			t.Errorf("dpkg: %s does not sort before %s (%v %s)", debianVersion(a), debianVersion(b), err, out)
		}
		expr := fmt.Sprintf(`%%{lua: print(rpm.vercmp(%q, %q))}`, debianVersion(a), debianVersion(b))
		if out, err := exec.Command("rpm", "--eval", expr).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "-1" {
			t.Errorf("rpm: %s does not sort before %s (%v %s)", debianVersion(a), debianVersion(b), err, out)
		}
	}
}

func TestGitVersionOutsideACheckout(t *testing.T) {
	_, err := gitVersion(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "pass -version") {
		t.Fatalf("err = %v, want one that says to pass -version", err)
	}
}

func TestNumeric(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", "0.1.1-dev.4.gabc": "0.1.1", "2.0.0+meta": "2.0.0"} {
		if got := numeric(in); got != want {
			t.Errorf("numeric(%q) = %q, want %q", in, got, want)
		}
	}
}

// debianVersion is how nfpm writes a semver version into a .deb or .rpm.
func debianVersion(v string) string { return strings.Replace(v, "-", "~", 1) }

// semverCompare orders two semver versions without build metadata, as
// semver.org section 11 says.
func semverCompare(a, b string) int {
	split := func(v string) ([]string, []string) {
		core, pre, _ := strings.Cut(v, "-")
		var p []string
		if pre != "" {
			p = strings.Split(pre, ".")
		}
		return strings.Split(core, "."), p
	}
	num := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	ac, ap := split(a)
	bc, bp := split(b)
	for i := range 3 {
		x, _ := num(ac[i])
		y, _ := num(bc[i])
		if x != y {
			return x - y
		}
	}
	switch {
	case len(ap) == 0 && len(bp) == 0:
		return 0
	case len(ap) == 0:
		return 1
	case len(bp) == 0:
		return -1
	}
	for i := 0; i < min(len(ap), len(bp)); i++ {
		x, xn := num(ap[i])
		y, yn := num(bp[i])
		switch {
		case xn && yn && x != y:
			return x - y
		case xn != yn:
			if xn {
				return -1
			}
			return 1
		case !xn && ap[i] != bp[i]:
			return strings.Compare(ap[i], bp[i])
		}
	}
	return slices.Compare([]int{len(ap)}, []int{len(bp)})
}
