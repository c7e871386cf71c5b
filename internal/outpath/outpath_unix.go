//go:build !windows

package outpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// maxLinks bounds the links followed for one name, as the kernel's 40.
const maxLinks = 40

// Resolve walks name one part at a time, as the kernel would, reading
// each link rather than letting a later open follow it: every link on
// the way, and every folder looked into, must belong to this user or to
// root, so that nothing another user controls decides where the write
// lands, and nobody else can swap a part between this walk and the
// write. ".." goes up from where the walk has got to, links resolved, as
// the kernel's does (never textually: link/.. is the link target's
// parent).
func Resolve(name string) (Target, error) {
	if name == "" {
		return Target{}, errors.New("no file name given")
	}
	if strings.HasSuffix(name, "/") {
		return Target{}, errors.New("it ends in /, so it names a folder; give the name of a file")
	}
	path := name
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err == nil {
			// Getwd may answer $PWD, links and all.
			wd, err = filepath.EvalSymlinks(wd)
		}
		if err != nil {
			return Target{}, fmt.Errorf("cannot tell the current folder: %w", err)
		}
		path = wd + "/" + path
	}
	cur := "/"
	curInfo, err := os.Lstat(cur)
	if err != nil {
		return Target{}, err
	}
	rest := strings.Split(path, "/")
	lastFromLink := "" // the target of the link that named the last part, if one did
	for links := 0; len(rest) > 0; {
		part := rest[0]
		rest = rest[1:]
		last := len(rest) == 0
		switch part {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			if curInfo, err = os.Lstat(cur); err != nil {
				return Target{}, err
			}
			continue
		}
		if last && isDescriptorFolder(cur) {
			if fd, err := strconv.Atoi(part); err == nil && fd >= 0 {
				return Target{Kind: Descriptor, FD: fd}, nil
			}
		}
		if err := checkFolder(cur, curInfo); err != nil {
			return Target{}, err
		}
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist) && lastFromLink != "":
			return Target{}, fmt.Errorf("it is a link to %s, which does not exist", lastFromLink)
		case errors.Is(err, fs.ErrNotExist) && last:
			return Target{Kind: New, Path: next}, nil
		case errors.Is(err, fs.ErrNotExist):
			// The whole folder the file was to go in, not its first
			// missing part: that is the one to make.
			folder := filepath.Join(append([]string{next}, rest[:len(rest)-1]...)...)
			return Target{}, fmt.Errorf("the folder %s does not exist", folder)
		case err != nil:
			return Target{}, err
		case fi.Mode()&fs.ModeSymlink != 0:
			if byOtherUser(fi) {
				return Target{}, fmt.Errorf("%s is a link another user made; remove it, or give another name", next)
			}
			if links++; links > maxLinks {
				return Target{}, errors.New("it goes through too many links")
			}
			to, err := os.Readlink(next)
			if err != nil {
				return Target{}, err
			}
			if last {
				lastFromLink = to
			}
			if filepath.IsAbs(to) {
				cur = "/"
				if curInfo, err = os.Lstat(cur); err != nil {
					return Target{}, err
				}
			}
			rest = append(strings.Split(to, "/"), rest...)
		case fi.IsDir():
			cur, curInfo = next, fi
		case !last:
			return Target{}, fmt.Errorf("%s is not a folder", next)
		case fi.Mode().IsRegular():
			return Target{Kind: File, Path: next}, nil
		case byOtherUser(fi):
			return Target{}, fmt.Errorf("%s is a pipe or device another user made, who could read what is written into it; remove it, or give another name", next)
		default:
			return Target{Kind: Stream, Path: next, seen: fi}, nil
		}
	}
	// The last part was a folder (or "." or ".." after one).
	return Target{}, errors.New("it is a folder; give the name of a file in it")
}

// checkFolder refuses a folder another user could change: theirs, or one
// everybody may write without the sticky bit that keeps them from
// renaming or removing what others put there (/tmp has it).
func checkFolder(path string, fi os.FileInfo) error {
	if byOtherUser(fi) {
		return fmt.Errorf("the folder %s belongs to another user, who could swap what is in it; give a name in a folder of yours", path)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("every user may change what is in the folder %s; give a name in a folder of yours", path)
	}
	return nil
}

// isDescriptorFolder: path, links resolved, lists this process's open
// descriptors: /dev/fd on macOS and the BSDs; on Linux /dev/fd and
// /proc/self/fd lead to /proc/PID/fd (or a thread's, under task/).
// Opening an entry there opens the descriptor's file anew (on Linux:
// a file from the start, never appending); the write goes to the
// descriptor itself instead, as the shell set it up.
func isDescriptorFolder(path string) bool {
	if path == "/dev/fd" {
		return true
	}
	proc := "/proc/" + strconv.Itoa(os.Getpid()) + "/"
	return strings.HasPrefix(path, proc) && filepath.Base(path) == "fd"
}

// byOtherUser: fi belongs to neither this user nor root.
func byOtherUser(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid != uint32(os.Getuid()) && st.Uid != 0
}

func dupDescriptor(fd int) (*os.File, error) {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("descriptor %d is not open: %w", fd, err)
	}
	syscall.CloseOnExec(dup)
	return os.NewFile(uintptr(dup), "/dev/fd/"+strconv.Itoa(fd)), nil
}

// openStream opens t.Path without following a link (Resolve read them
// all) and checks that the descriptor is the file Resolve found, which
// another user cannot have made.
func openStream(t Target) (*os.File, error) {
	f, err := os.OpenFile(t.Path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && (!os.SameFile(fi, t.seen) || fi.Mode().Type() != t.seen.Mode().Type()) {
		err = fmt.Errorf("%s changed while it was being opened; try again", t.Path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
