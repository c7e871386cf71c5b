package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/client"
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
			port, p, err := portAndPaths(0)
			if err != nil {
				return err
			}
			h, addr, err := client.Probe(cmd.Context(), p)
			if err != nil {
				// Say what would get a daemon, which depends on who is
				// in the way: 'cairn start' fails beside another program.
				d := instance.Diagnose(cmd.Context(), p, port)
				if client.IsImpostor(err) {
					return exitcode.New(exitcode.PortInUse, fmt.Sprintf("%v; %s", err, nextStep(d)))
				}
				return exitcode.New(exitcode.Failure, "no Cairn daemon answers: "+statusLine(d))
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), schemaPort, portJSON{Addr: addr.String(), Port: int(addr.Port()), PID: h.PID})
			}
			fmt.Fprintln(cmd.OutOrStdout(), addr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the address as JSON")
	return cmd
}

// portJSON is `cairn port --json`.
type portJSON struct {
	Addr string `json:"addr"`
	Port int    `json:"port"`
	PID  int    `json:"pid"`
}

// nextStep says what to run about d, in a clause: what works, not only
// where to read more.
func nextStep(d instance.Diagnosis) string {
	switch d.State {
	case instance.StateRunning:
		return ""
	case instance.StateStopped:
		if d.DataDirUse.Problem != "" {
			// 'cairn start' would refuse it (exit 5).
			return fmt.Sprintf("'cairn start' refuses the data dir %s, which %s; to fix it: %s", d.DataDir, d.DataDirUse.Problem, d.DataDirUse.Fix)
		}
		return "run 'cairn start'"
	case instance.StateNotResponding:
		return "run 'cairn takeover' to replace it with a new daemon ('cairn doctor' says more)"
	}
	other := fmt.Sprintf("'cairn start --port %d' to run Cairn on another port", freePortAfter(d.Port))
	if d.Holder.CanTakeOver() {
		return "run 'cairn takeover' to stop it and start Cairn, or " + other
	}
	return "run " + other + " ('cairn doctor' says who holds it)"
}

// freePortAfter is the first port above port that nothing listens on now,
// for a suggestion; port+1 when none of the next few is free.
func freePortAfter(port int) int {
	for p := port + 1; p <= port+20 && p <= 65535; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p
		}
	}
	return port + 1
}
