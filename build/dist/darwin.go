package main

import (
	"bytes"
	"debug/macho"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"howett.net/plist"
)

// BundleID is the tray's bundle identifier, the same label as its login
// item (tray/loginitem), so macOS sees one app.
const BundleID = "com.cairnlabs.cairn-tray"

// minimumMacOS is the oldest macOS that Go 1.26 binaries run on.
const minimumMacOS = "12.0"

// infoPlist is Cairn.app's Info.plist. LSUIElement keeps the tray out of
// the Dock and the app switcher: it lives in the menu bar only.
func (b *builder) infoPlist() ([]byte, error) {
	info := map[string]any{
		"CFBundleDevelopmentRegion":     "en",
		"CFBundleDisplayName":           "Cairn",
		"CFBundleExecutable":            "cairn-tray",
		"CFBundleIconFile":              "cairn.icns",
		"CFBundleIdentifier":            BundleID,
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleName":                  "Cairn",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    numeric(b.version),
		"CFBundleVersion":               b.version,
		"LSMinimumSystemVersion":        minimumMacOS,
		"LSUIElement":                   true,
		"NSHighResolutionCapable":       true,
	}
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(info); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// appDir is where the app bundle is assembled; it is not an artifact of
// the Linux build (it has no tray until make dist-darwin adds one).
func (b *builder) appDir() string { return filepath.Join(b.out, "darwin", "Cairn.app") }

// darwinSkeleton writes Cairn.app without its tray: Info.plist, the icon
// and Contents/MacOS/cairn and cairn-mcp, universal when llvm-lipo is
// installed (else each as -amd64 and -arm64 side by side, a skeleton only:
// make dist-darwin, which ships, always joins them). The darwin build of
// cmd/cairn-tray made here without cgo is only the headless stub, so it is
// never put into the bundle: make dist-darwin builds the real one on a Mac.
func (b *builder) darwinSkeleton() error {
	contents := filepath.Join(b.appDir(), "Contents")
	for _, d := range []string{"MacOS", "Resources"} {
		if err := os.MkdirAll(filepath.Join(contents, d), 0o755); err != nil {
			return err
		}
	}
	info, err := b.infoPlist()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(contents, "Info.plist"), info, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(contents, "PkgInfo"), []byte("APPL????"), 0o644); err != nil {
		return err
	}
	icns, err := os.ReadFile(filepath.Join(b.root, "build", "icons", "cairn.icns"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(contents, "Resources", "cairn.icns"), icns, 0o644); err != nil {
		return err
	}
	macos := filepath.Join(contents, "MacOS")
	lipo := findLipo()
	for _, name := range (platform{os: "darwin"}).commands() {
		amd, arm := b.bin(platform{"darwin", "amd64"}, name), b.bin(platform{"darwin", "arm64"}, name)
		if lipo != "" {
			if err := b.run(b.root, nil, lipo, "-create", "-output", filepath.Join(macos, name), amd, arm); err != nil {
				return err
			}
			continue
		}
		for arch, src := range map[string]string{"amd64": amd, "arm64": arm} {
			if err := copyFile(src, filepath.Join(macos, name+"-"+arch), 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// findLipo returns lipo (on a Mac) or LLVM's llvm-lipo, or "" if neither
// is installed.
func findLipo() string {
	names := []string{"lipo", "llvm-lipo"}
	if runtime.GOOS != "darwin" {
		names = names[1:]
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	for _, pattern := range []string{"/usr/bin/llvm-lipo-*", "/usr/lib/llvm-*/bin/llvm-lipo"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return ""
}

// darwinApp is make dist-darwin, on a Mac: it builds the cgo tray for both
// architectures, joins each command into one universal binary and
// completes Cairn.app in dist/darwin. Signing and notarising follow by
// hand (see the Makefile's dist-darwin target).
func (b *builder) darwinApp() error {
	if runtime.GOOS != "darwin" {
		return errors.New("make dist-darwin builds the menu-bar tray, which needs cgo and the macOS SDK: run it on a Mac")
	}
	work, err := os.MkdirTemp("", "cairn-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b.work = work
	if err := os.MkdirAll(b.out, 0o755); err != nil {
		return err
	}
	for _, arch := range []string{"amd64", "arm64"} {
		p := platform{"darwin", arch}
		for _, name := range p.commands() {
			if err := b.goBuild(p, "./cmd/"+name, b.bin(p, name), ""); err != nil {
				return err
			}
		}
		args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", b.ldflags(), "-o", b.bin(p, "cairn-tray"), "./cmd/cairn-tray"}
		env := []string{"CGO_ENABLED=1", "GOOS=darwin", "GOARCH=" + arch, "GOFLAGS=-mod=readonly", "MACOSX_DEPLOYMENT_TARGET=" + minimumMacOS}
		if err := b.run(b.root, env, b.goBin(), args...); err != nil {
			return fmt.Errorf("building the macOS tray for %s: %w", arch, err)
		}
	}
	if err := b.darwinSkeleton(); err != nil {
		return err
	}
	tray := filepath.Join(b.appDir(), "Contents", "MacOS", "cairn-tray")
	if err := b.run(b.root, nil, "lipo", "-create", "-output", tray,
		b.bin(platform{"darwin", "amd64"}, "cairn-tray"), b.bin(platform{"darwin", "arm64"}, "cairn-tray")); err != nil {
		return err
	}
	f, err := macho.OpenFat(tray)
	if err != nil {
		return fmt.Errorf("%s is not a universal binary: %w", tray, err)
	}
	f.Close()
	fmt.Fprintf(b.log, "dist: %s is complete; sign and notarise it next (make dist-darwin prints how)\n", b.appDir())
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}
