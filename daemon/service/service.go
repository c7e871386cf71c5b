// Package service runs the daemon headless under the OS's own supervisor,
// per user and without admin rights: a systemd user unit on Linux, a launchd
// agent on macOS, a logon entry in the HKCU Run key on Windows. It writes
// the definition from templates (docs/ARCHITECTURE.md says why not
// kardianos/service), asks the manager to start, stop and report on it, and
// tells the takeover engine whether a daemon process is run by a manager and
// how to stop it so that it stays stopped instead of being respawned.
//
// Manager commands (systemctl, launchctl) go through the Runner interface
// and the Windows registry through internal/runkey, so every backend is
// tested on any OS with fakes; only Detect differs per OS.
package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/internal/exepath"
)

// Manager names, as Unit.Manager and Status.Manager carry them.
const (
	Systemd    = "systemd"
	Launchd    = "launchd"
	LogonEntry = "logon entry" // Windows: HKCU Run; starts the daemon, does not supervise it
)

// Config is what the service runs: `<Exe> serve --foreground --port <Port>`
// with CAIRN_HOME=<DataDir>, so the service uses the data dir and port the
// user saw when installing it, whatever environment the manager has.
type Config struct {
	Exe     string // absolute path of the cairn binary
	Port    int
	DataDir string // absolute; its logs/ folder receives launchd's stdout and stderr
}

// Args is the daemon's command line, without the executable: the one
// launcher's (daemon/launch), so a service runs what `cairn start` and the
// tray run.
func (c Config) Args() []string { return launch.Args(c.Port) }

func (c Config) check() error {
	if !filepath.IsAbs(c.Exe) {
		return fmt.Errorf("the service needs an absolute path to cairn, got %q", c.Exe)
	}
	if fi, err := os.Stat(c.Exe); err != nil {
		return fmt.Errorf("cairn binary %s: %w", c.Exe, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("cairn binary %s is not a regular file", c.Exe)
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("port %d is out of range; use 1-65535", c.Port)
	}
	if !filepath.IsAbs(c.DataDir) {
		return fmt.Errorf("the service needs an absolute data dir, got %q", c.DataDir)
	}
	for _, p := range []string{c.Exe, c.DataDir} {
		if err := exepath.CheckChars(p); err != nil {
			return fmt.Errorf("%w, which no service definition can carry; use another path", err)
		}
	}
	return nil
}

// Manager is one OS's supervisor for the Cairn daemon.
type Manager interface {
	// Name is how the manager is shown: "systemd", "launchd", "logon entry".
	Name() string
	// Install writes the definition and registers it to start at login. It
	// is idempotent; a changed definition (the binary moved, another port)
	// is rewritten and a running service restarted on it.
	Install(ctx context.Context, c Config) (Installed, error)
	// Uninstall stops the service and removes its definition. It reports
	// whether there was anything to remove.
	Uninstall(ctx context.Context) (bool, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Restart(ctx context.Context) error
	Status(ctx context.Context) (Status, error)
	// ServiceOf reports the service whose main process is pid, nil when no
	// service of this manager runs it, or an error when the manager cannot
	// be asked (then nobody can tell).
	ServiceOf(ctx context.Context, pid int) (*Unit, error)
	// StopUnit stops u through its manager, so it is not respawned.
	StopUnit(ctx context.Context, u Unit) error
}

// Installed says what Install did.
type Installed struct {
	File      string `json:"file"`      // where the definition lives
	Changed   bool   `json:"changed"`   // it was written (new or different)
	Restarted bool   `json:"restarted"` // a running service was restarted on the new definition
}

// Status is the service as its manager sees it.
type Status struct {
	Manager   string   `json:"manager"`
	Unit      string   `json:"unit"`                // cairn.service, com.cairnlabs.cairn, "Cairn daemon"
	File      string   `json:"file"`                // the definition: a file or a registry value
	Installed bool     `json:"installed"`           // the definition exists
	Command   []string `json:"command,omitempty"`   // what it runs, read back from the definition
	Exe       string   `json:"exe,omitempty"`       // the cairn binary in Command
	Port      int      `json:"port,omitempty"`      // from Command
	DataDir   string   `json:"data_dir,omitempty"`  // CAIRN_HOME of the definition
	AtLogin   bool     `json:"at_login"`            // starts with the user's session
	Running   bool     `json:"running"`             // the manager runs it now (unknown for a logon entry)
	PID       int      `json:"pid,omitempty"`       // its main process
	State     string   `json:"state,omitempty"`     // in the manager's words: "active (running)", "failed"
	LastExit  int      `json:"last_exit,omitempty"` // the last non-zero exit status, when the manager reports one
	Notes     []string `json:"notes,omitempty"`     // what the user should know: no linger, not supervised
}

// Unit is a service that a manager runs.
type Unit struct {
	Manager string `json:"manager"`
	// Name is the unit or job label; empty when the daemon says a manager
	// started it but the manager could not be asked to confirm which.
	Name   string `json:"name,omitempty"`
	System bool   `json:"system,omitempty"` // a system-wide unit: only root can stop it
	Ours   bool   `json:"ours,omitempty"`   // the one `cairn service install` writes
	Domain string `json:"domain,omitempty"` // launchd: gui/<uid>
}

// String names the unit in messages: "systemd user unit cairn.service".
func (u Unit) String() string {
	switch {
	case u.Manager == Systemd && u.System && u.Name != "":
		return "systemd system unit " + u.Name
	case u.Manager == Systemd && u.Name != "":
		return "systemd user unit " + u.Name
	case u.Manager == Launchd && u.Name != "":
		return "launchd agent " + u.Name
	case u.Name != "":
		return u.Manager + " " + u.Name
	default:
		return u.Manager
	}
}

// StopCommand is the command a person would type to stop u.
func (u Unit) StopCommand() string {
	switch {
	case u.Manager == Systemd && u.Name == "":
		return "systemctl --user stop <unit>   (find it with: systemctl --user status <PID>)"
	case u.Manager == Systemd && u.System:
		return "sudo systemctl stop " + u.Name
	case u.Manager == Systemd:
		return "systemctl --user stop " + u.Name
	case u.Manager == Launchd && u.Name == "":
		return "launchctl bootout gui/$(id -u)/<label>   (find it with: launchctl list | grep <PID>)"
	case u.Manager == Launchd:
		domain := u.Domain
		if domain == "" {
			domain = "gui/$(id -u)"
		}
		return "launchctl bootout " + domain + "/" + u.Name
	default:
		return "cairn service stop"
	}
}

// ErrNotInstalled is returned by Start, Stop and Restart before Install.
var ErrNotInstalled = errors.New("the Cairn service is not installed; run 'cairn service install'")

// ErrNoManager means this system has no service manager Cairn supports.
var ErrNoManager = errors.New("no supported service manager")

// Runner runs a manager's command-line tool (systemctl, launchctl) and
// returns its standard output. A failure is a *CommandError.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// CommandError is a manager command that failed, with what it said.
type CommandError struct {
	Command  []string
	ExitCode int // -1 when it did not run or was killed
	Stderr   string
	Err      error
}

func (e *CommandError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s: %s", strings.Join(e.Command, " "), msg)
}

func (e *CommandError) Unwrap() error { return e.Err }

// exitCode is the exit status of a failed command, or -1.
func exitCode(err error) int {
	var ce *CommandError
	if errors.As(err, &ce) {
		return ce.ExitCode
	}
	return -1
}

// ExecRunner runs commands for real, each bounded to a minute unless ctx is
// shorter.
type ExecRunner struct{}

// Run runs name with args.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return out, &CommandError{Command: append([]string{name}, args...), ExitCode: code, Stderr: stderr.String(), Err: err}
	}
	return out, nil
}

// readConfig recovers exe and port from a daemon command line.
func readConfig(cmd []string) (exe string, port int) {
	for i, a := range cmd {
		if a == "serve" && i > 0 {
			exe = cmd[i-1]
		}
		if a == "--port" && i+1 < len(cmd) {
			port, _ = strconv.Atoi(cmd[i+1])
		}
		if v, ok := strings.CutPrefix(a, "--port="); ok {
			port, _ = strconv.Atoi(v)
		}
	}
	return exe, port
}
