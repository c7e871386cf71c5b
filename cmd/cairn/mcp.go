package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/mcpconfig"
	"github.com/cairnlabs/cairn/internal/exepath"
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
See 'cairn mcp config' for how to add it to a tool. The server is the
cairn-mcp program installed beside cairn, which this command becomes.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The flags, port and data dir are checked here, so a mistake
			// reads as it does for every other command.
			port, _, err := portAndPaths(port)
			if err != nil {
				return err
			}
			// Only beside this cairn: one on PATH could be another
			// install's, or a project's (AI tools start this in one).
			helper, err := exepath.Beside("cairn-mcp")
			if err != nil {
				return fmt.Errorf("%v; it comes with cairn in every package and archive ('make build' builds it)", err)
			}
			// The daemon it starts when none runs is this cairn, as when
			// the bridge ran in this process.
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this program's path: %w", err)
			}
			// name=value: a value that starts with '-' stays a value.
			args := []string{"--cairn=" + self, "--port=" + strconv.Itoa(port)}
			if cmd.Flags().Changed("project") {
				args = append(args, "--project="+project)
			}
			return runHelper(helper, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&project, "project", "p", "", "the project memories are written to (default: the git repository's folder name)")
	portFlag(cmd, &port)
	cmd.AddCommand(newMCPConfigCmd(), newMCPInstallCmd(true), newMCPInstallCmd(false))
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
			text, err := mcpconfig.Config(clientName, exe)
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

// clientTitle names a client the way its users do.
var clientTitle = map[string]string{"claude-desktop": "Claude Desktop", "cursor": "Cursor"}

// newMCPInstallCmd is `cairn mcp install`, or `cairn mcp uninstall` when
// install is false.
func newMCPInstallCmd(install bool) *cobra.Command {
	var clientName, configPath string
	cmd := &cobra.Command{
		Use:   "install --client claude-desktop|cursor [--config PATH]",
		Short: "Add 'cairn mcp' to Claude Desktop's or Cursor's config file",
		Long: `Add 'cairn mcp' to an AI tool's config file: sets mcpServers.cairn to this
binary's absolute path with the argument "mcp". Every other server and key
is kept, and so is every byte of the file outside that entry; the entry is
indented like the file around it. A missing file is created (0600). Before
writing, the previous file is kept beside it as <name>.bak, and the write is
atomic. Installing again changes nothing; an entry that runs another program
is pointed at this one (its other keys, such as "env", are kept). A file
that is not a JSON object (comments are not JSON) is refused and left alone.
Files:
  claude-desktop  Linux: $XDG_CONFIG_HOME/Claude/claude_desktop_config.json
                  (default ~/.config); macOS: ~/Library/Application
                  Support/Claude/claude_desktop_config.json; Windows:
                  %APPDATA%\Claude\claude_desktop_config.json
  cursor          ~/.cursor/mcp.json
For Claude Code and VS Code see 'cairn mcp config'.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configPath
			if _, ok := clientTitle[clientName]; !ok || path == "" {
				p, err := mcpconfig.ConfigPath(clientName)
				if !ok {
					if err == nil {
						err = fmt.Errorf("--client takes one of %s", strings.Join(mcpconfig.InstallClients, ", "))
					}
					return usage(err.Error())
				}
				if err != nil {
					return exitcode.New(exitcode.Failure, err.Error())
				}
				path = p
			}
			var change mcpconfig.Change
			var err error
			if install {
				exe, eerr := os.Executable()
				if eerr != nil {
					return fmt.Errorf("find this program's path: %w", eerr)
				}
				change, err = mcpconfig.InstallFile(path, exe)
			} else {
				change, err = mcpconfig.UninstallFile(path)
			}
			if err != nil {
				return exitcode.New(exitcode.Failure, err.Error())
			}
			printChange(cmd.OutOrStdout(), change, clientTitle[clientName])
			return nil
		},
	}
	if !install {
		cmd.Use = "uninstall --client claude-desktop|cursor [--config PATH]"
		cmd.Short = "Remove 'cairn mcp' from Claude Desktop's or Cursor's config file"
		cmd.Long = `Remove mcpServers.cairn from an AI tool's config file, and nothing else:
every other byte is kept (an emptied "mcpServers" stays, as {}). The
previous file is kept beside it as <name>.bak, and the write is atomic.
When there is no such entry (or no file) it says so and changes nothing.
The files are those of 'cairn mcp install --help'.`
	}
	cmd.Flags().StringVar(&clientName, "client", "", "claude-desktop or cursor")
	cmd.Flags().StringVar(&configPath, "config", "", "the config file to edit (default: the client's own, see above)")
	return cmd
}

// printChange says what InstallFile or UninstallFile did, and to which file.
func printChange(w io.Writer, c mcpconfig.Change, client string) {
	restart := "Restart " + client + " to pick up the change."
	switch c.Action {
	case mcpconfig.Installed:
		verb := "Added cairn to"
		if c.Created {
			verb = "Created"
		}
		fmt.Fprintf(w, "%s %s (mcpServers.cairn runs this cairn with \"mcp\").\n", verb, c.Path)
	case mcpconfig.Updated:
		was := ""
		if c.Previous != "" {
			was = " (it ran " + c.Previous + ")"
		}
		fmt.Fprintf(w, "Updated mcpServers.cairn in %s to run this cairn%s.\n", c.Path, was)
	case mcpconfig.AlreadyInstalled:
		fmt.Fprintf(w, "cairn is already installed in %s; nothing changed.\n", c.Path)
		return
	case mcpconfig.Removed:
		fmt.Fprintf(w, "Removed mcpServers.cairn from %s.\n", c.Path)
	case mcpconfig.NotInstalled:
		fmt.Fprintf(w, "cairn is not installed in %s; nothing changed.\n", c.Path)
		return
	}
	if c.Backup != "" {
		fmt.Fprintf(w, "The previous file is kept as %s.\n", c.Backup)
	}
	fmt.Fprintln(w, restart)
}
