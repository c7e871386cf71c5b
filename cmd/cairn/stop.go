package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/instance"
)

func newStopCmd() *cobra.Command {
	var timeout time.Duration
	var force, asJSON bool
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the daemon gracefully (--force kills it if it hangs)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := resolvePaths()
			if err != nil {
				return err
			}
			// A daemon that systemd or launchd runs is stopped through them:
			// killing it would only get it respawned.
			res, err := instance.Stop(cmd.Context(), p, instance.StopOptions{Timeout: timeout, Force: force, Services: instance.DefaultServices()})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return printJSON(out, schemaStop, stopOf(res))
			case !res.WasRunning && res.Cleaned:
				fmt.Fprintln(out, "Cairn is not running (removed the files a stopped daemon left behind).")
			case !res.WasRunning:
				fmt.Fprintln(out, "Cairn is not running.")
			case res.Method == "service":
				fmt.Fprintf(out, "Cairn (PID %d) stopped through the %s; 'cairn service start' starts it again.\n", res.PID, res.Service)
			case res.Method == "kill":
				fmt.Fprintf(out, "Cairn (PID %d) did not stop in time and was killed.\n", res.PID)
			default:
				fmt.Fprintf(out, "Cairn (PID %d) stopped.\n", res.PID)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for the daemon to exit")
	cmd.Flags().BoolVar(&force, "force", false, "kill the daemon if it does not exit within --timeout")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
