package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
)

func newTakeoverCmd() *cobra.Command {
	var port int
	var yes, asJSON bool
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "takeover",
		Short: "Stop whoever holds Cairn's port or lock, then start Cairn",
		Long: `Stop whoever holds Cairn's port or lock, then start Cairn's own daemon.

A healthy Cairn daemon is drained through its API; one that systemd or
launchd runs is stopped through them (systemctl --user stop, launchctl
bootout), since they would respawn a daemon that is only killed; a Cairn
daemon that does not answer is killed; another program of yours on the
port gets SIGTERM, then SIGKILL after --grace; stale files are removed. Processes of other
users, the system, PID 1 and this terminal are never signalled. Asks first
unless --yes.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			h := instance.Classify(instance.Diagnose(cmd.Context(), p, port))
			if !h.CanTakeOver() && h.Kind != instance.HolderNone {
				return exitcode.New(exitcode.Failure, "nothing was stopped: "+h.Reason)
			}
			if h.Kind == instance.HolderCairn || h.Kind == instance.HolderWedged || h.Kind == instance.HolderForeign || h.Kind == instance.HolderService {
				if !yes {
					if !isTerminal(os.Stdin) {
						return usage(h.Reason + "; takeover stops it only when confirmed, and there is no terminal to ask: pass --yes to confirm")
					}
					// The question is for a person: with --json it stays
					// off stdout, which carries one JSON document.
					ask := out
					if asJSON {
						ask = cmd.ErrOrStderr()
					}
					fmt.Fprintf(ask, "%s.\nStop it and start Cairn? [y/N] ", capitalize(h.Reason))
					answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
					if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
						if asJSON {
							return exitcode.New(exitcode.Failure, "not confirmed; nothing was stopped")
						}
						fmt.Fprintln(out, "Nothing changed.")
						return &silentExit{1}
					}
				}
			}
			// The engine looks again and stops only the holder asked about
			// (or --yes'd): one that changed meanwhile is refused.
			what, err := instance.Takeover(cmd.Context(), p, port, instance.TakeoverOptions{Grace: grace, Expect: &h})
			if err != nil {
				return exitcode.New(exitcode.Failure, "takeover failed: "+err.Error())
			}
			res, err := instance.Start(cmd.Context(), p, instance.StartOptions{Port: port})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(out, schemaTakeover, takeoverResultJSON{Holder: takeoverOf(h), Did: what, PID: res.PID, Addr: res.Addr})
			}
			fmt.Fprintf(out, "%s\nCairn is running at %s (PID %d).\n", what, res.Addr, res.PID)
			return nil
		},
	}
	portFlag(cmd, &port)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().DurationVar(&grace, "grace", 5*time.Second, "how long a stopped process gets between SIGTERM and SIGKILL")
	return cmd
}

// isTerminal is a real isatty: /dev/null is a character device too.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// takeoverResultJSON is `cairn takeover --json`: who was in the way, what
// was done about it, and the daemon that serves now.
type takeoverResultJSON struct {
	Holder takeoverJSON `json:"holder"`
	Did    string       `json:"did"` // in a sentence
	PID    int          `json:"pid"`
	Addr   string       `json:"addr"`
}
