package outpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Resolve on Windows lets the system resolve links: making one takes a
// privilege ordinary users lack, there are no pipes in the file system to
// plant, and a folder's ACL, not an owner bit, says who may change it.
func Resolve(name string) (Target, error) {
	if name == "" {
		return Target{}, errors.New("no file name given")
	}
	fi, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if li, lerr := os.Lstat(name); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			to, _ := os.Readlink(name)
			return Target{}, fmt.Errorf("it is a link to %s, which does not exist", to)
		}
		if di, err := os.Stat(filepath.Dir(name)); err != nil || !di.IsDir() {
			return Target{}, fmt.Errorf("the folder %s does not exist", filepath.Dir(name))
		}
		return Target{Kind: New, Path: name}, nil
	case err != nil:
		return Target{}, err
	case fi.IsDir():
		return Target{}, errors.New("it is a folder; give the name of a file in it")
	case fi.Mode().IsRegular():
		path, err := filepath.EvalSymlinks(name)
		if err != nil {
			return Target{}, err
		}
		return Target{Kind: File, Path: path}, nil
	}
	return Target{Kind: Stream, Path: name, seen: fi}, nil
}

func dupDescriptor(fd int) (*os.File, error) {
	return nil, fmt.Errorf("descriptor %d: Windows names none", fd)
}

func openStream(t Target) (*os.File, error) {
	return os.OpenFile(t.Path, os.O_WRONLY, 0)
}
