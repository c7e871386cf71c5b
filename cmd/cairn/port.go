package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
)

func newPortCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "port",
		Short: "Print the address of the running daemon (exit 1 when none answers)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := resolvePaths()
			if err != nil {
				return err
			}
			pid, addr, ok := instance.Healthy(cmd.Context(), p)
			if !ok {
				return exitcode.New(exitcode.Failure, "no Cairn daemon answers; run 'cairn start' (or 'cairn doctor' to see why)")
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"addr": addr.String(), "port": addr.Port(), "pid": pid})
			}
			fmt.Fprintln(cmd.OutOrStdout(), addr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the address as JSON")
	return cmd
}
