package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/tray/loginitem"
)

func newLoginItemCmd() *cobra.Command {
	var trayBin string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "login-item on|off|status",
		Short: "Start Cairn's tray at login, or not",
		Long: `Switch starting Cairn's tray (cairn-tray) at login on or off, or show the
setting. It is the same setting as the tray's "Start at login" checkbox and the
desktop's own startup settings: an XDG autostart entry on Linux
(~/.config/autostart/cairn-tray.desktop), a LaunchAgent on macOS
(~/Library/LaunchAgents/com.cairnlabs.cairn-tray.plist), the HKCU Run key on
Windows. The tray binary is found beside cairn unless --tray-bin says where.

To run the daemon at login without the tray, see 'cairn service'.`,
		ValidArgs: []string{"on", "off", "status"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "on" && args[0] != "off" && args[0] != "status") {
				return usage(fmt.Sprintf("login-item takes one of on, off, status; got %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			tray, err := trayPath(trayBin)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			before, err := loginitem.Status(tray)
			if err != nil {
				return exitcode.New(exitcode.Failure, "read the login item: "+err.Error())
			}
			switch args[0] {
			case "on":
				if _, err := os.Stat(tray); err != nil {
					return exitcode.New(exitcode.Failure, fmt.Sprintf(
						"cairn-tray is not at %s (looked beside cairn); pass --tray-bin PATH", tray))
				}
				if err := loginitem.Enable(tray); err != nil {
					return exitcode.New(exitcode.Failure, "turn the login item on: "+err.Error())
				}
			case "off":
				if err := loginitem.Disable(); err != nil {
					return exitcode.New(exitcode.Failure, "turn the login item off: "+err.Error())
				}
			}
			st, err := loginitem.Status(tray)
			if err != nil {
				return exitcode.New(exitcode.Failure, "read the login item: "+err.Error())
			}
			if asJSON {
				return printJSON(out, map[string]any{"login_item": st, "tray_bin": tray})
			}
			switch {
			case args[0] == "on" && before.Enabled && before.Current:
				fmt.Fprintf(out, "Cairn's tray already starts at login (%s).\n", st.Location)
			case args[0] == "on" && before.Enabled:
				fmt.Fprintf(out, "Cairn's tray starts at login; updated %s from %s to %s.\n", st.Location, before.Exe, tray)
			case args[0] == "on":
				fmt.Fprintf(out, "Cairn's tray now starts at login (%s starts %s).\n", st.Location, tray)
			case args[0] == "off" && !before.Enabled:
				fmt.Fprintln(out, "Cairn's tray was not starting at login; nothing changed.")
			case args[0] == "off":
				fmt.Fprintln(out, "Cairn's tray no longer starts at login.")
			default:
				printLoginItem(cmd, st, tray)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&trayBin, "tray-bin", "", "path of cairn-tray (default: beside cairn)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the setting as JSON")
	return cmd
}

func printLoginItem(cmd *cobra.Command, st loginitem.State, tray string) {
	out := cmd.OutOrStdout()
	switch {
	case st.Enabled:
		fmt.Fprintf(out, "on: %s starts %s\n", st.Location, st.Exe)
	case st.Exe != "":
		fmt.Fprintf(out, "off: %s exists but is switched off\n", st.Location)
	default:
		fmt.Fprintf(out, "off (turn it on with: cairn login-item on)\n")
	}
	if st.Note != "" {
		fmt.Fprintf(out, "note: %s\n", st.Note)
	}
	if st.Exe != "" && !st.Current {
		if _, err := os.Stat(st.Exe); err != nil {
			fmt.Fprintf(out, "note: %s no longer exists; run 'cairn login-item on' to start %s instead\n", st.Exe, tray)
		} else {
			fmt.Fprintf(out, "note: that is not the cairn-tray beside this cairn (%s); run 'cairn login-item on' to switch\n", tray)
		}
	}
}

// trayPath is --tray-bin made absolute, or cairn-tray beside this cairn
// binary (with the same extension, .exe on Windows).
func trayPath(flag string) (string, error) {
	if flag != "" {
		abs, err := filepath.Abs(flag)
		if err != nil {
			return "", usage(fmt.Sprintf("--tray-bin %q: %v", flag, err))
		}
		return abs, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", exitcode.New(exitcode.Failure, fmt.Sprintf("find this cairn binary: %v; pass --tray-bin PATH", err))
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real // a symlink in /usr/local/bin: look beside the real binary
	}
	return filepath.Join(filepath.Dir(self), "cairn-tray"+filepath.Ext(self)), nil
}
