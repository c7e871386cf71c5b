package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// release matches a release tag: v, then major.minor.patch.
var release = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// firstVersion is what a tree without any release tag is building towards.
const firstVersion = "0.1.0"

// gitVersion returns the version of the checkout in dir: the tag's version
// when HEAD is exactly a release tag (v1.2.3 gives 1.2.3), else
// <next>-dev.<n>.g<sha>, where next is the patch after the last release tag
// (or 0.1.0), n the commits since that tag and sha HEAD's short hash, and
// .dirty appended when tracked files have changes.
//
// That development version sorts after the last release and before the
// next in both semver (a pre-release; numeric identifiers compare as
// numbers) and Debian order (nfpm writes the pre-release after a ~, which
// sorts before anything), and later commits sort later. The g keeps a hash
// of digits alone from being a number with a leading zero, which semver
// forbids.
func gitVersion(dir string) (string, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
			}
			return "", fmt.Errorf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	sha, err := git("rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "", fmt.Errorf("not a git checkout with a commit (pass -version): %w", err)
	}
	status, err := git("status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", err
	}
	dirty := status != ""
	if tags, err := git("tag", "--points-at", "HEAD"); err == nil && !dirty {
		for _, t := range strings.Fields(tags) {
			if release.MatchString(t) {
				return strings.TrimPrefix(t, "v"), nil
			}
		}
	}
	next, base := firstVersion, ""
	if last, err := git("describe", "--tags", "--abbrev=0", "--match", "v[0-9]*.[0-9]*.[0-9]*", "HEAD"); err == nil && release.MatchString(last) {
		m := release.FindStringSubmatch(last)
		patch, _ := strconv.Atoi(m[3])
		next, base = fmt.Sprintf("%s.%s.%d", m[1], m[2], patch+1), last
	}
	rng := "HEAD"
	if base != "" {
		rng = base + "..HEAD"
	}
	n, err := git("rev-list", "--count", rng)
	if err != nil {
		return "", err
	}
	v := fmt.Sprintf("%s-dev.%s.g%s", next, n, sha)
	if dirty {
		v += ".dirty"
	}
	return v, nil
}

// commitTime returns HEAD's commit time in seconds since the epoch: the
// SOURCE_DATE_EPOCH of a build of this checkout.
func commitTime(dir string) (int64, error) {
	cmd := exec.Command("git", "log", "-1", "--format=%ct", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("reading HEAD's commit time (set SOURCE_DATE_EPOCH): %v", err)
	}
	return strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
}

// numeric returns the major.minor.patch of v, for the places that take
// numbers only (Windows version resources, macOS bundle versions).
func numeric(v string) string {
	core, _, _ := strings.Cut(v, "-")
	core, _, _ = strings.Cut(core, "+")
	return core
}
