// Command dist builds Cairn's release artifacts into dist/: an archive per
// OS and architecture, .deb and .rpm packages, the macOS app skeleton,
// SHA256SUMS and a CycloneDX SBOM per artifact. Run it from the repository
// root through `make dist`; `make check-dist` builds twice and checks every
// artifact with the tool that would read it (build/distcheck).
//
// Builds are reproducible: the same commit gives the same bytes wherever it
// is checked out. Binaries are built with -trimpath, an empty build ID and
// no VCS stamp (the version is stamped with -X instead); every archive
// entry is sorted and dated SOURCE_DATE_EPOCH (HEAD's commit time unless
// set), owned by root; gzip headers carry no name or time.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "dist", "directory to write the artifacts to (emptied first)")
	ver := flag.String("version", "", "version to stamp (default: from git, see gitVersion)")
	printVersion := flag.Bool("print-version", false, "print the version this checkout builds and exit")
	feed := flag.String("feed", "default", "release feed the update notice asks (default: "+releaseFeed+" for a release version, none for a -dev one; \"\" for none)")
	darwinApp := flag.Bool("darwin-app", false, "on a Mac: build the cgo tray and complete dist/Cairn.app (make dist-darwin)")
	flag.Parse()

	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	if _, err := os.Stat(filepath.Join(root, "build", "dist", "main.go")); err != nil {
		fail(fmt.Errorf("run dist from the repository root (make dist): %w", err))
	}
	v := *ver
	if v == "" {
		if v, err = gitVersion(root); err != nil {
			if *printVersion {
				// make build outside a checkout still builds.
				fmt.Println(firstVersion + "-dev")
				return
			}
			fail(err)
		}
	}
	if *printVersion {
		fmt.Println(v)
		return
	}
	epoch, err := sourceDateEpoch(root)
	if err != nil {
		fail(err)
	}
	b := &builder{root: root, version: v, feed: feedFor(*feed, v), epoch: epoch, log: os.Stderr}
	if b.out, err = filepath.Abs(*out); err != nil {
		fail(err)
	}
	if *darwinApp {
		err = b.darwinApp()
	} else {
		err = b.all()
	}
	if err != nil {
		fail(err)
	}
}

// sourceDateEpoch is SOURCE_DATE_EPOCH when set, else HEAD's commit time.
func sourceDateEpoch(root string) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	n, err := commitTime(root)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(n, 0).UTC(), nil
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "dist: %v\n", err)
	os.Exit(1)
}

// releaseFeed is the feed a release build's update notice asks
// (internal/update; the Makefile's RELEASE_FEED).
const releaseFeed = "https://api.github.com/repos/cairnlabs/cairn/releases/latest"

// feedFor is the feed stamped into a build of version v: a development
// build asks none (its version is never "the latest release"), a release
// asks releaseFeed, unless -feed named one.
func feedFor(flagValue, v string) string {
	if flagValue != "default" {
		return flagValue
	}
	if strings.Contains(v, "-") {
		return ""
	}
	return releaseFeed
}
