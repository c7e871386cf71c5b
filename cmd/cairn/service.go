package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/service"
	"github.com/cairnlabs/cairn/internal/exepath"
)

func newServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Run the daemon without the tray, under systemd, launchd or Windows logon",
		Long: `Run the daemon headless under the OS's own supervisor, for your user only and
without admin rights: a systemd user unit (Linux), a launchd agent (macOS), or
a logon entry that starts it hidden (Windows). It starts at login, and systemd
and launchd restart it if it fails.

The service runs 'cairn serve --foreground' with the port and data dir in
effect when you install it. Run 'cairn service install' again after moving
cairn or to change them.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newServiceInstallCmd(), newServiceUninstallCmd(), newServiceStatusCmd(),
		newServiceActionCmd("start", "Start the service and wait until the daemon serves"),
		newServiceActionCmd("stop", "Stop the service (it starts again at the next login)"),
		newServiceActionCmd("restart", "Restart the service and wait until the daemon serves"))
	return cmd
}

// detectManager is the OS's service manager, as an error with an exit code
// when there is none.
func detectManager() (service.Manager, error) {
	m, err := service.Detect()
	if err != nil {
		return nil, exitcode.New(exitcode.Failure, err.Error())
	}
	return m, nil
}

func newServiceInstallCmd() *cobra.Command {
	var port int
	var bin string
	var noStart, asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the service, enable it at login and start it",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			exe, err := daemonBin(bin)
			if err != nil {
				return err
			}
			m, err := detectManager()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			res, err := m.Install(ctx, service.Config{Exe: exe, Port: port, DataDir: p.DataDir})
			if err != nil {
				return serviceError("install", err)
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				switch {
				case !res.Changed:
					fmt.Fprintf(out, "The Cairn service is already installed (%s); nothing changed.\n", res.File)
				case res.Restarted:
					fmt.Fprintf(out, "Updated the Cairn service (%s) and restarted it.\n", res.File)
				default:
					fmt.Fprintf(out, "Installed the Cairn service: %s runs %s serve --foreground --port %d.\n", res.File, exe, port)
				}
			}
			var started *instance.StartResult
			if !noStart && !res.Restarted {
				started, err = startService(ctx, out, m, p, port, timeout, asJSON)
				var busy *serviceNotStarted
				if errors.As(err, &busy) {
					// Installed for the next login; the daemon that runs
					// now is left alone, and that is no failure here.
					if !asJSON {
						fmt.Fprintln(out, capitalize(busy.Error())+".")
					}
					started, err = nil, nil
				}
				if err != nil {
					return err
				}
			}
			if asJSON {
				return printJSON(out, schemaServiceInstall, serviceInstallJSON{Installed: res, Started: started})
			}
			if st, err := m.Status(ctx); err == nil {
				for _, n := range st.Notes {
					fmt.Fprintf(out, "note: %s\n", n)
				}
			}
			return nil
		},
	}
	portFlag(cmd, &port)
	cmd.Flags().StringVar(&bin, "daemon-bin", "", "the cairn binary the service runs (default: this one)")
	cmd.Flags().BoolVar(&noStart, "no-start", false, "install and enable only; start at the next login or with 'cairn service start'")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Second, "how long to wait for the daemon to serve")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// daemonBin is the absolute path of the cairn binary a service runs.
func daemonBin(flag string) (string, error) {
	exe := flag
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find this cairn binary: %w; pass --daemon-bin", err)
		}
	}
	abs, err := filepath.Abs(exe)
	if err != nil {
		return "", usage(fmt.Sprintf("--daemon-bin %q: %v", flag, err))
	}
	if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
		return "", usage(fmt.Sprintf("--daemon-bin %s is not a cairn binary (%v)", abs, err))
	}
	return abs, nil
}

func newServiceUninstallCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop the service and remove it",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := detectManager()
			if err != nil {
				return err
			}
			removed, err := m.Uninstall(cmd.Context())
			if err != nil {
				return serviceError("uninstall", err)
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return printJSON(out, schemaServiceUninstall, serviceUninstallJSON{Removed: removed})
			case removed:
				fmt.Fprintln(out, "Removed the Cairn service; it no longer starts at login.")
			default:
				fmt.Fprintln(out, "The Cairn service is not installed; nothing to remove.")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newServiceActionCmd(verb, short string) *cobra.Command {
	var port int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   verb,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			m, err := detectManager()
			if err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			switch verb {
			case "start":
				_, err = startService(ctx, out, m, p, port, timeout, false)
				return err
			case "stop":
				if err := m.Stop(ctx); err != nil {
					return serviceError("stop", err)
				}
				fmt.Fprintln(out, "Stopped the Cairn service.")
				return nil
			default:
				if err := m.Restart(ctx); err != nil {
					return serviceError("restart", err)
				}
				_, err = waitService(ctx, out, m, p, timeout)
				return err
			}
		},
	}
	if verb != "stop" {
		portFlag(cmd, &port)
		cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Second, "how long to wait for the daemon to serve")
	}
	return cmd
}

// serviceError says which action on the service failed, and why.
func serviceError(verb string, err error) error {
	var ns *service.NoSessionError
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return exitcode.New(exitcode.Failure, err.Error())
	case errors.As(err, &ns):
		done := map[string]string{"stop": "stopped", "uninstall": "uninstalled"}[verb]
		if done == "" {
			done = verb + "ed"
		}
		return exitcode.New(exitcode.Failure, "the service was not "+done+": "+err.Error())
	}
	return exitcode.New(exitcode.Failure, verb+" the service: "+err.Error())
}

// startService starts the service and waits until its daemon serves. A
// healthy daemon that the service does not run (the tray's, or one from a
// terminal) is left alone, since the service's daemon would see it and
// exit: that is a *serviceNotStarted.
func startService(ctx context.Context, out io.Writer, m service.Manager, p paths.Paths, port int, timeout time.Duration, quiet bool) (*instance.StartResult, error) {
	d := instance.Diagnose(ctx, p, port)
	if d.State == instance.StateRunning && (d.Service == nil || !d.Service.Ours) {
		atLogin := false
		if st, err := m.Status(ctx); err == nil {
			atLogin = st.AtLogin
		}
		return nil, &serviceNotStarted{d: d, atLogin: atLogin}
	}
	if err := m.Start(ctx); err != nil {
		return nil, serviceError("start", err)
	}
	if quiet {
		return waitService(ctx, io.Discard, m, p, timeout)
	}
	return waitService(ctx, out, m, p, timeout)
}

// serviceNotStarted is a start of the service refused because another
// Cairn daemon already serves.
type serviceNotStarted struct {
	d       instance.Diagnosis
	atLogin bool
}

func (e *serviceNotStarted) Error() string {
	who := e.d.Supervisor
	if who == "" {
		who = "unknown"
	}
	when := "it is not enabled at login ('cairn service install' enables it)"
	if e.atLogin {
		when = "it starts at your next login"
	}
	return fmt.Sprintf("the service was not started: Cairn already runs at %s (PID %d, started by: %s), outside the service; %s. "+
		"To move the daemon under the service now, run 'cairn stop && cairn service start'", e.d.Addr, e.d.Daemon.PID, who, when)
}

// serviceInstallJSON is `cairn service install --json`.
type serviceInstallJSON struct {
	Installed service.Installed     `json:"installed"`
	Started   *instance.StartResult `json:"started"` // null when not started now (--no-start, or another daemon runs)
}

// serviceUninstallJSON is `cairn service uninstall --json`.
type serviceUninstallJSON struct {
	Removed bool `json:"removed"`
}

// serviceStatusJSON is `cairn service status --json`: the service as its
// manager sees it, and the daemon in the shape of `cairn status --json`.
type serviceStatusJSON struct {
	Service service.Status `json:"service"`
	Running bool           `json:"running"` // the service runs the daemon (the exit code: 0, else 3)
	Daemon  statusJSON     `json:"daemon"`
}

// waitService waits until a healthy daemon answers (instance.WaitService,
// the tray's wait too), and words its failures for the command line.
func waitService(ctx context.Context, out io.Writer, m service.Manager, p paths.Paths, timeout time.Duration) (*instance.StartResult, error) {
	res, err := instance.WaitService(ctx, m, p, timeout)
	var exit *instance.ServiceExitError
	switch {
	case errors.As(err, &exit):
		return nil, exitcode.New(exitcode.Failure, fmt.Sprintf("the service's daemon exited with code %d (%s); %s",
			exit.Code, exitMeaning(exit.Code), logHint(m, p)))
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, exitcode.New(exitcode.Failure, fmt.Sprintf("%v; %s", err, logHint(m, p)))
	}
	fmt.Fprintf(out, "Cairn is running at %s (PID %d) under %s.\n", res.Addr, res.PID, m.Name())
	return &res, nil
}

// exitMeaning names an exit code of `cairn serve --foreground`.
func exitMeaning(code int) string {
	switch code {
	case exitcode.Failure:
		return "failure"
	case exitcode.Usage:
		return "bad usage, or a crash"
	case exitcode.PortInUse:
		return "port already in use by another program"
	case exitcode.LockHeld:
		return "the daemon lock is held by another process"
	case exitcode.DataDirBad:
		return "the data dir is unusable"
	default:
		return "unexpected"
	}
}

// logHint says where the service's daemon output goes.
func logHint(m service.Manager, p paths.Paths) string {
	switch m.Name() {
	case service.Systemd:
		return "see: journalctl --user -u cairn, and " + p.DaemonLog
	case service.Launchd:
		return "see " + p.DaemonOut + " and " + p.DaemonLog
	default:
		return "see " + p.DaemonLog
	}
}

func newServiceStatusCmd() *cobra.Command {
	var port int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the service and its daemon (exit 0 when it runs, 3 when not)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			m, err := detectManager()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := m.Status(ctx)
			if err != nil {
				return exitcode.New(exitcode.Failure, "read the service: "+err.Error())
			}
			d := instance.Diagnose(ctx, p, port)
			self, _ := os.Executable()
			notes := append(st.Notes, exeNotes(st, self)...)
			running := st.Installed && (st.Running || d.State == instance.StateRunning && st.Manager == service.LogonEntry)
			out := cmd.OutOrStdout()
			if asJSON {
				st.Notes = notes
				if err := printJSON(out, schemaServiceStatus, serviceStatusJSON{Service: st, Running: running, Daemon: statusOf(d)}); err != nil {
					return err
				}
			} else {
				printServiceStatus(out, st, d, notes)
			}
			if !running {
				return &silentExit{exitcode.PortInUse}
			}
			return nil
		},
	}
	portFlag(cmd, &port)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// exeNotes warns when the service runs another cairn than this one, or one
// that is gone.
func exeNotes(st service.Status, self string) []string {
	if st.Exe == "" {
		return nil
	}
	if _, err := os.Stat(st.Exe); err != nil {
		return []string{fmt.Sprintf("the service runs %s, which no longer exists; run 'cairn service install' to point it at %s", st.Exe, self)}
	}
	if self != "" && !exepath.Same(st.Exe, self) {
		return []string{fmt.Sprintf("the service runs %s, not this cairn (%s); run 'cairn service install' here to switch", st.Exe, self)}
	}
	return nil
}

func printServiceStatus(w io.Writer, st service.Status, d instance.Diagnosis, notes []string) {
	what := st.Manager + " " + st.Unit
	switch st.Manager {
	case service.Systemd:
		what = "systemd user unit " + st.Unit
	case service.Launchd:
		what = "launchd agent " + st.Unit
	case service.LogonEntry:
		what = "Windows logon entry \"" + st.Unit + "\""
	}
	if !st.Installed {
		fmt.Fprintf(w, "Cairn service: not installed (%s would be %s).\nInstall it with 'cairn service install'.\n", what, st.File)
		return
	}
	fmt.Fprintf(w, "Cairn service: %s\n", what)
	fmt.Fprintf(w, "  file      %s\n", st.File)
	fmt.Fprintf(w, "  runs      %s\n", strings.Join(st.Command, " "))
	if st.DataDir != "" {
		fmt.Fprintf(w, "  data dir  %s\n", st.DataDir)
	}
	atLogin := yesNo(st.AtLogin)
	if st.State == "unknown" {
		atLogin += " (read from the files: the manager could not be asked)"
	}
	fmt.Fprintf(w, "  at login  %s\n", atLogin)
	if st.State != "" {
		state := st.State
		if st.PID > 0 {
			state += fmt.Sprintf(", PID %d", st.PID)
		}
		if st.LastExit != 0 {
			state += fmt.Sprintf(", last exit %d (%s)", st.LastExit, exitMeaning(st.LastExit))
		}
		fmt.Fprintf(w, "  state     %s\n", state)
	}
	fmt.Fprintf(w, "  daemon    %s\n", statusLine(d))
	for _, n := range notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
