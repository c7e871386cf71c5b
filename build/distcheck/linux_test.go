//go:build distcheck

package distcheck

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// packageFiles returns the README's list of what the packages install.
func packageFiles(t *testing.T) []string {
	return readmeBlock(t, "The .deb and .rpm install")
}

func TestRPMListsWhatTheREADMESays(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			rpm := filepath.Join(*distDir, artifact("linux", arch, "rpm"))
			out := run(t, "rpm", "-qpl", rpm)
			matchesExactly(t, "the rpm", strings.Fields(out), packageFiles(t))
			// The second build runs on this machine too, so it cannot see
			// a host name leaking in: look for it.
			if host := run(t, "rpm", "-qp", "--qf", "%{BUILDHOST}", rpm); host != "cairn-dist" {
				t.Errorf("rpm build host %q, want the fixed cairn-dist", host)
			}
		})
	}
}

func TestDebListsWhatTheREADMESays(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			out := run(t, "dpkg-deb", "--contents", filepath.Join(*distDir, artifact("linux", arch, "deb")))
			var files []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				f := strings.Fields(l)
				name := strings.TrimPrefix(f[len(f)-1], ".")
				if !strings.HasPrefix(f[0], "d") {
					files = append(files, name)
				}
			}
			// The lintian override and the Debian changelog are the .deb's own.
			want := append(packageFiles(t), "/usr/share/lintian/overrides/cairn", "/usr/share/doc/cairn/changelog.Debian.gz")
			matchesExactly(t, "the deb", files, want)
			for _, f := range files {
				if strings.HasPrefix(f, "/etc/xdg/autostart") {
					t.Errorf("the deb installs %s: start at login is each user's choice", f)
				}
			}
		})
	}
}

// TestDebInstallsIntoAThrowawayRoot installs each .deb with dpkg --root,
// runs this machine's cairn from there, and removes it again, leaving
// nothing but dpkg's own database behind.
func TestDebInstallsIntoAThrowawayRoot(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			dpkg := []string{"--root=" + root, "--log=/dev/null", "--force-not-root"}
			if arch != runtime.GOARCH {
				dpkg = append(dpkg, "--force-architecture")
			}
			run(t, "dpkg", append(dpkg, "--install", filepath.Join(*distDir, artifact("linux", arch, "deb")))...)
			if arch == runtime.GOARCH {
				out, err := exec.Command(filepath.Join(root, "usr/bin/cairn"), "--version").CombinedOutput()
				if err != nil || string(out) != "cairn "+*version+"\n" {
					t.Errorf("installed cairn --version: %q (%v)", out, err)
				}
			}
			if st := run(t, "dpkg-query", "--root="+root, "-W", "-f=${Status} ${Version}", "cairn"); !strings.HasPrefix(st, "install ok installed") {
				t.Errorf("dpkg-query: %q", st)
			}
			run(t, "dpkg", append(dpkg, "--purge", "cairn")...)
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				if !d.IsDir() && !strings.HasPrefix(rel, "var/lib/dpkg/") {
					t.Errorf("left behind after purge: /%s", rel)
				}
				return nil
			})
		})
	}
}

// TestLintian runs lintian on each .deb: no error or warning survives but
// the documented override for the static Go binaries.
func TestLintian(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel() // lintian takes a core for half a minute
			cmd := exec.Command("lintian", "--fail-on", "error,warning", "--display-info", filepath.Join(*distDir, artifact("linux", arch, "deb")))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("lintian: %v\n%s", err, out)
			}
			// An override that no longer matches anything is a warning too,
			// so the override stays exactly what the binaries need.
			if strings.Contains(string(out), "unused-override") {
				t.Errorf("lintian: %s", out)
			}
		})
	}
}

func TestDesktopEntry(t *testing.T) {
	dir := t.TempDir()
	run(t, "dpkg-deb", "-x", filepath.Join(*distDir, artifact("linux", runtime.GOARCH, "deb")), dir)
	desktop := filepath.Join(dir, "usr/share/applications/cairn-tray.desktop")
	run(t, "desktop-file-validate", desktop)
	data, err := os.ReadFile(desktop)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Icon=cairn", "TryExec=cairn-tray", "Exec=cairn-tray"} {
		if !slices.Contains(strings.Split(string(data), "\n"), line) {
			t.Errorf("the desktop entry has no line %q", line)
		}
	}
	// Icon=cairn resolves through the hicolor theme: one PNG per size.
	sizes, _ := filepath.Glob(filepath.Join(dir, "usr/share/icons/hicolor/*/apps/cairn.png"))
	if len(sizes) < 9 {
		t.Errorf("%d hicolor sizes installed, want 16 to 512 (9)", len(sizes))
	}
}

// TestManPages: cairn's pages come from its cobra tree; cairn-tray's page
// is written by hand, so it must name every flag the program takes.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	run(t, "dpkg-deb", "-x", filepath.Join(*distDir, artifact("linux", runtime.GOARCH, "deb")), dir)
	man := filepath.Join(dir, "usr/share/man/man1")
	render := func(page string) string {
		out := run(t, "man", "-l", "-Tutf8", filepath.Join(man, page))
		return regexp.MustCompile(".\x08").ReplaceAllString(out, "") // overstrike bold and underline
	}
	for page, want := range map[string]string{
		"cairn.1.gz":                 "cairn - Cairn: a local memory daemon",
		"cairn-serve.1.gz":           "127.0.0.1:<port>", // help text as written, not eaten as HTML
		"cairn-service-install.1.gz": "cairn-service-install -",
		"cairn-mcp.1.gz":             "cairn-mcp - Serve Cairn's memory to an AI tool", // also /usr/bin/cairn-mcp's page
		"cairn-tray.1.gz":            "cairn-tray - Cairn in the system tray",
	} {
		if out := render(page); !strings.Contains(out, "NAME") || !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("man %s: no NAME section saying %q:\n%s", page, want, out)
		}
	}
	help, _ := exec.Command(filepath.Join(dir, "usr/bin/cairn-tray"), "-h").CombinedOutput()
	page := render("cairn-tray.1.gz")
	flags := regexp.MustCompile(`(?m)^\s+-(\S+)`).FindAllStringSubmatch(string(help), -1)
	if len(flags) < 3 {
		t.Fatalf("cairn-tray -h lists %d flags:\n%s", len(flags), help)
	}
	for _, f := range flags {
		if !strings.Contains(page, "--"+f[1]) {
			t.Errorf("cairn-tray takes -%s, its man page does not say so", f[1])
		}
	}
	for _, c := range []string{"usr/share/bash-completion/completions/cairn", "usr/share/zsh/vendor-completions/_cairn", "usr/share/fish/vendor_completions.d/cairn.fish"} {
		data, err := os.ReadFile(filepath.Join(dir, c))
		if err != nil || !strings.Contains(string(data), "cairn") {
			t.Errorf("completion %s: %v", c, err)
		}
	}
}
