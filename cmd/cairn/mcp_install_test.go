//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestMCPInstall: the real binary installs itself into a Claude Desktop
// config beside another server, says so, says "already installed" the
// second time without touching the file, and uninstall gives back the
// original byte for byte, keeping the previous file as .bak.
func TestMCPInstall(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	path := filepath.Join(t.TempDir(), "claude_desktop_config.json")
	orig := "{\n  \"globalShortcut\": \"Alt+Space\",\n  \"mcpServers\": {\n    \"weather\": {\n      \"command\": \"uvx\",\n      \"args\": [\n        \"mcp-weather\"\n      ]\n    }\n  }\n}\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		code, out, errOut := cairn(t, env, append(args, "--client", "claude-desktop", "--config", path)...)
		if code != 0 {
			t.Fatalf("cairn %v: exit %d %s%s", args, code, out, errOut)
		}
		return out, errOut
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	out, _ := run("mcp", "install")
	if !strings.Contains(out, "Added cairn to "+path) || !strings.Contains(out, path+".bak") || !strings.Contains(out, "Restart Claude Desktop") {
		t.Errorf("install said: %s", out)
	}
	installed := read(path)
	if !strings.Contains(installed, `"weather"`) || !strings.Contains(installed, "    \"cairn\": {\n      \"command\": \""+cairnBin+"\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}\n") {
		t.Errorf("installed file:\n%s", installed)
	}
	if read(path+".bak") != orig {
		t.Errorf(".bak: %q", read(path+".bak"))
	}

	out, _ = run("mcp", "install")
	if !strings.Contains(out, "already installed in "+path) || read(path) != installed {
		t.Errorf("second install said %q; file changed %v", out, read(path) != installed)
	}

	out, _ = run("mcp", "uninstall")
	if !strings.Contains(out, "Removed mcpServers.cairn from "+path) || read(path) != orig {
		t.Errorf("uninstall said %q, file:\n%s", out, read(path))
	}
	if read(path+".bak") != installed {
		t.Error(".bak does not hold the installed file")
	}
	for _, p := range []string{path, path + ".bak"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", p, fi.Mode(), err)
		}
	}
	out, _ = run("mcp", "uninstall")
	if !strings.Contains(out, "not installed in "+path) || read(path) != orig {
		t.Errorf("second uninstall said %q", out)
	}
}

// TestMCPInstallDefaultPaths: with no --config each client's own file
// under this test's HOME: Claude Desktop's under XDG_CONFIG_HOME, Cursor's
// ~/.cursor/mcp.json, both created 0600 in a 0700 folder.
func TestMCPInstallDefaultPaths(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	for client, path := range map[string]string{
		"claude-desktop": filepath.Join(env.Home, ".config", "Claude", "claude_desktop_config.json"),
		"cursor":         filepath.Join(env.Home, ".cursor", "mcp.json"),
	} {
		code, out, errOut := cairn(t, env, "mcp", "install", "--client", client)
		if code != 0 || !strings.Contains(out, "Created "+path) {
			t.Errorf("%s: exit %d %s%s, want %s created", client, code, out, errOut, path)
			continue
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", path, fi, err)
		}
		if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", filepath.Dir(path), di, err)
		}
		if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"command": "`+cairnBin+`"`) {
			t.Errorf("%s:\n%s", path, b)
		}
		if code, out, _ := cairn(t, env, "mcp", "uninstall", "--client", client); code != 0 || !strings.Contains(out, "Removed mcpServers.cairn from "+path) {
			t.Errorf("%s uninstall: exit %d %s", client, code, out)
		}
	}
}

// TestMCPInstallRefuses: a file with comments and a top-level array are
// refused (exit 1, naming the file and why) and left byte for byte; an
// unknown or missing client is bad usage (exit 2); an entry that runs
// another program is repointed and the output says so.
func TestMCPInstallRefuses(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	dir := t.TempDir()
	for name, c := range map[string]struct{ text, why string }{
		"commented.json": {"{\n  // Cursor servers\n  \"mcpServers\": {}\n}\n", "not valid JSON"},
		"array.json":     {"[]\n", "top-level value is an array"},
		"servers.json":   {`{"mcpServers": ["x"]}`, `"mcpServers" is an array`},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(c.text), 0o644)
		for _, verb := range []string{"install", "uninstall"} {
			code, out, errOut := cairn(t, env, "mcp", verb, "--client", "cursor", "--config", p)
			if code != 1 || !strings.Contains(errOut, p) || !strings.Contains(errOut, c.why) || out != "" {
				t.Errorf("%s %s: exit %d out %q err %q, want 1 naming the file and %q", verb, name, code, out, errOut, c.why)
			}
		}
		if b, _ := os.ReadFile(p); string(b) != c.text {
			t.Errorf("%s changed: %q", name, b)
		}
		if _, err := os.Stat(p + ".bak"); err == nil {
			t.Errorf("%s got a backup", name)
		}
	}
	for _, args := range [][]string{{"--client", "vscode"}, {"--client", "emacs"}, {}} {
		if code, _, errOut := cairn(t, env, append([]string{"mcp", "install"}, args...)...); code != 2 || !strings.Contains(errOut, "claude-desktop, cursor") {
			t.Errorf("install %v: exit %d %s, want 2", args, code, errOut)
		}
	}

	p := filepath.Join(dir, "old.json")
	os.WriteFile(p, []byte(`{"mcpServers": {"cairn": {"command": "/old/cairn", "args": ["mcp"]}}}`), 0o600)
	code, out, errOut := cairn(t, env, "mcp", "install", "--client", "cursor", "--config", p)
	if code != 0 || !strings.Contains(out, "Updated mcpServers.cairn in "+p) || !strings.Contains(out, "/old/cairn") {
		t.Errorf("repoint: exit %d %s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(p); string(b) != `{"mcpServers": {"cairn": {"command": "`+cairnBin+`", "args": ["mcp"]}}}` {
		t.Errorf("repointed file: %s", b)
	}
}
