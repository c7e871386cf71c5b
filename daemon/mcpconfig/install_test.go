package mcpconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const exe = "/opt/cairn/bin/cairn"

// desktopConfig is a Claude Desktop config as the app writes it: two-space
// indent, another server, keys before and after mcpServers, unicode.
const desktopConfig = `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/home/zoë/Документы"
      ]
    }
  },
  "theme": "dark ☾"
}
`

// decode is data's mcpServers.cairn, failing the test when data is not JSON.
func decodeCairn(t *testing.T, data []byte) (map[string]any, map[string]any) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON after the edit: %v\n%s", err, data)
	}
	servers, _ := v["mcpServers"].(map[string]any)
	c, _ := servers["cairn"].(map[string]any)
	return v, c
}

func wantEntry(t *testing.T, c map[string]any, command string) {
	t.Helper()
	args, _ := c["args"].([]any)
	if c["command"] != command || len(args) != 1 || args[0] != "mcp" {
		t.Errorf("cairn entry %v, want command %s args [mcp]", c, command)
	}
}

// TestInstallRoundTrip: install into a real-looking config keeps every
// other byte, indents the entry like the file, and uninstall gives back the
// original byte for byte; installing twice changes nothing.
func TestInstallRoundTrip(t *testing.T) {
	out, action, _, err := Install([]byte(desktopConfig), exe)
	if err != nil || action != Installed {
		t.Fatalf("install: %v %v", action, err)
	}
	want := strings.Replace(desktopConfig, "      ]\n    }\n  },", `      ]
    },
    "cairn": {
      "command": "/opt/cairn/bin/cairn",
      "args": [
        "mcp"
      ]
    }
  },`, 1)
	if string(out) != want {
		t.Errorf("installed:\n%s\nwant:\n%s", out, want)
	}
	v, c := decodeCairn(t, out)
	wantEntry(t, c, exe)
	if v["globalShortcut"] != "Ctrl+Space" || v["theme"] != "dark ☾" || v["mcpServers"].(map[string]any)["filesystem"] == nil {
		t.Errorf("other keys lost: %v", v)
	}

	again, action, _, err := Install(out, exe)
	if err != nil || action != AlreadyInstalled || string(again) != string(out) {
		t.Errorf("second install: %v %v, changed %v", action, err, string(again) != string(out))
	}

	back, action, err := Uninstall(out)
	if err != nil || action != Removed || string(back) != desktopConfig {
		t.Errorf("uninstall: %v %v:\n%s\nwant the original:\n%s", action, err, back, desktopConfig)
	}
	if _, action, err := Uninstall(back); err != nil || action != NotInstalled {
		t.Errorf("second uninstall: %v %v", action, err)
	}
}

// TestInstallShapes: every shape of file Install meets, and what it makes
// of it.
func TestInstallShapes(t *testing.T) {
	cases := []struct {
		name, in, want string
		action         Action
	}{
		{"empty file", "", "{\n  \"mcpServers\": {\n    \"cairn\": {\n      \"command\": \"" + exe + "\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}\n", Installed},
		{"blank file", " \n", "{\n  \"mcpServers\": {\n    \"cairn\": {\n      \"command\": \"" + exe + "\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}\n", Installed},
		{"empty object", "{}", "{\n  \"mcpServers\": {\n    \"cairn\": {\n      \"command\": \"" + exe + "\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}", Installed},
		{"no mcpServers, tab indent", "{\n\t\"globalShortcut\": \"\"\n}\n", "{\n\t\"globalShortcut\": \"\",\n\t\"mcpServers\": {\n\t\t\"cairn\": {\n\t\t\t\"command\": \"" + exe + "\",\n\t\t\t\"args\": [\n\t\t\t\t\"mcp\"\n\t\t\t]\n\t\t}\n\t}\n}\n", Installed},
		{"empty mcpServers", "{\n  \"mcpServers\": {}\n}\n", "{\n  \"mcpServers\": {\n    \"cairn\": {\n      \"command\": \"" + exe + "\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}\n", Installed},
		{"one line", `{"mcpServers": {"x": {"command": "x"}}}`, `{"mcpServers": {"x": {"command": "x"}, "cairn": {"command": "` + exe + `", "args": ["mcp"]}}}`, Installed},
		{"elsewhere, env kept", "{\n  \"mcpServers\": {\n    \"cairn\": {\n      \"command\": \"/old/cairn\",\n      \"env\": {\"A\": \"b\"},\n      \"args\": [\"mcp\", \"--project\", \"p\"]\n    }\n  }\n}\n",
			"{\n  \"mcpServers\": {\n    \"cairn\": {\n      \"command\": \"" + exe + "\",\n      \"env\": {\"A\": \"b\"},\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}\n", Updated},
		{"entry not an object", `{"mcpServers": {"cairn": "nope"}}`, `{"mcpServers": {"cairn": {"command": "` + exe + `", "args": ["mcp"]}}}`, Updated},
	}
	for _, tc := range cases {
		out, action, _, err := Install([]byte(tc.in), exe)
		if err != nil || action != tc.action || string(out) != tc.want {
			t.Errorf("%s: %v %v:\n%s\nwant %v:\n%s", tc.name, action, err, out, tc.action, tc.want)
			continue
		}
		_, c := decodeCairn(t, out)
		wantEntry(t, c, exe)
		if again, action, _, _ := Install(out, exe); action != AlreadyInstalled || string(again) != string(out) {
			t.Errorf("%s: second install %v", tc.name, action)
		}
	}
	if _, _, prev, _ := Install([]byte(cases[6].in), exe); prev != "/old/cairn" {
		t.Errorf("previous command %q, want /old/cairn", prev)
	}

	// Uninstall from the first of two, the only one, and a one-line file.
	for in, want := range map[string]string{
		"{\n  \"mcpServers\": {\n    \"cairn\": {\"command\": \"c\"},\n    \"other\": {}\n  }\n}": "{\n  \"mcpServers\": {\n    \"other\": {}\n  }\n}",
		"{\n  \"mcpServers\": {\n    \"cairn\": {\"command\": \"c\"}\n  }\n}":                     "{\n  \"mcpServers\": {}\n}",
		`{"a": 1, "mcpServers": {"o": {}, "cairn": {}}, "b": 2}`:                                  `{"a": 1, "mcpServers": {"o": {}}, "b": 2}`,
		`{"mcpServers": {"cairn": {}, "cairn": {}}}`:                                              `{"mcpServers": {}}`,
	} {
		if out, action, err := Uninstall([]byte(in)); err != nil || action != Removed || string(out) != want {
			t.Errorf("uninstall %q: %v %v %q, want %q", in, action, err, out, want)
		}
	}
}

// TestInstallRefuses: what is not a JSON object (or has a mcpServers that is
// not one) is refused with an error that says why and where.
func TestInstallRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"{\n  // my servers\n  \"mcpServers\": {}\n}": "line 2, column 3",
		`{"mcpServers": {},}`:                         "not valid JSON",
		`[{"mcpServers": {}}]`:                        "top-level value is an array",
		`"text"`:                                      "top-level value is a string",
		`{"mcpServers": []}`:                          `"mcpServers" is an array, not an object`,
		`{"mcpServers": null}`:                        `"mcpServers" is null`,
	} {
		if _, _, _, err := Install([]byte(in), exe); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("install %q: %v, want an error naming %q", in, err, want)
		}
		if _, _, err := Uninstall([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("uninstall %q: %v, want an error naming %q", in, err, want)
		}
	}
}

// TestInstallFile: a missing file is created 0600 in a new 0700 folder;
// the next edit keeps a .bak of what was there; a refused file is left
// untouched and gets no backup; the file's mode is kept.
func TestInstallFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Claude", "claude_desktop_config.json")
	c, err := InstallFile(path, exe)
	if err != nil || c.Action != Installed || !c.Created || c.Backup != "" {
		t.Fatalf("install into a missing file: %+v %v", c, err)
	}
	first, _ := os.ReadFile(path)
	perm(t, path, 0o600)
	perm(t, filepath.Dir(path), 0o700)
	if _, err := os.Stat(path + ".bak"); err == nil {
		t.Error("a backup of a file that did not exist")
	}

	c, err = InstallFile(path, exe)
	if err != nil || c.Action != AlreadyInstalled {
		t.Errorf("again: %+v %v", c, err)
	}
	if _, err := os.Stat(path + ".bak"); err == nil {
		t.Error("a no-op install wrote a backup")
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	c, err = InstallFile(path, "/new/cairn")
	if err != nil || c.Action != Updated || c.Previous != exe || c.Backup != path+".bak" {
		t.Fatalf("update: %+v %v", c, err)
	}
	if bak, _ := os.ReadFile(path + ".bak"); string(bak) != string(first) {
		t.Errorf(".bak holds %q, want the previous %q", bak, first)
	}
	perm(t, path+".bak", 0o600)
	perm(t, path, 0o640)

	c, err = UninstallFile(path)
	if err != nil || c.Action != Removed {
		t.Fatalf("uninstall: %+v %v", c, err)
	}
	if data, _ := os.ReadFile(path); string(data) != "{\n  \"mcpServers\": {}\n}\n" {
		t.Errorf("after uninstall: %q", data)
	}
	if c, err := UninstallFile(filepath.Join(t.TempDir(), "none.json")); err != nil || c.Action != NotInstalled {
		t.Errorf("uninstall from a missing file: %+v %v", c, err)
	}

	bad := filepath.Join(t.TempDir(), "mcp.json")
	orig := "{\n  // comment\n  \"mcpServers\": {}\n}\n"
	os.WriteFile(bad, []byte(orig), 0o600)
	for _, f := range []func() (Change, error){
		func() (Change, error) { return InstallFile(bad, exe) },
		func() (Change, error) { return UninstallFile(bad) },
	} {
		if _, err := f(); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "left as it is") {
			t.Errorf("commented file: %v, want an error naming %s", err, bad)
		}
	}
	if data, _ := os.ReadFile(bad); string(data) != orig {
		t.Errorf("a refused file changed: %q", data)
	}
	if _, err := os.Stat(bad + ".bak"); err == nil {
		t.Error("a refused file got a backup")
	}
}

// TestConfigPath: Cursor's file under the home folder on every OS, Claude
// Desktop's under the user config folder; another client is refused.
func TestConfigPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	t.Setenv("APPDATA", filepath.Join(home, "AppData", "Roaming"))
	if p, err := ConfigPath("cursor"); err != nil || p != filepath.Join(home, ".cursor", "mcp.json") {
		t.Errorf("cursor: %s %v", p, err)
	}
	want := map[string]string{
		"linux":   filepath.Join(home, "xdg"),
		"darwin":  filepath.Join(home, "Library", "Application Support"),
		"windows": filepath.Join(home, "AppData", "Roaming"),
	}[runtime.GOOS]
	if p, err := ConfigPath("claude-desktop"); err != nil || p != filepath.Join(want, "Claude", "claude_desktop_config.json") {
		t.Errorf("claude-desktop: %s %v", p, err)
	}
	if _, err := ConfigPath("vscode"); err == nil || !strings.Contains(err.Error(), "claude-desktop, cursor") || !strings.Contains(err.Error(), "cairn mcp config") {
		t.Errorf("vscode: %v", err)
	}
}

func perm(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // no POSIX modes
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}
