package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/internal/runkey"
)

// RunValueName is the daemon's value under HKCU\...\CurrentVersion\Run, the
// name Task Manager's Startup tab shows.
const RunValueName = "Cairn daemon"

// WindowsLogon starts the daemon at logon from the HKCU Run key, which needs
// no admin rights (a Windows service would). cairn.exe is a console
// program, so Explorer would open a console window for it; the entry runs it
// under `conhost.exe --headless`, the console host in the mode ConPTY uses,
// which creates no window (Windows 10 1809 / Server 2019 and later).
// Windows does not supervise what the Run key starts: a daemon that stops
// stays stopped, so nothing respawns it and a takeover needs no manager.
type WindowsLogon struct {
	Entry   runkey.Entry
	Conhost string // %SystemRoot%\System32\conhost.exe
	// DefaultDataDir is the data dir a process started at logon resolves
	// without CAIRN_HOME (%LOCALAPPDATA%\cairn).
	DefaultDataDir string
	// Spawn starts the daemon now, detached and without a window.
	Spawn func(exe string, args []string) error
	// StopDaemon stops the running daemon through its API.
	StopDaemon func(ctx context.Context) error
}

// Name is "logon entry".
func (w *WindowsLogon) Name() string { return LogonEntry }

func (w *WindowsLogon) location() string { return `HKCU\` + runkey.RunKey + `\` + w.Entry.Name }

// LogonCommand is the Run value that starts c hidden at logon.
func (w *WindowsLogon) LogonCommand(c Config) (string, error) {
	if strings.ContainsAny(c.Exe, `"`) {
		return "", fmt.Errorf("cairn path %q contains a double quote", c.Exe)
	}
	return runkey.CommandLine(append([]string{w.Conhost, "--headless", c.Exe}, c.Args()...)...)
}

// Install writes the Run value. A Run entry cannot carry environment
// variables, so a data dir other than the default must come from a
// CAIRN_HOME the user set for the account (Settings, or setx), not only in
// this shell: otherwise the daemon started at logon would use another one.
func (w *WindowsLogon) Install(ctx context.Context, c Config) (Installed, error) {
	res := Installed{File: w.location()}
	if err := c.check(); err != nil {
		return res, err
	}
	if !strings.EqualFold(filepath.Clean(c.DataDir), filepath.Clean(w.DefaultDataDir)) {
		v, _, err := w.Entry.Reg.String("Environment", "CAIRN_HOME")
		if err != nil {
			return res, fmt.Errorf(`read HKCU\Environment\CAIRN_HOME: %w`, err)
		}
		if !strings.EqualFold(filepath.Clean(v), filepath.Clean(c.DataDir)) {
			return res, fmt.Errorf("the data dir %s comes from CAIRN_HOME in this shell only, and a logon entry cannot carry it; "+
				"set it for your account first (setx CAIRN_HOME \"%s\", then open a new terminal), or unset CAIRN_HOME to use %s",
				c.DataDir, c.DataDir, w.DefaultDataDir)
		}
	}
	cmd, err := w.LogonCommand(c)
	if err != nil {
		return res, err
	}
	res.Changed, err = w.Entry.Write(cmd)
	return res, err
}

// Uninstall removes the Run value. A running daemon is left alone: Windows
// cannot say whether the entry or the tray started it (`cairn stop` stops
// it either way).
func (w *WindowsLogon) Uninstall(ctx context.Context) (bool, error) {
	st, err := w.Entry.Read()
	if err != nil || !st.Present {
		return false, err
	}
	return true, w.Entry.Remove()
}

func (w *WindowsLogon) command() ([]string, error) {
	st, err := w.Entry.Read()
	if err != nil {
		return nil, err
	}
	if !st.Present {
		return nil, ErrNotInstalled
	}
	args := st.Args
	if len(args) > 1 && strings.EqualFold(args[0][strings.LastIndexAny(args[0], `\/`)+1:], "conhost.exe") && args[1] == "--headless" {
		args = args[2:]
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%s holds no command", w.location())
	}
	return args, nil
}

// Start runs the entry's command now, hidden and detached, as logon would.
func (w *WindowsLogon) Start(ctx context.Context) error {
	cmd, err := w.command()
	if err != nil {
		return err
	}
	return w.Spawn(cmd[0], cmd[1:])
}

// Stop shuts the daemon down through its API: nothing supervises it, so
// that is all stopping takes.
func (w *WindowsLogon) Stop(ctx context.Context) error {
	if _, err := w.command(); err != nil {
		return err
	}
	return w.StopDaemon(ctx)
}

// Restart is Stop, then Start.
func (w *WindowsLogon) Restart(ctx context.Context) error {
	if err := w.Stop(ctx); err != nil {
		return err
	}
	return w.Start(ctx)
}

// Status reads the Run value back.
func (w *WindowsLogon) Status(ctx context.Context) (Status, error) {
	s := Status{Manager: LogonEntry, Unit: w.Entry.Name, File: w.location()}
	st, err := w.Entry.Read()
	if err != nil || !st.Present {
		return s, err
	}
	s.Installed, s.AtLogin = true, st.Enabled()
	s.Command = st.Args
	s.Exe, s.Port = readConfig(st.Args)
	if st.Disabled {
		s.Notes = append(s.Notes, "switched off in Task Manager's Startup tab; 'cairn service install' switches it on")
	}
	s.Notes = append(s.Notes, "Windows starts the daemon at logon but does not restart it if it stops")
	return s, nil
}

// ServiceOf is always nil: nothing respawns what the Run key started.
func (w *WindowsLogon) ServiceOf(ctx context.Context, pid int) (*Unit, error) { return nil, nil }

// StopUnit is not needed on Windows: no manager respawns the daemon.
func (w *WindowsLogon) StopUnit(ctx context.Context, u Unit) error {
	return fmt.Errorf("cannot stop %s on Windows", u)
}

// stopThroughAPI asks the data dir's daemon to shut down and waits until it
// released the lock: the graceful stop, with in-flight requests drained.
func stopThroughAPI(ctx context.Context) error {
	p, err := paths.Resolve()
	if err != nil {
		return err
	}
	c, err := client.Discover(p)
	if err != nil {
		return nil // no discovery file: no daemon
	}
	defer c.CloseIdle()
	sctx, cancel := context.WithTimeout(ctx, stopTimeoutSec*time.Second)
	defer cancel()
	if _, err := c.Health(sctx); err != nil {
		return nil // nothing answers
	}
	if err := c.Shutdown(sctx); err != nil {
		return fmt.Errorf("ask the daemon at %s to shut down: %w", c.Addr(), err)
	}
	for {
		if held, _ := lock.Probe(p.Lock); !held {
			return nil
		}
		select {
		case <-sctx.Done():
			return errors.New("the daemon accepted the shutdown but still holds its lock; run 'cairn stop --force'")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// defaultWindowsDataDir is where a process without CAIRN_HOME keeps its data.
func defaultWindowsDataDir() string {
	if d := os.Getenv("LOCALAPPDATA"); d != "" {
		return filepath.Join(d, "cairn")
	}
	return ""
}
