// Package loginitem switches "start Cairn's tray at login" on and off. The
// OS's own setting is the single source of truth: every call reads it back
// from where the OS keeps it (an XDG autostart file on Linux, a LaunchAgent
// on macOS, the HKCU Run key on Windows), never from a cached flag, so the
// tray's checkbox and `cairn login-item status` agree with what the desktop's
// own startup settings show, including a switch the user flipped there.
//
// It is GUI-free and builds without cgo on every OS. Each OS file picks one
// backend; the backends themselves (file generators and parsers, the Run key
// logic) compile everywhere, so they are tested on any machine.
package loginitem

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cairnlabs/cairn/internal/exepath"
)

// State is what the OS will do at the next login.
type State struct {
	Enabled  bool   `json:"enabled"`        // the tray starts at the next login
	Exe      string `json:"exe,omitempty"`  // the program the entry starts, when there is an entry
	Current  bool   `json:"current"`        // Exe is the program Status was asked about
	Location string `json:"location"`       // the file or registry value holding the setting
	Note     string `json:"note,omitempty"` // why an entry that exists is off, e.g. switched off in the desktop's settings
	// Broken says why an entry that is on will do nothing at the next
	// login (it names a program that is gone), or is empty. Such an entry
	// is on but broken: the tray's checkbox, `cairn login-item status` and
	// `cairn doctor` all show it so, with Fix.
	Broken string `json:"broken,omitempty"`
}

// Fix is what repairs a broken entry, in a sentence; empty when s is not
// broken.
func (s State) Fix() string {
	if s.Broken == "" {
		return ""
	}
	return "turn start at login on again (the tray's checkbox, or `cairn login-item on`) to point it at the cairn-tray you run now"
}

// backend is one OS's login-item store.
type backend interface {
	read() (State, error)   // Enabled, Exe, Location and Note; Current is filled in by Status
	write(exe string) error // make exe start at login, clearing any "off" switch
	remove() error          // make nothing start at login; absent is not an error
	samePath(a, b string) bool
}

// Enable makes exe, the absolute path of the cairn-tray binary, start at
// login. Enabling what is already enabled changes nothing; an entry that
// names another path (the binary moved) is rewritten.
func Enable(exe string) error {
	exe, err := checkExe(exe)
	if err != nil {
		return err
	}
	b, err := newBackend()
	if err != nil {
		return err
	}
	return enable(b, exe)
}

// Disable stops the tray from starting at login. It is not an error when it
// was not enabled.
func Disable() error {
	b, err := newBackend()
	if err != nil {
		return err
	}
	return b.remove()
}

// Enabled reports whether the tray starts at the next login: the value
// behind the tray's "Start at login" checkbox.
func Enabled() (bool, error) {
	s, err := Status("")
	return s.Enabled, err
}

// Status reads the OS setting. Current says whether the entry starts exe;
// with exe empty it says whether the program the entry names still exists.
func Status(exe string) (State, error) {
	b, err := newBackend()
	if err != nil {
		return State{}, err
	}
	return status(b, exe)
}

// UpdatePath points an enabled entry at exe when it names another path, as
// after the app was moved or reinstalled elsewhere. It does nothing when the
// login item is off, so it never turns it on behind the user's back, and
// reports whether it rewrote the entry.
func UpdatePath(exe string) (bool, error) {
	exe, err := checkExe(exe)
	if err != nil {
		return false, err
	}
	b, err := newBackend()
	if err != nil {
		return false, err
	}
	s, err := b.read()
	if err != nil || !s.Enabled || b.samePath(s.Exe, exe) {
		return false, err
	}
	return true, b.write(exe)
}

func enable(b backend, exe string) error {
	s, err := b.read()
	if err != nil {
		return err
	}
	if s.Enabled && b.samePath(s.Exe, exe) {
		return nil
	}
	return b.write(exe)
}

func status(b backend, exe string) (State, error) {
	s, err := b.read()
	if err != nil || s.Exe == "" {
		return s, err
	}
	missing := missingProgram(s.Exe)
	if exe != "" {
		s.Current = b.samePath(s.Exe, exe)
	} else {
		s.Current = missing == ""
	}
	if s.Enabled && missing != "" {
		s.Broken = missing
	}
	return s, nil
}

// missingProgram says why exe cannot be started at login, or is empty.
func missingProgram(exe string) string {
	fi, err := os.Stat(exe)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("it starts %s, which no longer exists", exe)
	case err != nil:
		return fmt.Sprintf("it starts %s, which cannot be read: %v", exe, err)
	case !fi.Mode().IsRegular():
		return fmt.Sprintf("it starts %s, which is not a program", exe)
	}
	return ""
}

// checkExe insists on an absolute path to an existing regular file: a login
// item that names a relative path or nothing fails silently at every login.
func checkExe(exe string) (string, error) {
	if exe == "" {
		return "", errors.New("no cairn-tray path given")
	}
	if !filepath.IsAbs(exe) {
		return "", fmt.Errorf("the login item needs an absolute path to cairn-tray, got %q", exe)
	}
	exe = filepath.Clean(exe)
	fi, err := os.Stat(exe)
	if err != nil {
		return "", fmt.Errorf("cairn-tray at %s: %w", exe, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("cairn-tray at %s is not a regular file", exe)
	}
	return exe, checkChars(exe)
}

// checkChars is exepath.CheckChars with what to do about it.
func checkChars(path string) error {
	if err := exepath.CheckChars(path); err != nil {
		return fmt.Errorf("%w, which no login item can carry; move cairn-tray to another folder", err)
	}
	return nil
}
