package main

import (
	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon"
)

func newServeCmd() *cobra.Command {
	var foreground bool
	var port int
	cmd := &cobra.Command{
		Use:   "serve --foreground",
		Short: "Run the daemon in this process (for the tray, launchd, systemd)",
		Long: `Run the daemon in this process until SIGINT, SIGTERM or POST /v1/shutdown.

It holds the lock <data dir>/daemon.lock for its whole life, binds exactly
127.0.0.1:<port> (never another port), and writes its address to the
discovery files as soon as it binds.

Exit codes: 0 clean shutdown or a healthy daemon already runs, 1 other
failure, 2 bad usage, 3 port already in use, 4 lock held by another live
process, 5 data dir unusable.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !foreground {
				return usage("cairn serve runs the daemon in this terminal; pass --foreground, or use 'cairn start' to run it in the background")
			}
			port, err := resolvePort(port)
			if err != nil {
				return err
			}
			return daemon.RunForeground(cmd.Context(), daemon.Options{
				Port:   port,
				Stdout: cmd.OutOrStdout(),
				Stderr: cmd.ErrOrStderr(),
			})
		},
	}
	cmd.Flags().BoolVar(&foreground, "foreground", false, "run in the foreground (the only mode; required)")
	portFlag(cmd, &port)
	return cmd
}
