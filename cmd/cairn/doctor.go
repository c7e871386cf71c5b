package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/store"
	"github.com/cairnlabs/cairn/tray/loginitem"
)

func newDoctorCmd() *cobra.Command {
	var port int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the daemon, its lock, port, discovery files and token",
		Long: `Diagnose the daemon: who holds the lock and the port, whether the discovery
files are present and consistent, and whether the control token is private.
For each problem it prints the exact command that fixes it. It changes nothing.
Exit 0 when there is no problem, 1 otherwise.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			d := instance.DiagnoseWith(cmd.Context(), p, port, instance.DiagnoseOptions{Services: instance.DefaultServices(), CheckStore: true})
			checkStoppedStore(&d, p.Store)
			li := checkLoginItem(&d)
			out := cmd.OutOrStdout()
			if asJSON {
				j := doctorOf(d)
				j.LoginItem = li
				err = printJSON(out, schemaDoctor, j)
			} else {
				printDoctor(out, d, li)
			}
			if err != nil {
				return err
			}
			if len(d.Problems) > 0 {
				return &silentExit{1}
			}
			return nil
		},
	}
	portFlag(cmd, &port)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the diagnosis as JSON")
	return cmd
}

// checkStoppedStore adds a problem to d when no daemon runs and the store
// file would refuse the next start: what its header says, read without
// SQLite (only the lock holder opens the store), so a file cut short, one
// that is no database, or one a newer Cairn wrote is named here and not
// only by the failed start.
func checkStoppedStore(d *instance.Diagnosis, path string) {
	if d.State == instance.StateRunning {
		return // the daemon checked it in full (d.Store)
	}
	err := store.CheckHeader(path)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrTooNew):
		d.Problems = append(d.Problems, instance.Problem{
			Summary: fmt.Sprintf("the memory store %s was written by a newer Cairn (%v), so this one refuses to start", path, err),
			Fix:     "upgrade Cairn (a store is never downgraded)",
		})
	default:
		d.Problems = append(d.Problems, instance.Problem{
			Summary: fmt.Sprintf("the memory store cannot be opened, so the daemon refuses to start: %v", err),
			Fix: fmt.Sprintf("move %s aside with its -wal and -shm files (keep them: they may still hold memories to recover, e.g. with sqlite3's .recover), then restore a copy of it, "+
				"or cairn start (an empty store is made) and cairn import an export", paths.Quote(path)),
		})
	}
}

// checkLoginItem reads the tray's login item and adds a problem to d when
// it is on but broken; nil when it cannot be read (no desktop to ask).
func checkLoginItem(d *instance.Diagnosis) *loginItemJSON {
	tray, err := trayPath("")
	if err != nil {
		return nil
	}
	st, err := loginitem.Status(tray)
	if err != nil {
		return nil
	}
	j := loginItemJSONOf(st, tray)
	if j.State == "broken" {
		d.Problems = append(d.Problems, instance.Problem{
			Summary: fmt.Sprintf("the login item %s is on but broken: %s, so Cairn's tray does not start at login", st.Location, st.Broken),
			Fix:     j.fixCommand,
		})
	}
	return &j
}

func printDoctor(w io.Writer, d instance.Diagnosis, li *loginItemJSON) {
	fmt.Fprintf(w, "Cairn: %s\n", statusLine(d))
	fmt.Fprintf(w, "  data dir   %s\n", d.DataDir)

	switch {
	case !d.Lock.Exists:
		fmt.Fprintf(w, "  lock       %s: absent\n", d.Lock.Path)
	case d.Lock.Held:
		fmt.Fprintf(w, "  lock       %s: held by %s\n", d.Lock.Path, describeProcess(d.Lock.Holder, d.Lock.PID))
	default:
		fmt.Fprintf(w, "  lock       %s: not held (stale)\n", d.Lock.Path)
	}

	holders := portHolders(d)
	if len(holders) == 0 {
		fmt.Fprintf(w, "  port %-5d free\n", d.Port)
	}
	for _, l := range holders {
		what := describeProcess(l.Process, l.PID)
		if l.Daemon {
			what = "the daemon, " + what
		}
		fmt.Fprintf(w, "  port %-5d %s: %s\n", d.Port, l.Addr, what)
	}

	if d.Store != nil {
		if d.Store.OK {
			fmt.Fprintf(w, "  store      %d memories, integrity checks pass\n", d.Store.Count)
		} else {
			fmt.Fprintf(w, "  store      integrity check failed: %s\n", d.Store.Error)
		}
	}

	for _, f := range d.Discovery {
		switch {
		case !f.Exists:
			fmt.Fprintf(w, "  discovery  %s: absent\n", f.Path)
		case f.Error != "":
			fmt.Fprintf(w, "  discovery  %s: unreadable (%s)\n", f.Path, f.Error)
		case f.Stale:
			fmt.Fprintf(w, "  discovery  %s: %s (stale)\n", f.Path, f.Addr)
		default:
			fmt.Fprintf(w, "  discovery  %s: %s\n", f.Path, f.Addr)
		}
	}

	if d.Supervisor != "" {
		fmt.Fprintf(w, "  started by %s\n", d.Supervisor)
	}
	if d.Service != nil {
		fmt.Fprintf(w, "  service    %s (stop it with: %s)\n", d.Service, d.Service.StopCommand())
	}

	switch {
	case !d.Token.Exists:
		fmt.Fprintf(w, "  token      %s: absent (the daemon creates it)\n", d.Token.Path)
	case !d.Token.Valid:
		fmt.Fprintf(w, "  token      %s: malformed\n", d.Token.Path)
	case !d.Token.Private:
		fmt.Fprintf(w, "  token      %s: readable by other users\n", d.Token.Path)
	default:
		fmt.Fprintf(w, "  token      %s: ok (owner only)\n", d.Token.Path)
	}

	switch {
	case d.Holder.Kind == instance.HolderNone || d.State == instance.StateRunning && d.Holder.Kind == instance.HolderCairn:
	case d.Holder.CanTakeOver():
		fmt.Fprintf(w, "  holder     %s: %s ('cairn takeover' stops it and starts Cairn)\n", d.Holder.Kind, d.Holder.Reason)
	default:
		fmt.Fprintf(w, "  holder     %s: %s (no takeover offered)\n", d.Holder.Kind, d.Holder.Reason)
	}

	if li != nil {
		switch li.State {
		case "broken":
			fmt.Fprintf(w, "  login item %s: on, but broken (%s)\n", li.LoginItem.Location, li.LoginItem.Broken)
		case "on":
			fmt.Fprintf(w, "  login item %s: on, starts %s\n", li.LoginItem.Location, li.LoginItem.Exe)
		default:
			fmt.Fprintln(w, "  login item off")
		}
	}

	if len(d.Problems) == 0 {
		fmt.Fprintln(w, "\nNo problems found.")
		return
	}
	if len(d.Problems) == 1 {
		fmt.Fprintln(w, "\n1 problem:")
	} else {
		fmt.Fprintf(w, "\n%d problems:\n", len(d.Problems))
	}
	for _, p := range d.Problems {
		fmt.Fprintf(w, "  - %s\n    fix: %s\n", p.Summary, p.Fix)
	}
}

func describeProcess(p *proc.Process, pid int) string {
	if p == nil {
		if pid > 0 {
			return fmt.Sprintf("PID %d (details not visible to this user)", pid)
		}
		return "an unknown process"
	}
	s := p.String()
	if p.User != "" {
		s += ", user " + p.User
	}
	if len(p.Cmdline) > 0 {
		s += ", command: " + strings.Join(p.Cmdline, " ")
	}
	return s
}
