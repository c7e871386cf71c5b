package main

import (
	"fmt"
	"log/slog"
	"os"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/mcp"
	"github.com/cairnlabs/cairn/daemon/version"
)

func newMCPCmd() *cobra.Command {
	var project string
	var port int
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve Cairn's memory to an AI tool over MCP (stdio)",
		Long: `Serve Cairn's memory to an AI tool: a Model Context Protocol server on
standard input and output. Tools: remember, recall, recent, get, update,
forget, tags. Each tool call is one request to the daemon, which is started
when none runs. Memories written are stamped with the project (by default
the name of the git repository the tool runs in) and the tool's name.

Standard output carries only the protocol; logs go to standard error.
See 'cairn mcp config' for how to add it to a tool.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			port, p, err := portAndPaths(port)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			log := slog.New(slog.NewTextHandler(stderr, nil)).With("cmd", "cairn mcp")
			// The SDK says "session connected" and the like at Info.
			sdkLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("cmd", "cairn mcp")
			if !cmd.Flags().Changed("project") {
				if wd, err := os.Getwd(); err == nil {
					project = mcp.Project(wd)
				}
			}
			d := mcp.NewDaemon(p, port, log)
			defer d.Close()
			s := mcp.NewServer(mcp.Options{Daemon: d, Project: project, Version: version.Version, Log: sdkLog})
			log.Info("serving MCP on stdio", "project", project, "data_dir", p.DataDir)
			return s.Run(cmd.Context(), &sdk.StdioTransport{})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&project, "project", "p", "", "the project memories are written to (default: the git repository's folder name)")
	portFlag(cmd, &port)
	cmd.AddCommand(newMCPConfigCmd())
	return cmd
}

func newMCPConfigCmd() *cobra.Command {
	var clientName string
	cmd := &cobra.Command{
		Use:   "config --client claude-code|claude-desktop|cursor|vscode",
		Short: "Print how to add 'cairn mcp' to an AI tool",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this program's path: %w", err)
			}
			text, err := mcp.Config(clientName, exe)
			if err != nil {
				return usage(err.Error())
			}
			fmt.Fprint(cmd.OutOrStdout(), text)
			return nil
		},
	}
	cmd.Flags().StringVar(&clientName, "client", "", "claude-code, claude-desktop, cursor or vscode")
	return cmd
}
