package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/version"
	"github.com/cairnlabs/cairn/internal/update"
)

// exitUpdateAvailable is what `cairn version --check` exits with when a
// newer release is out (0: up to date, 1: the check failed), so a script
// can tell "newer" from "could not tell".
const exitUpdateAvailable = 10

func newVersionCmd() *cobra.Command {
	var asJSON, check bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print Cairn's version",
		Long: `Print Cairn's version.

With --check, ask the release feed (the one built in, or $CAIRN_UPDATE_URL)
whether a newer version is out, the way the tray does, and exit 0 when this
is the latest, 10 when an update is available, 1 when the check failed.
Nothing is downloaded.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if check {
				return checkForUpdate(cmd, asJSON)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), schemaVersion, versionJSON{
					Version: version.Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
				})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cairn %s (%s, %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version (or with --check, the check's answer) as JSON")
	cmd.Flags().BoolVar(&check, "check", false, "ask the release feed whether a newer version is out: exit 0 up to date, 10 update available, 1 check failed")
	return cmd
}

// versionJSON is `cairn version --json`.
type versionJSON struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// updateCheck is the --json answer of `cairn version --check`.
type updateCheck struct {
	Current         string `json:"current"`
	Latest          string `json:"latest"`
	URL             string `json:"url"`
	UpdateAvailable bool   `json:"update_available"`
}

// checkForUpdate runs one check. It uses the tray's cached answer for
// If-None-Match but never writes the file: the tray is its one writer.
func checkForUpdate(cmd *cobra.Command, asJSON bool) error {
	c := &update.Checker{URL: update.URL(), Current: version.Version, ReadOnly: true}
	if p, err := paths.Resolve(); err == nil {
		c.StateFile = p.UpdateState
	}
	res, err := c.Check(cmd.Context())
	if err != nil {
		return fmt.Errorf("update check failed: %w", err)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		if err := printJSON(out, schemaUpdateCheck, updateCheck{res.Current.String(), res.Latest.Tag, res.Latest.URL, res.Newer}); err != nil {
			return err
		}
	} else if res.Newer {
		fmt.Fprintf(out, "Update available: %s (this is %s)\n%s\n", res.Latest.Tag, version.Version, res.Latest.URL)
	} else {
		fmt.Fprintf(out, "cairn %s is up to date (latest release: %s)\n", version.Version, res.Latest.Tag)
	}
	if res.Newer {
		return &silentExit{exitUpdateAvailable}
	}
	return nil
}
