//go:build distcheck

package distcheck

import (
	"debug/macho"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/cairnlabs/cairn/tray/loginitem"
)

func appContents() string { return filepath.Join(*distDir, "darwin", "Cairn.app", "Contents") }

func TestInfoPlist(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(appContents(), "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	format, err := plist.Unmarshal(data, &info)
	if err != nil {
		t.Fatal(err)
	}
	if format != plist.XMLFormat {
		t.Errorf("Info.plist format %d, want XML", format)
	}
	core, _, _ := strings.Cut(*version, "-")
	want := map[string]any{
		"CFBundleIdentifier":         loginitem.AgentLabel, // one identity for the app and its login item
		"CFBundleExecutable":         "cairn-tray",
		"CFBundlePackageType":        "APPL",
		"CFBundleIconFile":           "cairn.icns",
		"CFBundleShortVersionString": core,
		"CFBundleVersion":            *version,
		"LSUIElement":                true, // menu bar only: no Dock icon
		"LSMinimumSystemVersion":     "12.0",
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("Info.plist %s = %#v, want %#v", k, info[k], v)
		}
	}
	if _, err := os.Stat(filepath.Join(appContents(), "Resources", "cairn.icns")); err != nil {
		t.Error(err)
	}
}

// TestAppBundleCarriesNoHeadlessTray: the tray a Linux machine can build
// for macOS is the stub without a menu bar; only make dist-darwin, on a
// Mac, puts the real one in.
func TestAppBundleCarriesNoHeadlessTray(t *testing.T) {
	if _, err := os.Stat(filepath.Join(appContents(), "MacOS", "cairn-tray")); !os.IsNotExist(err) {
		t.Errorf("Cairn.app built on Linux has a cairn-tray (%v)", err)
	}
	for _, p := range platforms {
		if p.os != "darwin" {
			continue
		}
		for _, e := range archiveEntries(t, filepath.Join(*distDir, artifact(p.os, p.arch, "tar.gz"))) {
			if strings.HasSuffix(e.name, "/cairn-tray") {
				t.Errorf("%s ships %s", artifact(p.os, p.arch, "tar.gz"), e.name)
			}
		}
	}
}

// TestUniversalCairn: Contents/MacOS/cairn and cairn-mcp each hold both
// architectures (the build joins them with llvm-lipo, which
// scripts/test-deps.sh installs).
func TestUniversalCairn(t *testing.T) {
	for _, name := range []string{"cairn", "cairn-mcp"} {
		f, err := macho.OpenFat(filepath.Join(appContents(), "MacOS", name))
		if err != nil {
			t.Fatalf("Contents/MacOS/%s: %v", name, err)
		}
		got := map[macho.Cpu]bool{}
		for _, a := range f.Arches {
			got[a.Cpu] = true
		}
		if len(f.Arches) != 2 || !got[macho.CpuAmd64] || !got[macho.CpuArm64] {
			t.Errorf("universal %s holds %v, want amd64 and arm64", name, f.Arches)
		}
		f.Close()
	}
}
