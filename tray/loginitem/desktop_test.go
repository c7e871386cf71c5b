package loginitem

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDesktopFileExecQuoting(t *testing.T) {
	for _, tc := range []struct{ exe, exec string }{
		{"/usr/bin/cairn-tray", `Exec="/usr/bin/cairn-tray"`},
		{"/opt/my apps/cairn-tray", `Exec="/opt/my apps/cairn-tray"`},
		{`/o/a"b/cairn-tray`, `Exec="/o/a\\"b/cairn-tray"`},
		{"/o/a$b/cairn-tray", `Exec="/o/a\\$b/cairn-tray"`},
		{"/o/a`b/cairn-tray", "Exec=\"/o/a\\\\`b/cairn-tray\""},
		{`/o/a\b/cairn-tray`, `Exec="/o/a\\\\b/cairn-tray"`},
		{"/o/100%/cairn-tray", `Exec="/o/100%%/cairn-tray"`},
		{"/o/Zoë/cairn-tray", `Exec="/o/Zoë/cairn-tray"`},
	} {
		text, err := DesktopFile(tc.exe)
		if err != nil {
			t.Fatalf("DesktopFile(%q): %v", tc.exe, err)
		}
		if !slices.Contains(strings.Split(text, "\n"), tc.exec) {
			t.Errorf("DesktopFile(%q):\n%s\nwant the line %s", tc.exe, text, tc.exec)
		}
	}
}

func TestDesktopFileRoundTrip(t *testing.T) {
	for _, name := range oddNames {
		exe := filepath.Join("/home/u", name, "cairn-tray")
		text, err := DesktopFile(exe)
		if err != nil {
			t.Fatalf("DesktopFile(%q): %v", exe, err)
		}
		e, err := parseDesktopFile([]byte(text))
		if err != nil {
			t.Fatalf("parse back %q: %v\n%s", exe, err, text)
		}
		if !slices.Equal(e.Exec, []string{exe}) || e.Hidden {
			t.Errorf("round trip of %q gave %q (hidden %v)\n%s", exe, e.Exec, e.Hidden, text)
		}
		checkWithShell(t, text, exe)
		validateDesktopFile(t, text)
	}
}

// checkWithShell parses the Exec value with /bin/sh, independently of our
// parser: inside double quotes the spec's escapes are exactly the shell's,
// which GLib's g_shell_parse_argv (what GNOME uses) also follows.
func checkWithShell(t *testing.T, text, want string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		v, ok := strings.CutPrefix(line, "Exec=")
		if !ok {
			continue
		}
		v = strings.ReplaceAll(unescapeString(v), "%%", "%")
		out, err := exec.Command("/bin/sh", "-c", `printf '%s' `+v).Output()
		if err != nil {
			t.Fatalf("sh -c printf %s: %v", v, err)
		}
		if string(out) != want {
			t.Errorf("sh parses Exec=%s as %q, want %q", v, out, want)
		}
		return
	}
	t.Fatalf("no Exec line in\n%s", text)
}

// validateDesktopFile runs desktop-file-validate when it is installed
// (scripts/test-deps.sh installs it).
func validateDesktopFile(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		return
	}
	f := filepath.Join(t.TempDir(), DesktopFileName)
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, f).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("desktop-file-validate: %v\n%s\n%s", err, out, text)
	}
}

func TestDesktopFileRefusesWhatItCannotCarry(t *testing.T) {
	for _, exe := range []string{"/a\nb/cairn-tray", "/a\tb/cairn-tray", "/a\x01b/cairn-tray", "/a\xffb/cairn-tray"} {
		if _, err := DesktopFile(exe); err == nil {
			t.Errorf("DesktopFile(%q) was accepted", exe)
		}
	}
}

func TestParseDesktopFileWrittenByOthers(t *testing.T) {
	for _, tc := range []struct {
		text   string
		exec   []string
		hidden bool
	}{
		{"[Desktop Entry]\nExec=/usr/bin/cairn-tray --flag %U\n", []string{"/usr/bin/cairn-tray", "--flag"}, false},
		{"[Desktop Entry]\nExec = \"/a b/cairn-tray\"\nHidden=true\n", []string{"/a b/cairn-tray"}, true},
		{"[Desktop Entry]\nExec=/x/cairn-tray\nX-GNOME-Autostart-enabled=false\n", []string{"/x/cairn-tray"}, true},
		{"[Desktop Entry]\nHidden=true\n", nil, true},
		{"# c\n[Other]\nExec=/wrong\n[Desktop Entry]\nExec=\"/a\\$b\"\n", []string{"/a$b"}, false},
	} {
		e, err := parseDesktopFile([]byte(tc.text))
		if err != nil {
			t.Errorf("parse %q: %v", tc.text, err)
			continue
		}
		if !slices.Equal(e.Exec, tc.exec) || e.Hidden != tc.hidden {
			t.Errorf("parse %q = %q hidden=%v, want %q hidden=%v", tc.text, e.Exec, e.Hidden, tc.exec, tc.hidden)
		}
	}
	for _, bad := range []string{"[Desktop Entry]\nName=x\n", "[Desktop Entry]\nExec=\"/a b\n"} {
		if _, err := parseDesktopFile([]byte(bad)); err == nil {
			t.Errorf("parse %q: no error", bad)
		}
	}
}

// xdgEnv gives the test its own HOME and XDG config dirs.
func xdgEnv(t *testing.T) (userDir, systemDir string) {
	t.Helper()
	root := t.TempDir()
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "home", "cfg"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(root, "etc-xdg"))
	return filepath.Join(root, "home", "cfg", "autostart"), filepath.Join(root, "etc-xdg", "autostart")
}

func TestXDGAutostartLifecycle(t *testing.T) {
	userDir, _ := xdgEnv(t)
	x, err := newXDGAutostart()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(userDir, DesktopFileName)
	exe := fakeExe(t, "Cairn Tray ü")

	s, err := status(x, exe)
	if err != nil || s.Enabled || s.Exe != "" || s.Location != file {
		t.Fatalf("fresh: %+v, %v", s, err)
	}
	if err := enable(x, exe); err != nil {
		t.Fatal(err)
	}
	fi1, err := os.Stat(file)
	if err != nil {
		t.Fatalf("enable wrote no file: %v", err)
	}
	if s, _ = status(x, exe); !s.Enabled || !s.Current || s.Exe != exe {
		t.Fatalf("after enable: %+v", s)
	}

	// Enabling twice is a no-op: the file is not even rewritten.
	if err := enable(x, exe); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(file); !os.SameFile(fi1, fi2) {
		t.Error("enabling twice rewrote the file")
	}

	// The binary moved: status says so, enable updates the path.
	moved := fakeExe(t, "moved here")
	if s, _ = status(x, moved); !s.Enabled || s.Current {
		t.Fatalf("moved, before enable: %+v", s)
	}
	if err := enable(x, moved); err != nil {
		t.Fatal(err)
	}
	if s, _ = status(x, moved); !s.Current || s.Exe != moved {
		t.Fatalf("moved, after enable: %+v", s)
	}
	if s, _ = status(x, moved); s.Broken != "" || s.Fix() != "" {
		t.Fatalf("a working entry reads as broken: %+v", s)
	}
	os.Remove(moved)
	if s, _ = status(x, ""); s.Current {
		t.Fatalf("the recorded binary is gone, yet current: %+v", s)
	}
	// On, but starting a program that is gone: on-but-broken, with the fix,
	// whichever program asks.
	for _, asker := range []string{"", exe} {
		s, _ = status(x, asker)
		if !s.Enabled || !strings.Contains(s.Broken, moved+", which no longer exists") || !strings.Contains(s.Fix(), "cairn login-item on") {
			t.Fatalf("entry naming a removed binary, asked by %q: %+v (fix %q)", asker, s, s.Fix())
		}
	}

	// The user switches it off in the desktop's settings: off, with a note.
	data, _ := os.ReadFile(file)
	os.WriteFile(file, append(data, "Hidden=true\n"...), 0o644)
	if s, _ = status(x, exe); s.Enabled || s.Note == "" {
		t.Fatalf("Hidden=true: %+v", s)
	}
	if err := enable(x, exe); err != nil { // turning it on clears the switch
		t.Fatal(err)
	}
	if s, _ = status(x, exe); !s.Enabled || !s.Current {
		t.Fatalf("re-enabled: %+v", s)
	}

	if err := x.remove(); err != nil {
		t.Fatal(err)
	}
	if err := x.remove(); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
	if s, _ = status(x, exe); s.Enabled {
		t.Fatalf("after remove: %+v", s)
	}
}

// A package may install the entry system-wide; turning it off must then
// write a user override with Hidden=true, since deleting ours would not do.
func TestXDGAutostartSystemEntry(t *testing.T) {
	userDir, sysDir := xdgEnv(t)
	exe := fakeExe(t, "sys")
	text, _ := DesktopFile(exe)
	os.MkdirAll(sysDir, 0o755)
	os.WriteFile(filepath.Join(sysDir, DesktopFileName), []byte(text), 0o644)

	x, _ := newXDGAutostart()
	s, err := status(x, exe)
	if err != nil || !s.Enabled || s.Location != filepath.Join(sysDir, DesktopFileName) {
		t.Fatalf("system entry: %+v, %v", s, err)
	}
	if err := x.remove(); err != nil {
		t.Fatal(err)
	}
	if s, _ = status(x, exe); s.Enabled || s.Location != filepath.Join(userDir, DesktopFileName) {
		t.Fatalf("after off: %+v", s)
	}
	validateDesktopFile(t, string(must(os.ReadFile(filepath.Join(userDir, DesktopFileName)))))
	if err := enable(x, exe); err != nil {
		t.Fatal(err)
	}
	if s, _ = status(x, exe); !s.Enabled || !s.Current {
		t.Fatalf("back on: %+v", s)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
