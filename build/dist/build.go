package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// builder holds what every step of a dist build needs.
type builder struct {
	root    string    // repository root
	out     string    // dist directory
	version string    // stamped into every binary and package
	feed    string    // the update notice's release feed, stamped into every binary; "" for none
	epoch   time.Time // SOURCE_DATE_EPOCH: every file time in every artifact
	log     io.Writer

	work  string            // scratch directory, removed at the end
	tools map[string]string // build tool name -> binary
}

// platform is one OS and architecture that dist builds for.
type platform struct{ os, arch string }

// platforms are every target, built without cgo from this machine.
var platforms = []platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
}

func (p platform) String() string { return p.os + "_" + p.arch }

// exe is the file name of command name on p.
func (p platform) exe(name string) string {
	if p.os == "windows" {
		return name + ".exe"
	}
	return name
}

// commands are the programs built for p: cairn, cairn-mcp (which `cairn
// mcp` runs, from beside cairn) and the tray. The macOS tray needs cgo and
// a Mac (make dist-darwin); what builds here for darwin without cgo is the
// headless stub, which is never shipped as the tray.
func (p platform) commands() []string {
	if p.os == "darwin" {
		return []string{"cairn", "cairn-mcp"}
	}
	return []string{"cairn", "cairn-mcp", "cairn-tray"}
}

// bin returns the path of a command built for p.
func (b *builder) bin(p platform, name string) string {
	return filepath.Join(b.work, "bin", p.String(), p.exe(name))
}

// all builds every artifact into b.out.
func (b *builder) all() error {
	start := time.Now()
	if err := os.RemoveAll(b.out); err != nil {
		return err
	}
	if err := os.MkdirAll(b.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "cairn-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b.work = work
	fmt.Fprintf(b.log, "dist: cairn %s, SOURCE_DATE_EPOCH=%d\n", b.version, b.epoch.Unix())

	if err := b.buildTools(); err != nil {
		return err
	}
	cleanup, err := b.windowsResources()
	defer cleanup()
	if err != nil {
		return err
	}
	if err := b.compileAll(); err != nil {
		return err
	}
	cleanup()
	docs, err := b.docs()
	if err != nil {
		return err
	}

	var artifacts []artifact
	for _, p := range platforms {
		a, err := b.archive(p)
		if err != nil {
			return err
		}
		artifacts = append(artifacts, a)
	}
	for _, p := range platforms {
		if p.os != "linux" {
			continue
		}
		for _, format := range []string{"deb", "rpm"} {
			a, err := b.linuxPackage(p, format, docs)
			if err != nil {
				return err
			}
			artifacts = append(artifacts, a)
		}
	}
	if err := b.darwinSkeleton(); err != nil {
		return err
	}
	for _, a := range artifacts {
		if err := b.writeSBOM(a); err != nil {
			return err
		}
	}
	if err := writeSums(b.out); err != nil {
		return err
	}
	fmt.Fprintf(b.log, "dist: %d artifacts in %s (%s)\n", len(artifacts), b.out, time.Since(start).Round(time.Second))
	return nil
}

// run runs a command in dir with extra environment, returning its
// combined output in the error when it fails.
func (b *builder) run(dir string, env []string, name string, args ...string) error {
	_, err := b.output(dir, env, name, args...)
	return err
}

func (b *builder) output(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// cleanEnv is the environment without the Go settings that would change
// what gets built (each build sets its own).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "GOAMD64", "GOARM64", "GOEXPERIMENT", "SOURCE_DATE_EPOCH":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (b *builder) goBin() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// buildTools builds nfpm and go-winres from the build/tools module, whose
// go.mod pins them apart from the product's dependencies.
func (b *builder) buildTools() error {
	dir := filepath.Join(b.work, "tools")
	err := b.run(filepath.Join(b.root, "build", "tools"), []string{"GOFLAGS=-mod=readonly", "CGO_ENABLED=0"},
		b.goBin(), "build", "-o", dir+string(filepath.Separator), "github.com/goreleaser/nfpm/v2/cmd/nfpm", "github.com/tc-hib/go-winres")
	if err != nil {
		return fmt.Errorf("building the build tools: %w", err)
	}
	b.tools = map[string]string{"nfpm": filepath.Join(dir, "nfpm"), "go-winres": filepath.Join(dir, "go-winres")}
	return nil
}

// ldflags are the linker flags of every release binary: no symbol table
// or DWARF (smaller), an empty build ID (reproducible), the version.
func (b *builder) ldflags(extra ...string) string {
	return strings.Join(append([]string{"-s", "-w", "-buildid=", "-X", "github.com/cairnlabs/cairn/daemon/version.Version=" + b.version,
		"-X", "github.com/cairnlabs/cairn/internal/update.FeedURL=" + b.feed}, extra...), " ")
}

// goBuild builds one package for p into out.
func (b *builder) goBuild(p platform, pkg, out string, tags string, ldextra ...string) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", b.ldflags(ldextra...), "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pkg)
	env := []string{"CGO_ENABLED=0", "GOOS=" + p.os, "GOARCH=" + p.arch, "GOFLAGS=-mod=readonly"}
	if err := b.run(b.root, env, b.goBin(), args...); err != nil {
		return fmt.Errorf("building %s for %s: %w", pkg, p, err)
	}
	return nil
}

// compileAll builds every command once per platform, two at a time: the
// compiler already uses every core, and a second build overlaps one's
// link with the other's compile.
func (b *builder) compileAll() error {
	type job struct {
		p    platform
		name string
	}
	var jobs []job
	for _, p := range platforms {
		for _, name := range p.commands() {
			jobs = append(jobs, job{p, name})
		}
	}
	sem := make(chan struct{}, 2)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var extra []string
			if j.p.os == "windows" && j.name == "cairn-tray" {
				extra = []string{"-H=windowsgui"} // no console window behind the tray
			}
			errs[i] = b.goBuild(j.p, "./cmd/"+j.name, b.bin(j.p, j.name), "", extra...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// host is the platform of this machine, for running the built cairn to
// write its completions.
func host() platform { return platform{runtime.GOOS, runtime.GOARCH} }

// docs writes the man pages (gzipped, as Debian wants) and shell
// completions into the scratch directory and returns them as package
// contents, sorted by destination.
func (b *builder) docs() ([]content, error) {
	share := filepath.Join(b.work, "share")
	man := filepath.Join(share, "man")
	if err := os.MkdirAll(man, 0o755); err != nil {
		return nil, err
	}
	// The man pages come from the cobra tree through cobra/doc, which only
	// a build with the cairn_man tag links: the shipped cairn stays without it.
	gen := filepath.Join(b.work, "cairn-man")
	if err := b.goBuild(host(), "./cmd/cairn", gen, "cairn_man"); err != nil {
		return nil, err
	}
	raw := filepath.Join(b.work, "man-raw")
	if err := b.run(b.root, []string{fmt.Sprintf("SOURCE_DATE_EPOCH=%d", b.epoch.Unix())}, gen, "__man", raw); err != nil {
		return nil, err
	}
	pages, err := filepath.Glob(filepath.Join(raw, "*.1"))
	if err != nil {
		return nil, err
	}
	pages = append(pages, filepath.Join(b.root, "build", "linux", "cairn-tray.1"))
	var cs []content
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(page) + ".gz"
		if err := os.WriteFile(filepath.Join(man, name), gzipBytes(data), 0o644); err != nil {
			return nil, err
		}
		cs = append(cs, content{src: filepath.Join(man, name), dst: "/usr/share/man/man1/" + name, mode: 0o644})
	}
	completions := map[string]string{
		"bash": "/usr/share/bash-completion/completions/cairn",
		"zsh":  "/usr/share/zsh/vendor-completions/_cairn",
		"fish": "/usr/share/fish/vendor_completions.d/cairn.fish",
	}
	for shell, dst := range completions {
		out, err := b.output(b.work, nil, gen, "completion", shell)
		if err != nil {
			return nil, err
		}
		src := filepath.Join(share, "completion."+shell)
		if err := os.WriteFile(src, out, 0o644); err != nil {
			return nil, err
		}
		cs = append(cs, content{src: src, dst: dst, mode: 0o644})
	}
	slices.SortFunc(cs, func(x, y content) int { return strings.Compare(x.dst, y.dst) })
	return cs, nil
}
