package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
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
			return serveForeground(cmd.Context(), port, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&foreground, "foreground", false, "run in the foreground (the only mode; required)")
	portFlag(cmd, &port)
	return cmd
}

// serveForeground runs the daemon on port, a valid port (resolvePort's).
// execute calls it straight for the command line every supervisor writes
// (launch.Args), and the serve command for every other spelling.
func serveForeground(ctx context.Context, port int, stdout, stderr io.Writer) error {
	tagged := os.Getenv(instance.OutputTagEnv) != ""
	if tagged {
		stdout, stderr = instance.TagLines(stdout), instance.TagLines(stderr)
	}
	err := daemon.RunForeground(ctx, daemon.Options{Port: port, Stdout: stdout, Stderr: stderr})
	if err != nil && tagged {
		// The reason goes out tagged too, so the `cairn start` that
		// spawned us finds its own child's line among others'.
		fmt.Fprintf(stderr, "cairn: %v\n", err)
		return &silentExit{exitcode.Of(err)}
	}
	return err
}
