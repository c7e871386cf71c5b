//go:build !windows

package paths

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// checkDataDir is CheckDataDir on Unix. It follows symlinks in dataDir (a
// CAIRN_HOME that is a link to a folder of ours is fine) and checks the
// folder they lead to and every folder above it.
func checkDataDir(dataDir string) error {
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
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
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
			break
		}
	}
	// Root passes the mode bits, but not a read-only mount; access(2) asks
	// the kernel the very question.
	if err := syscall.Access(dir, 0o2|0o1); err != nil {
		return bad(fmt.Sprintf("is not writable by you (%v)", err), "chmod u+rwx "+Quote(dir)+", or point CAIRN_HOME at a writable folder")
	}
	return nil
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
