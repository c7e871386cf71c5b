// Command cairn is Cairn's CLI and the daemon itself (`cairn serve
// --foreground`). Exit codes are a contract: see package exitcode.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/version"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	var quiet *silentExit
	if errors.As(err, &quiet) {
		return quiet.code
	}
	code := exitcode.Of(err)
	var usage *usageError
	if errors.As(err, &usage) || isCobraUsage(err) {
		code = exitcode.Usage
		fmt.Fprintf(stderr, "cairn: %v\nRun 'cairn --help' for usage.\n", err)
		return code
	}
	fmt.Fprintf(stderr, "cairn: %v\n", err)
	return code
}

// usageError is bad usage: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

// silentExit ends with a code after the command printed its own output.
type silentExit struct{ code int }

func (e *silentExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

// isCobraUsage recognises cobra's own argument errors, which it returns as
// plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument", "flag needs an argument"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "Cairn: a local memory daemon and its tools",
		Long: `Cairn runs a small local daemon that keeps a durable memory store for the
tools on this machine, reachable over a token-secured HTTP API on 127.0.0.1.

Run 'cairn start' to run it in the background, 'cairn status' to see it,
'cairn doctor' when something is wrong.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
	}
	root.SetVersionTemplate("cairn {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newServeCmd(),
		newStartCmd(),
		newStopCmd(),
		newStatusCmd(),
		newPortCmd(),
		newDoctorCmd(),
		newTakeoverCmd(),
		newServiceCmd(),
		newLoginItemCmd(),
		newVersionCmd(),
		newRememberCmd(),
		newRecallCmd(),
		newGetCmd(),
		newForgetCmd(),
		newTagsCmd(),
		newExportCmd(),
		newImportCmd(),
		newMCPCmd(),
		newOpenCmd(),
	)
	for _, c := range buildOnlyCommands {
		root.AddCommand(c())
	}
	return root
}

// buildOnlyCommands are hidden commands that only a build with a tag links
// (man.go: the man pages, for make dist).
var buildOnlyCommands []func() *cobra.Command

// portFlag adds --port, defaulting to CAIRN_PORT or 7070.
func portFlag(cmd *cobra.Command, port *int) {
	cmd.Flags().IntVar(port, "port", 0, "TCP port on 127.0.0.1 (default $CAIRN_PORT or 7070)")
}

// resolvePort applies the CAIRN_PORT default and validates the result; a
// bad value is bad usage (exit 2).
func resolvePort(flag int) (int, error) {
	port, err := daemon.ResolvePort(flag)
	if err != nil {
		return 0, &usageError{err}
	}
	return port, nil
}

func resolvePaths() (paths.Paths, error) {
	p, err := paths.Resolve()
	if err != nil {
		return p, exitcode.New(exitcode.DataDirBad, err.Error())
	}
	return p, nil
}

// portAndPaths resolves what nearly every command needs first: the port
// (flag, then CAIRN_PORT, then the default) and the data dir's paths.
func portAndPaths(flag int) (int, paths.Paths, error) {
	port, err := resolvePort(flag)
	if err != nil {
		return 0, paths.Paths{}, err
	}
	p, err := resolvePaths()
	return port, p, err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
