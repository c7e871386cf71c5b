package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
			switch {
			case len(args) == 0:
				return usage("cairn login-item needs one word: on, off or status")
			case len(args) > 1:
				return usage(fmt.Sprintf("cairn login-item takes one word (on, off or status), not %d: %s", len(args), strings.Join(args, " ")))
			case args[0] != "on" && args[0] != "off" && args[0] != "status":
				return usage(fmt.Sprintf("cairn login-item takes on, off or status, not %q", args[0]))
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
				return printJSON(out, schemaLoginItem, loginItemJSONOf(st, tray))
			}
			switch {
			case args[0] == "on" && before.Broken != "":
				fmt.Fprintf(out, "Cairn's tray starts at login again: %s starts %s (it started %s, which no longer exists).\n", st.Location, tray, before.Exe)
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
	j := loginItemJSONOf(st, tray)
	switch {
	case st.Broken != "":
		fmt.Fprintf(out, "on, but broken: %s (%s), so nothing starts at login\n", st.Location, st.Broken)
	case st.Enabled:
		fmt.Fprintf(out, "on: %s starts %s\n", st.Location, st.Exe)
	case st.Exe != "":
		fmt.Fprintf(out, "off: %s exists but is switched off\n", st.Location)
	default:
		fmt.Fprintln(out, "off (turn it on with 'cairn login-item on')")
	}
	if st.Note != "" {
		fmt.Fprintf(out, "note: %s\n", st.Note)
	}
	switch {
	case j.Fix != "":
		fmt.Fprintf(out, "fix: %s\n", j.Fix)
	case st.Exe != "" && !st.Current:
		fmt.Fprintf(out, "note: that is not the cairn-tray beside this cairn (%s); run 'cairn login-item on' to switch\n", tray)
	}
}

// loginItemJSON is `cairn login-item --json`, and the login item in
// `cairn doctor --json`.
type loginItemJSON struct {
	State     string          `json:"state"` // on, off, broken (on, but it starts a program that is gone)
	LoginItem loginitem.State `json:"login_item"`
	TrayBin   string          `json:"tray_bin"` // the cairn-tray beside this cairn (or --tray-bin)
	Fix       string          `json:"fix"`      // for a broken entry, in a sentence; "" otherwise

	fixCommand string // the same as a command alone, for doctor's "fix:" line
}

func loginItemJSONOf(st loginitem.State, tray string) loginItemJSON {
	j := loginItemJSON{State: "off", LoginItem: st, TrayBin: tray}
	switch {
	case st.Broken != "":
		j.State = "broken"
		if _, err := os.Stat(tray); err == nil {
			j.Fix = fmt.Sprintf("run 'cairn login-item on' to start %s instead", tray)
			j.fixCommand = "cairn login-item on"
		} else {
			j.Fix = "run 'cairn login-item on --tray-bin PATH' with the cairn-tray you run now, or 'cairn login-item off'"
			j.fixCommand = "cairn login-item on --tray-bin PATH   (or: cairn login-item off)"
		}
	case st.Enabled:
		j.State = "on"
	}
	return j
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
