package loginitem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"howett.net/plist"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/internal/exepath"
)

// AgentLabel is the launchd label of the tray's login item; the plist is
// ~/Library/LaunchAgents/<AgentLabel>.plist.
const AgentLabel = "com.cairnlabs.cairn-tray"

// launchAgentPlist is the subset of launchd.plist(5) a login item uses.
type launchAgentPlist struct {
	Label                  string   `plist:"Label"`
	ProgramArguments       []string `plist:"ProgramArguments"`
	RunAtLoad              bool     `plist:"RunAtLoad"`
	LimitLoadToSessionType string   `plist:"LimitLoadToSessionType,omitempty"`
	ProcessType            string   `plist:"ProcessType,omitempty"`
	Disabled               bool     `plist:"Disabled,omitempty"`
}

// LaunchAgent returns the plist that starts exe once at login: RunAtLoad
// without KeepAlive (quitting the tray must stay quit), only in the Aqua
// (graphical) session, where a menu-bar app belongs. The text is generated
// by the plist library and parsed back before it is returned, so a path the
// format cannot carry is an error here, not a login item that never starts.
func LaunchAgent(label, exe string) ([]byte, error) {
	if err := checkChars(exe); err != nil {
		return nil, err
	}
	data, err := plist.MarshalIndent(launchAgentPlist{
		Label:                  label,
		ProgramArguments:       []string{exe},
		RunAtLoad:              true,
		LimitLoadToSessionType: "Aqua",
		ProcessType:            "Interactive",
	}, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("generate the LaunchAgent plist: %w", err)
	}
	back, err := parseLaunchAgent(data)
	if err != nil || back.Label != label || !slices.Equal(back.ProgramArguments, []string{exe}) {
		return nil, fmt.Errorf("the LaunchAgent plist for %q does not read back (%v)", exe, err)
	}
	return data, nil
}

func parseLaunchAgent(data []byte) (launchAgentPlist, error) {
	var p launchAgentPlist
	if _, err := plist.Unmarshal(data, &p); err != nil {
		return p, err
	}
	if len(p.ProgramArguments) == 0 {
		return p, errors.New("no ProgramArguments")
	}
	return p, nil
}

// launchAgent keeps the login item as a LaunchAgent plist. Only the file is
// written: launchd loads it at the next login. Loading it now would start a
// second tray, and booting it out would kill the running one, which launchd
// started under this label.
type launchAgent struct {
	dir   string // ~/Library/LaunchAgents
	label string
	// disabled and enable reach `launchctl print-disabled` / `launchctl
	// enable`, where System Settings' Login Items switch lands; nil in tests
	// and off macOS.
	disabled func(label string) (bool, error)
	enable   func(label string) error
}

func (a *launchAgent) file() string { return filepath.Join(a.dir, a.label+".plist") }

func (a *launchAgent) read() (State, error) {
	s := State{Location: a.file()}
	data, err := os.ReadFile(a.file())
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read LaunchAgent: %w", err)
	}
	p, err := parseLaunchAgent(data)
	if err != nil {
		return s, fmt.Errorf("read LaunchAgent %s: %w", a.file(), err)
	}
	s.Exe, s.Enabled = p.ProgramArguments[0], p.RunAtLoad && !p.Disabled
	switch {
	case p.Disabled:
		s.Note = a.file() + " has Disabled=true"
	case !p.RunAtLoad:
		s.Note = a.file() + " does not have RunAtLoad"
	}
	if s.Enabled && a.disabled != nil {
		off, err := a.disabled(a.label)
		if err != nil {
			return s, err
		}
		if off {
			s.Enabled, s.Note = false, "switched off in System Settings > General > Login Items (launchctl print-disabled lists "+a.label+")"
		}
	}
	return s, nil
}

func (a *launchAgent) write(exe string) error {
	data, err := LaunchAgent(a.label, exe)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", a.dir, err)
	}
	if err := atomicfile.Write(a.file(), data, 0o644); err != nil {
		return fmt.Errorf("write LaunchAgent %s: %w", a.file(), err)
	}
	if a.enable != nil {
		return a.enable(a.label) // clear a switch-off left by the user or launchctl disable
	}
	return nil
}

func (a *launchAgent) remove() error {
	if err := os.Remove(a.file()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove LaunchAgent: %w", err)
	}
	return nil
}

func (a *launchAgent) samePath(x, y string) bool { return exepath.Same(x, y) }

// parsePrintDisabled reads `launchctl print-disabled gui/<uid>` and reports
// whether label is disabled. macOS prints `"label" => disabled` (13 and
// later) or `"label" => true` (earlier).
func parsePrintDisabled(out []byte, label string) bool {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=>")
		if !ok || strings.Trim(strings.TrimSpace(k), `"`) != label {
			continue
		}
		v = strings.TrimSpace(v)
		return v == "disabled" || v == "true"
	}
	return false
}
