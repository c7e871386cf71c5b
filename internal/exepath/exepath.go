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

// Beside finds Cairn's program name (name.exe on Windows): in the folder of
// the running executable, where every package and archive puts Cairn's
// programs together, or the folder its symlink points into; else on PATH,
// for a binary copied somewhere alone. The path it returns is absolute.
func Beside(name string) (string, error) {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		dirs := []string{filepath.Dir(exe)}
		if real, err := filepath.EvalSymlinks(exe); err == nil && filepath.Dir(real) != dirs[0] {
			dirs = append(dirs, filepath.Dir(real))
		}
		for _, dir := range dirs {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("cannot find %s beside this program or on PATH", name)
		}
		return "", fmt.Errorf("cannot find %s: %w", name, err)
	}
	return filepath.Abs(p)
}
