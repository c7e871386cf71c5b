package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
)

func newStatusCmd() *cobra.Command {
	var port int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the daemon runs (exit 0) or not (exit 3)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			d := instance.Status(cmd.Context(), p, port)
			out := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(out, schemaStatus, statusOf(d)); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(out, statusLine(d))
			}
			if d.State != instance.StateRunning {
				return &silentExit{exitcode.PortInUse}
			}
			return nil
		},
	}
	portFlag(cmd, &port)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func statusLine(d instance.Diagnosis) string {
	switch d.State {
	case instance.StateRunning:
		line := fmt.Sprintf("running at %s (PID %d, version %s, up %s)", d.Addr, d.Daemon.PID, d.Daemon.Version,
			formatUptime(time.Duration(d.Daemon.Uptime*float64(time.Second))))
		if d.Service != nil && d.Service.Name != "" {
			line += ", run by the " + d.Service.String()
		}
		return line
	case instance.StateNotResponding:
		return fmt.Sprintf("not responding: the Cairn daemon %s holds the lock but does not answer; %s", d.Lock.Holder, nextStep(d))
	case instance.StateConflict:
		if len(d.PortHolders) > 0 {
			return fmt.Sprintf("conflict: port %d is in use by %s; %s", d.Port, proc.DescribeHolders(d.PortHolders), nextStep(d))
		}
		return fmt.Sprintf("conflict: the daemon lock is held by %s; %s", d.Lock.Holder, nextStep(d))
	default:
		// A daemon killed with -9 leaves its address behind, and whoever
		// took that port since is named: the port Cairn starts on is free,
		// but a tool that reads the stale file would meet the other program.
		if d.Impostor != nil {
			return fmt.Sprintf("stopped (the discovery file still names %s, where another program answers like Cairn but is not your daemon: %s; nothing was sent to it); %s",
				d.Impostor.Addr, d.Impostor.Reason, nextStep(d))
		}
		return "stopped; " + nextStep(d)
	}
}

// formatUptime prints "2 h 3 min", "4 min 5 s" or "6 s".
func formatUptime(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %d s", m, s)
	default:
		return fmt.Sprintf("%d s", s)
	}
}
