// Package paths resolves every file location Cairn uses, so the daemon, the
// CLI and the tray agree on them and tests isolate themselves with nothing
// more than HOME, the XDG_* variables and CAIRN_HOME.
package paths

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/adrg/xdg"
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
	Store       string
}

// ErrNoHome is returned when neither CAIRN_HOME nor a home directory is
// available, so there is nowhere sensible to keep data.
var ErrNoHome = errors.New("cannot find a data dir: neither CAIRN_HOME nor HOME is set; set one of them")

// Resolve reads the environment now (not at package init, so tests that
// change it are honoured) and returns the paths.
func Resolve() (Paths, error) {
	home, _ := os.UserHomeDir()
	dataDir := os.Getenv("CAIRN_HOME")
	if dataDir == "" {
		if home == "" {
			return Paths{}, ErrNoHome
		}
		xdg.Reload()
		dataDir = filepath.Join(xdg.DataHome, "cairn")
	}
	if !filepath.IsAbs(dataDir) {
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return Paths{}, fmt.Errorf("resolve data dir %q: %w", dataDir, err)
		}
		dataDir = abs
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
		Store:     filepath.Join(dataDir, "cairn.db"),
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

// EnsureDataDir creates the data dir and its logs folder with mode 0700 and
// tightens an existing data dir that other users could read.
func (p Paths) EnsureDataDir() error {
	for _, dir := range []string{p.DataDir, p.LogDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	return tighten(p.DataDir)
}
