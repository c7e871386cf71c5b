package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/internal/opener"
)

func newOpenCmd() *cobra.Command {
	var print bool
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Open the dashboard in a browser (signed in with a one-time link)",
		Long: `Open the dashboard in the default browser, starting the daemon if none
answers. The link signs the browser in once, within a minute, and is then
spent; the browser keeps a session until the daemon restarts or it goes
12 hours unused.

With --print, print the link instead of opening it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			defer c.CloseIdle()
			s, err := c.Session(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			if print {
				fmt.Fprintln(cmd.OutOrStdout(), s.URL)
				return nil
			}
			if err := openBrowser(cmd.Context(), s.URL); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "cairn: could not open a browser (%v); open this link yourself within %d seconds:\n", err, s.ExpiresIn)
				fmt.Fprintln(cmd.OutOrStdout(), s.URL)
				return nil
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "cairn: opened the dashboard in your browser")
			return nil
		},
	}
	cmd.Flags().BoolVar(&print, "print", false, "print the one-time link instead of opening a browser")
	return cmd
}

// openBrowser starts the OS's opener for url and reports its failure when it fails
// quickly (no browser, no display). One that is still running after a few
// seconds is taken to have started the browser and is left to it.
func openBrowser(ctx context.Context, url string) error {
	cmd := opener.Command(url)
	name := cmd.Args[0]
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	}
}
