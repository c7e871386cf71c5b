//go:build cairn_man

package main

// Built only by make dist (go build -tags cairn_man): a hidden command that
// writes the man pages of the whole command tree with cobra/doc, so the
// shipped cairn does not link the man page generator.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() {
	buildOnlyCommands = append(buildOnlyCommands, newManCmd)
}

func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "__man DIR",
		Short:  "Write the man pages into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Dated from the commit, never the clock: the packages are
			// reproducible.
			date := time.Unix(0, 0).UTC()
			if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
				}
				date = time.Unix(n, 0).UTC()
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			escapeForMarkdown(root)
			header := &doc.GenManHeader{Title: "CAIRN", Section: "1", Source: "Cairn " + root.Version, Manual: "Cairn Manual", Date: &date}
			return doc.GenManTree(root, header, args[0])
		},
	}
}

// escapeForMarkdown backslash-escapes the angle brackets in every command's
// help text: cobra/doc reads it as Markdown, where "<data dir>" or
// "127.0.0.1:<port>" would be dropped as HTML tags.
func escapeForMarkdown(c *cobra.Command) {
	esc := strings.NewReplacer("<", `\<`, ">", `\>`)
	c.Short, c.Long, c.Example = esc.Replace(c.Short), esc.Replace(c.Long), esc.Replace(c.Example)
	for _, sub := range c.Commands() {
		escapeForMarkdown(sub)
	}
}
