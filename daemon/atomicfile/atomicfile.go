// Package atomicfile writes small files so that a reader sees either the old
// content or the new, never a torn or empty file, and the new content
// survives a power cut once Write returns.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Write replaces path with data: temp file in the same dir, write, fsync,
// rename over path, fsync the dir. The file gets mode perm.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPattern(filepath.Base(path)))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil && !isUnsupported(err) {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(dir)
}

// tempPattern is the name os.CreateTemp gives Write's temp file for target:
// "." + target + ".tmp" + random digits.
func tempPattern(target string) string { return "." + target + ".tmp*" }

// RemoveStale removes the temp files that a Write killed half-way left in
// dir: those for target, or with target "" every ".*.tmp*". Only regular
// files and symlinks are removed, and a symlink is removed as a link (its
// target is never touched); anything else is left alone, and so is a file
// changed less than olderThan ago. Call it with olderThan 0 only while
// holding whatever lock orders the writers of dir, or it may remove a temp
// file a live Write is about to rename.
func RemoveStale(dir, target string, olderThan time.Duration) error {
	pattern := tempPattern(target)
	if target == "" {
		pattern = ".*.tmp*"
	}
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil {
			continue
		}
		if !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 || time.Since(fi.ModTime()) < olderThan {
			continue
		}
		if err := os.Remove(m); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
