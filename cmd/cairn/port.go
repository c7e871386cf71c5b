package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/exitcode"
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
			h, addr, err := client.Probe(cmd.Context(), p)
			if client.IsImpostor(err) {
				return exitcode.New(exitcode.PortInUse, err.Error()+"; run 'cairn doctor' to see who holds the port")
			}
			if err != nil {
				return exitcode.New(exitcode.Failure, "no Cairn daemon answers; run 'cairn start' (or 'cairn doctor' to see why)")
			}
			pid := h.PID
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
