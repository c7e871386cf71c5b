package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/instance"
)

func newStartCmd() *cobra.Command {
	var port int
	var timeout time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the daemon in the background and wait until it is ready",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			res, err := instance.Start(cmd.Context(), p, instance.StartOptions{Port: port, Timeout: timeout})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return printJSON(out, schemaStart, res)
			case res.AlreadyRunning:
				fmt.Fprintf(out, "Cairn is already running at %s (PID %d).\n", res.Addr, res.PID)
			default:
				fmt.Fprintf(out, "Cairn is running at %s (PID %d). Logs: %s\n", res.Addr, res.PID, res.Log)
			}
			return nil
		},
	}
	portFlag(cmd, &port)
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Second, "how long to wait for the daemon to become ready")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
