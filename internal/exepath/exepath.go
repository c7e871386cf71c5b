// Package exepath holds what the files that start Cairn by path (service
// definitions, login items) need to know about a path: whether the file
// formats can carry it, and whether two paths name the same binary; and
// how one of Cairn's programs finds another (Beside).
package exepath

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckChars refuses what no unit file, plist, desktop entry or registry
// value carries faithfully: bytes that are not UTF-8 and control characters
// such as a newline (they would end a line or be replaced). The error names
// the problem; callers add what to do.
func CheckChars(path string) error {
	if !utf8.ValidString(path) {
		return fmt.Errorf("path %q is not valid UTF-8", path)
	}
	if i := strings.IndexFunc(path, unicode.IsControl); i >= 0 {
		return fmt.Errorf("path %q contains the control character %U", path, []rune(path[i:])[0])
	}
	return nil
}

// Same reports whether a and b name the same file: equal once cleaned, or
// the same file on disk, which covers a package manager's /usr/bin symlink
// to the real binary, hard links and case-insensitive file systems. A path
// that does not exist is the same only as itself.
func Same(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// Beside finds Cairn's program name (name.exe on Windows) where every
// package and archive puts Cairn's programs: in the folder of the running
// executable, resolved through symlinks (a link in a bin folder to an
// install elsewhere finds the install's own), else the folder of the
// link. The path it returns is absolute.
func Beside(name string) (string, error) {
	name = exeName(name)
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find %s: %w", name, err)
	}
	var dirs []string
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		dirs = append(dirs, filepath.Dir(real))
	}
	if d := filepath.Dir(exe); len(dirs) == 0 || d != dirs[0] {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("cannot find %s beside %s", name, exe)
}

// BesideOrOnPath is Beside, then PATH (never a relative entry such as
// "."), for a program copied somewhere alone.
func BesideOrOnPath(name string) (string, error) {
	if p, err := Beside(name); err == nil {
		return p, nil
	}
	p, err := exec.LookPath(exeName(name))
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("cannot find %s beside this program or on PATH", exeName(name))
		}
		return "", fmt.Errorf("cannot find %s: %w", exeName(name), err)
	}
	return filepath.Abs(p)
}

func exeName(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}
