// Command cairn-mcp is the MCP server behind `cairn mcp`: Cairn's memory
// for an AI tool, over standard input and output. `cairn mcp` runs it (it
// replaces itself with this program), so AI tools are set up with
// `cairn mcp`; running cairn-mcp directly works the same.
//
// It is a program of its own so that cairn, which every command and the
// daemon run, does not link the MCP SDK: its package inits alone (gob and
// a JSON Schema library among them) cost every start of cairn ~0.45 ms and
// the daemon ~2 MB of memory (docs/ARCHITECTURE.md, "An eighth look").
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/pflag"

	"github.com/cairnlabs/cairn/daemon"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/mcp"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/version"
	"github.com/cairnlabs/cairn/internal/exepath"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run serves MCP on standard input and output until the client closes its
// end, and returns the exit code. Messages go to stderr, which is the
// tool's log; they read as `cairn mcp`'s, the command people run.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := pflag.NewFlagSet("cairn mcp", pflag.ContinueOnError)
	f.SetOutput(io.Discard) // errors are printed below, in Cairn's form
	project := f.StringP("project", "p", "", "the project memories are written to (default: the git repository's folder name)")
	port := f.Int("port", 0, "TCP port on 127.0.0.1 (default $CAIRN_PORT or 7070)")
	showVersion := f.Bool("version", false, "print the version and exit")
	// `cairn mcp` names itself: the daemon started when none runs is the
	// cairn the AI tool ran, as when the bridge lived in that process.
	cairn := f.String("cairn", "", "the cairn binary to start the daemon with (default: the one beside this program, else on PATH)")
	f.MarkHidden("cairn")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: cairn-mcp [--project P] [--port N] [--version]\n\nThe MCP server that 'cairn mcp' runs; see 'cairn mcp --help'.")
			return exitcode.OK
		}
		fmt.Fprintf(stderr, "cairn: %v\nRun 'cairn mcp --help' for usage.\n", err)
		return exitcode.Usage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "cairn-mcp %s\n", version.Version)
		return exitcode.OK
	}
	if f.NArg() > 0 {
		fmt.Fprintf(stderr, "cairn: cairn mcp takes no arguments, got %q\nRun 'cairn mcp --help' for usage.\n", f.Args())
		return exitcode.Usage
	}
	n, err := daemon.ResolvePort(*port)
	if err != nil {
		fmt.Fprintf(stderr, "cairn: %v\n", err)
		return exitcode.Usage
	}
	p, err := paths.Resolve()
	if err != nil {
		fmt.Fprintf(stderr, "cairn: %v\n", err)
		return exitcode.DataDirBad
	}
	if !f.Changed("project") {
		if wd, err := os.Getwd(); err == nil {
			*project = mcp.Project(wd)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("cmd", "cairn mcp")
	// The SDK says "session connected" and the like at Info.
	sdkLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("cmd", "cairn mcp")
	d := mcp.NewDaemon(p, n, log)
	d.Exe = *cairn
	if d.Exe == "" {
		if d.Exe, err = exepath.BesideOrOnPath("cairn"); err != nil {
			d.NoExe = fmt.Errorf("%w; install Cairn whole (cairn and cairn-mcp come together)", err)
			log.Warn("no cairn to start the daemon with; a running one is used", "err", err)
		}
	}
	defer d.Close()
	s := mcp.NewServer(mcp.Options{Daemon: d, Project: *project, Version: version.Version, Log: sdkLog})
	log.Info("serving MCP on stdio", "project", *project, "data_dir", p.DataDir)
	if err := s.Run(ctx, &sdk.StdioTransport{}); err != nil {
		fmt.Fprintf(stderr, "cairn: %v\n", err)
		return exitcode.Of(err)
	}
	return exitcode.OK
}
