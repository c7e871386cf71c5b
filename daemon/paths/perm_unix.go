//go:build !windows

package paths

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// checkDataDir is CheckDataDir on Unix. It follows symlinks in dataDir (a
// CAIRN_HOME that is a link to a folder of ours is fine) and checks the
// folder they lead to and every folder above it.
func checkDataDir(dataDir string) error {
	// The links on the way are checked where they are: the checks below
	// follow them to the folder they lead to, but every open goes through
	// dataDir itself, so whoever can re-point a link on the way could
	// point Cairn elsewhere after it looked.
	if err := checkLinksOnTheWay(dataDir); err != nil {
		return err
	}
	dir, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	me := os.Geteuid()
	bad := func(problem, fix string) error {
		return &DirError{DataDir: dataDir, Problem: problem, Fix: fix}
	}
	if !fi.IsDir() {
		return bad("is not a folder", "point CAIRN_HOME at a folder of your own")
	}
	if uid := owner(fi); uid != me {
		return bad(fmt.Sprintf("is owned by %s, not by you (%s), so they could read or replace Cairn's files", userName(uid), userName(me)),
			fmt.Sprintf("chown %s %s, or point CAIRN_HOME at a folder of your own", userName(me), Quote(dir)))
	}
	if fi.Mode().Perm()&0o022 != 0 {
		fix := "chmod 700 " + Quote(dir)
		if fi.Mode()&fs.ModeSticky != 0 {
			// A sticky, writable folder is a shared one like /tmp: taking it
			// private would break everyone else who uses it.
			fix = fmt.Sprintf("it looks shared, so point CAIRN_HOME at a new folder inside it (e.g. %s) or elsewhere", Quote(filepath.Join(dir, "cairn-"+userName(me))))
		}
		return bad(fmt.Sprintf("can be written by group or others (mode %v), so they could plant files in it", fi.Mode()), fix)
	}
	if err := checkAbove(dataDir, filepath.Dir(dir)); err != nil {
		return err
	}
	// Root passes the mode bits, but not a read-only mount; access(2) asks
	// the kernel the very question.
	if err := syscall.Access(dir, 0o2|0o1); err != nil {
		return bad(fmt.Sprintf("is not writable by you (%v)", err), "chmod u+rwx "+Quote(dir)+", or point CAIRN_HOME at a writable folder")
	}
	return nil
}

// checkAbove checks dir and every folder above it as folders above the
// data dir: each owned by root or us, and not writable by group or others
// unless it has the sticky bit.
func checkAbove(dataDir, dir string) error {
	me := os.Geteuid()
	bad := func(problem, fix string) error {
		return &DirError{DataDir: dataDir, Problem: problem, Fix: fix}
	}
	for d := dir; ; d = filepath.Dir(d) {
		pfi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if uid := owner(pfi); uid != 0 && uid != me {
			return bad(fmt.Sprintf("is inside %s, which is owned by %s, who could replace it", d, userName(uid)),
				"point CAIRN_HOME at a folder outside "+Quote(d))
		}
		if pfi.Mode().Perm()&0o022 != 0 && pfi.Mode()&fs.ModeSticky == 0 {
			return bad(fmt.Sprintf("is inside %s, which group or others can write (mode %v), so they could replace it", d, pfi.Mode()),
				"chmod go-w "+Quote(d)+", or point CAIRN_HOME at a folder outside it")
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// checkBeforeCreate checks, for a data dir that does not exist yet, the
// folders it would be made in, before any is: the nearest that exists
// and those above it.
func checkBeforeCreate(dataDir string) error {
	d := filepath.Clean(dataDir)
	for {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			return nil // left to the mkdir, which says what is wrong
		}
		d = filepath.Dir(d)
	}
	if d == filepath.Clean(dataDir) {
		return nil // it exists: CheckDataDir checks it whole
	}
	resolved, err := filepath.EvalSymlinks(d)
	if err != nil {
		return nil
	}
	return checkAbove(dataDir, resolved)
}

// checkOwnDir checks a folder inside the data dir (logs/): a real folder,
// not a symlink, ours, and not writable by group or others.
func checkOwnDir(dir, dataDir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	bad := func(problem, fix string) error {
		return &DirError{DataDir: dataDir, Problem: fmt.Sprintf("holds %s, which %s", dir, problem), Fix: fix}
	}
	switch {
	case !fi.IsDir():
		return bad("is not a folder (a symlink or a file)", "rm "+Quote(dir)+"   (Cairn recreates it)")
	case owner(fi) != os.Geteuid():
		return bad("is owned by "+userName(owner(fi)), fmt.Sprintf("chown -R %s %s", userName(os.Geteuid()), Quote(dir)))
	case fi.Mode().Perm()&0o022 != 0:
		return bad(fmt.Sprintf("group or others can write (mode %v)", fi.Mode()), "chmod 700 "+Quote(dir))
	}
	return nil
}

// private reports whether group and others cannot read or enter dir.
func private(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.Mode().Perm()&0o077 == 0
}

func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// userName is the login name of uid for messages and chown commands; the
// number when the name cannot be found (chown accepts both).
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// checkLinksOnTheWay refuses a symlink among dataDir's components that
// someone else could replace or re-point: one owned by neither root nor
// us, or one in a folder that group or others can write without the
// sticky bit (where anyone may rename it away).
func checkLinksOnTheWay(dataDir string) error {
	me := os.Geteuid()
	path := "/"
	for _, part := range strings.Split(filepath.Clean(dataDir), "/") {
		if part == "" {
			continue
		}
		parent := path
		path = filepath.Join(path, part)
		fi, err := os.Lstat(path)
		if err != nil {
			return nil // a missing part is created by us, or refused below
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		bad := func(problem string) error {
			return &DirError{DataDir: dataDir, Problem: problem,
				Fix: fmt.Sprintf("point CAIRN_HOME at the folder itself (%s), not through the link", Quote(resolvedOr(dataDir)))}
		}
		if uid := owner(fi); uid != 0 && uid != me {
			return bad(fmt.Sprintf("goes through the symlink %s, owned by %s, who could point it elsewhere", path, userName(uid)))
		}
		if pfi, err := os.Stat(parent); err == nil && pfi.Mode().Perm()&0o022 != 0 && pfi.Mode()&fs.ModeSticky == 0 {
			return bad(fmt.Sprintf("goes through the symlink %s, in %s, which group or others can write (mode %v), so they could replace it", path, parent, pfi.Mode()))
		}
	}
	return nil
}

func resolvedOr(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
