// Package paths resolves every file location Cairn uses, so the daemon, the
// CLI and the tray agree on them and tests isolate themselves with nothing
// more than HOME, the XDG_* variables and CAIRN_HOME.
package paths

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/adrg/xdg"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
)

// Paths names the files of one Cairn data dir.
type Paths struct {
	DataDir string // $CAIRN_HOME, else the OS standard data dir + "/cairn"
	Home    string // the user's home; empty when it cannot be found

	Lock        string // exclusive lock held by the daemon for its whole life
	AddrFile    string // discovery file in the data dir
	DotAddrFile string // stable discovery file ~/.cairn/http_addr; empty without a home
	Token       string // control token (0600)
	LogDir      string
	DaemonLog   string // written and rotated by the daemon itself
	DaemonOut   string // the child's raw stdout/stderr, kept by its supervisor
	TrayLog     string
	DaemonDump  string // the daemon's runtime dump, written on SIGUSR1 (internal/rundump)
	TrayDump    string // the tray's
	Store       string
	Config      string // config.json: the user's settings (the tray's "Check for updates")
	UpdateState string // update.json: the update check's cache and what it announced
}

// ErrNoHome is returned when neither CAIRN_HOME nor a home directory is
// available, so there is nowhere sensible to keep data.
var ErrNoHome = errors.New("cannot find a data dir: neither CAIRN_HOME nor HOME is set; set one of them")

// ErrRelativeDataDir is returned when CAIRN_HOME (or the data dir from
// XDG_DATA_HOME) is not an absolute path.
var ErrRelativeDataDir = errors.New("cannot find a data dir: it is a relative path, which would name another folder wherever a command runs")

// ErrRelativeHome is returned when HOME is not an absolute path.
var ErrRelativeHome = errors.New("cannot find a data dir: HOME is a relative path")

// Resolve reads the environment now (not at package init, so tests that
// change it are honoured) and returns the paths.
func Resolve() (Paths, error) {
	home, _ := os.UserHomeDir()
	if home != "" && !filepath.IsAbs(home) {
		// A relative HOME would put the data dir (and the dotfile) under
		// whatever folder the command happens to run in.
		return Paths{}, fmt.Errorf("%w: HOME is %q; set HOME to an absolute path (or CAIRN_HOME to an absolute data dir)", ErrRelativeHome, home)
	}
	dataDir := os.Getenv("CAIRN_HOME")
	if dataDir == "" {
		if home == "" {
			return Paths{}, ErrNoHome
		}
		xdg.Reload()
		dataDir = filepath.Join(xdg.DataHome, "cairn")
	}
	if !filepath.IsAbs(dataDir) {
		// Resolved against the folder each command runs in, one CAIRN_HOME
		// would name a data dir (and a daemon) per folder; and the XDG
		// spec says to ignore a relative XDG_DATA_HOME.
		return Paths{}, fmt.Errorf("%w: %q; set CAIRN_HOME (or XDG_DATA_HOME) to an absolute path, or unset it", ErrRelativeDataDir, dataDir)
	}
	return ForDataDir(dataDir, home), nil
}

// ForDataDir returns the paths for an explicit data dir and home. An empty
// home leaves the stable dotfile out.
func ForDataDir(dataDir, home string) Paths {
	logDir := filepath.Join(dataDir, "logs")
	p := Paths{
		DataDir:   dataDir,
		Home:      home,
		Lock:      filepath.Join(dataDir, "daemon.lock"),
		AddrFile:  filepath.Join(dataDir, "http_addr"),
		Token:     filepath.Join(dataDir, "control.token"),
		LogDir:    logDir,
		DaemonLog: filepath.Join(logDir, "daemon.log"),
		DaemonOut: filepath.Join(logDir, "daemon.out"),
		TrayLog:   filepath.Join(logDir, "tray.log"),

		DaemonDump: filepath.Join(logDir, "daemon-dump.txt"),
		TrayDump:   filepath.Join(logDir, "tray-dump.txt"),
		Store:      filepath.Join(dataDir, "cairn.db"),

		Config:      filepath.Join(dataDir, "config.json"),
		UpdateState: filepath.Join(dataDir, "update.json"),
	}
	if home != "" {
		p.DotAddrFile = filepath.Join(home, ".cairn", "http_addr")
	}
	return p
}

// AddrFiles lists the discovery files that exist for these paths: the data
// dir's, then the stable dotfile when there is a home.
func (p Paths) AddrFiles() []string {
	if p.DotAddrFile == "" {
		return []string{p.AddrFile}
	}
	return []string{p.AddrFile, p.DotAddrFile}
}

// EnsureDataDir creates the data dir and its logs folder and refuses them
// when they are not safe to keep Cairn's files in (CheckDataDir). Every
// missing component is created 0700 by os.Mkdir, one level at a time; an
// existing folder's mode is never changed: it may be a shared folder that
// CAIRN_HOME points at, and chmodding it would break whoever else uses it.
func (p Paths) EnsureDataDir() error {
	// Before anything is made: a link on the way that someone else could
	// re-point would have the mkdirs below follow it into their choice of
	// folder (the full check after them would refuse it, too late).
	if err := checkLinksOnTheWay(p.DataDir); err != nil {
		return err
	}
	// Nor a folder inside one that others can write.
	if err := checkBeforeCreate(p.DataDir); err != nil {
		return err
	}
	if err := mkdirPrivate(p.DataDir); err != nil {
		return fmt.Errorf("create %s: %w", p.DataDir, err)
	}
	if err := p.CheckDataDir(); err != nil {
		return err
	}
	if err := mkdirPrivate(p.LogDir); err != nil {
		return fmt.Errorf("create %s: %w", p.LogDir, err)
	}
	return checkOwnDir(p.LogDir, p.DataDir)
}

// CheckDataDir refuses a data dir that another user could use against us,
// the way ssh's StrictModes refuses a ~/.ssh: it must be a folder owned by
// us (root too: a root daemon refuses a folder of uid 1000), that neither
// group nor others can write, and that we can write; each folder above it
// must be owned by root or us and not writable by group or others unless
// it has the sticky bit (as /tmp has). The error is a *DirError naming the
// fix. On Windows it checks nothing: %LOCALAPPDATA% is private to the user
// through its ACL, and Go's mode bits say nothing about ACLs.
func (p Paths) CheckDataDir() error { return checkDataDir(p.DataDir) }

// DataDirPrivate reports whether only its owner can list the data dir. A
// readable data dir is allowed (every file in it is 0600), and reported by
// doctor.
func (p Paths) DataDirPrivate() bool { return private(p.DataDir) }

// DirError is a data dir Cairn refuses to use: what is wrong, and the
// command that fixes it.
type DirError struct {
	DataDir string
	Problem string // e.g. "can be written by group or others (mode drwxrwxrwt)"
	Fix     string // a command, or what to set
}

func (e *DirError) Error() string {
	return fmt.Sprintf("the data dir %s %s; to fix it: %s", e.DataDir, e.Problem, e.Fix)
}

// UnusableMessage says that the data dir could not be used because of
// err, and what to do: free space when the disk is full, else the
// folder's permissions or another folder.
func UnusableMessage(dataDir string, err error) string {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Sprintf("the data dir %s is unusable: %v. The disk is full: free some space and start again (the memory store is not touched).", dataDir, err)
	}
	return fmt.Sprintf("the data dir %s is unusable: %v. Fix its permissions, or point CAIRN_HOME at a writable folder.", dataDir, err)
}

// mkdirPrivate creates dir and every missing parent 0700, each with its own
// os.Mkdir, so only folders we made get our mode and no existing one is
// touched.
func mkdirPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirPrivate(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// RemoveStaleTemps removes what atomic writes killed half-way left behind:
// in the data dir, the temp files of the daemon's own files (http_addr,
// control.token, daemon.lock.pid) at once, and every other ".*.tmp*" once
// it is a minute old; in ~/.cairn, ".http_addr.tmp*" older than a minute.
// Call it only while holding the daemon lock, which orders the daemon's
// writers. The tray writes config.json and update.json without that lock,
// and ~/.cairn is shared by the daemons of every data dir, so there only
// files no live write can still be using go.
func (p Paths) RemoveStaleTemps() error {
	var errs []error
	for _, f := range []string{p.AddrFile, p.Token, p.Lock + ".pid"} {
		errs = append(errs, atomicfile.RemoveStale(p.DataDir, filepath.Base(f), 0))
	}
	errs = append(errs, atomicfile.RemoveStale(p.DataDir, "", time.Minute))
	if p.DotAddrFile != "" {
		errs = append(errs, atomicfile.RemoveStale(filepath.Dir(p.DotAddrFile), filepath.Base(p.DotAddrFile), time.Minute))
	}
	return errors.Join(errs...)
}

// Quote makes s safe to paste into a POSIX shell, for the fixes that
// messages name.
func Quote(s string) string {
	for _, c := range s {
		if !(c == '/' || c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
