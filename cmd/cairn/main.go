// Command cairn is Cairn's CLI and the daemon itself (`cairn serve
// --foreground`). Exit codes are a contract: see package exitcode.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/version"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code. A failure is
// one sentence on stderr ("cairn: ..."), followed by where to read the
// usage only when the command line itself was wrong. A command run with
// --json reports its failure as a cairn.error/v1 object on stdout instead,
// so a script reads one JSON document whatever happened.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, err := execute(ctx, args, stdout, stderr)
	if err == nil {
		return exitcode.OK
	}
	var quiet *silentExit
	if errors.As(err, &quiet) {
		return quiet.code
	}
	code := exitcode.Of(err)
	var usage *usageError
	// Cobra's own usage errors are known by their text, so only where
	// cobra ran (cmd is nil when execute ran the daemon without it).
	isUsage := errors.As(err, &usage) || cmd != nil && isCobraUsage(err)
	if isUsage {
		code = exitcode.Usage
	}
	if m := cobraUnknown.FindStringSubmatch(err.Error()); m != nil && cmd != nil {
		err = unknownCommand(cmd, m[1])
	}
	if cmd != nil && (wantsJSON(cmd) || isUsage && asksJSON(cmd, args)) {
		if printJSON(stdout, schemaError, errorJSON{Error: err.Error(), ExitCode: code, Usage: isUsage}) == nil {
			return code
		}
	}
	fmt.Fprintf(stderr, "cairn: %v\n", err)
	if isUsage {
		path := "cairn"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", path)
	}
	return code
}

// execute runs the command args names. The daemon's command line as every
// supervisor writes it (launch.Args) goes straight to the daemon, and cmd
// is nil then: building the CLI's command tree and parsing it first took
// ~0.2 ms of the daemon's ~5.5 ms start-to-ready (docs/ARCHITECTURE.md, "A
// ninth look"). Every other command line (another spelling of serve:
// without --port, --port=N, the flags in another order) goes through
// cobra, whose serve command does the same.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) (*cobra.Command, error) {
	if port, ok := launch.ParseArgs(args); ok {
		return nil, serveForeground(ctx, port, stdout, stderr)
	}
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContextC(ctx)
}

// cobraUnknown is cobra's error for an unknown subcommand, which carries
// its suggestions on lines of their own.
var cobraUnknown = regexp.MustCompile(`^unknown command "(.*?)" for "`)

// unknownCommand is the one-sentence error for `cmd name` when cmd has no
// subcommand name, with the subcommands it may have meant.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("%s has no command %q", cmd.CommandPath(), name)
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // what cobra uses for the root
	}
	var near []string
	for _, s := range cmd.SuggestionsFor(name) {
		near = append(near, "'"+cmd.CommandPath()+" "+s+"'")
	}
	switch len(near) {
	case 0:
	case 1:
		msg += "; did you mean " + near[0] + "?"
	default:
		msg += "; did you mean " + strings.Join(near[:len(near)-1], ", ") + " or " + near[len(near)-1] + "?"
	}
	return &usageError{errors.New(msg)}
}

// wantsJSON reports whether cmd was given --json.
func wantsJSON(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}

// asksJSON reports whether args hold --json for cmd, which takes it: a
// flag that fails to parse stops cobra before a --json after it, which
// must still get its JSON answer.
func asksJSON(cmd *cobra.Command, args []string) bool {
	if cmd.Flags().Lookup("json") == nil {
		return false
	}
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}

// usageError is bad usage: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

// silentExit ends with a code after the command printed its own output.
type silentExit struct{ code int }

func (e *silentExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

// isCobraUsage recognises cobra's own errors about the command line, which
// it returns as plain errors (an unknown subcommand).
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
	root.SetFlagErrorFunc(flagError)
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
