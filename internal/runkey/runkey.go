// Package runkey keeps one per-user logon entry on Windows: a value of
// HKCU\Software\Microsoft\Windows\CurrentVersion\Run, the place Explorer reads
// at logon to start programs for this user without admin rights. It also
// honours the user's own switch for the entry in Task Manager's Startup tab
// (the StartupApproved key), so "on" means the program really starts.
//
// The registry is reached through the Registry interface: the logic is tested
// on every OS with a fake, and the real HKCU lives in registry_windows.go.
// Both the tray's login item and the daemon's Windows service mode use it.
package runkey

import (
	"errors"
	"fmt"
	"strings"
)

// Keys under HKEY_CURRENT_USER.
const (
	RunKey      = `Software\Microsoft\Windows\CurrentVersion\Run`
	ApprovedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Registry is the part of HKEY_CURRENT_USER this package needs. Keys are
// paths under HKCU; a missing key or value reads as ok == false, not an error.
type Registry interface {
	String(key, name string) (value string, ok bool, err error)
	SetString(key, name, value string) error // creates the key when missing
	Binary(key, name string) (value []byte, ok bool, err error)
	Delete(key, name string) error // a missing key or value is not an error
}

// Entry is one named value under the Run key.
type Entry struct {
	Name string // the value name, shown in Task Manager's Startup tab
	Reg  Registry
}

// State is what Windows will do at the next logon for an Entry.
type State struct {
	Present bool     // the Run value exists
	Command string   // its command line, as stored
	Args    []string // the command line split the way Windows splits it
	// Disabled means the user switched the entry off in Task Manager (or
	// Settings > Apps > Startup): Windows keeps the Run value but skips it.
	Disabled bool
}

// Enabled reports whether the program starts at the next logon.
func (s State) Enabled() bool { return s.Present && !s.Disabled }

// Read returns the entry's state.
func (e Entry) Read() (State, error) {
	var s State
	cmd, ok, err := e.Reg.String(RunKey, e.Name)
	if err != nil {
		return s, fmt.Errorf(`read HKCU\%s\%s: %w`, RunKey, e.Name, err)
	}
	if !ok {
		return s, nil
	}
	s.Present, s.Command, s.Args = true, cmd, Split(cmd)
	b, ok, err := e.Reg.Binary(ApprovedKey, e.Name)
	if err != nil {
		return s, fmt.Errorf(`read HKCU\%s\%s: %w`, ApprovedKey, e.Name, err)
	}
	// The first byte's low bit marks "disabled" (02 enabled, 03 disabled;
	// the rest is the time of the switch). No value means enabled.
	s.Disabled = ok && len(b) > 0 && b[0]&1 == 1
	return s, nil
}

// Write makes the entry run command at logon, and clears a "disabled" switch
// the user set in Task Manager: writing is the user asking for it to be on.
// It reports whether anything changed; writing the same enabled command
// twice changes nothing.
func (e Entry) Write(command string) (changed bool, err error) {
	if strings.ContainsAny(command, "\x00\r\n") {
		return false, fmt.Errorf("command line %q contains a control character", command)
	}
	s, err := e.Read()
	if err != nil {
		return false, err
	}
	if s.Present && s.Command != command {
		s.Present = false
	}
	if !s.Present {
		if err := e.Reg.SetString(RunKey, e.Name, command); err != nil {
			return false, fmt.Errorf(`write HKCU\%s\%s: %w`, RunKey, e.Name, err)
		}
		changed = true
	}
	if s.Disabled {
		if err := e.Reg.Delete(ApprovedKey, e.Name); err != nil {
			return changed, fmt.Errorf(`clear the Task Manager switch HKCU\%s\%s: %w`, ApprovedKey, e.Name, err)
		}
		changed = true
	}
	return changed, nil
}

// Remove deletes the entry and its Task Manager switch. Removing an entry
// that does not exist is not an error.
func (e Entry) Remove() error {
	if err := e.Reg.Delete(RunKey, e.Name); err != nil {
		return fmt.Errorf(`delete HKCU\%s\%s: %w`, RunKey, e.Name, err)
	}
	if err := e.Reg.Delete(ApprovedKey, e.Name); err != nil {
		return fmt.Errorf(`delete HKCU\%s\%s: %w`, ApprovedKey, e.Name, err)
	}
	return nil
}

// ErrUnsupported is returned by Default on systems without a Windows registry.
var ErrUnsupported = errors.New("the Windows registry is only available on Windows")

// CommandLine joins args into one Windows command line that
// CommandLineToArgvW (and so every Go and C program) splits back into args.
// The program path must not contain a double quote, which Windows paths
// cannot hold anyway.
func CommandLine(args ...string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("empty command line")
	}
	if strings.Contains(args[0], `"`) {
		return "", fmt.Errorf("program path %q contains a double quote", args[0])
	}
	var b strings.Builder
	// The program path is split by simpler rules (no backslash escapes), so
	// it is always quoted and never escaped.
	b.WriteString(`"` + args[0] + `"`)
	for _, a := range args[1:] {
		b.WriteByte(' ')
		b.WriteString(escapeArg(a))
	}
	return b.String(), nil
}

// escapeArg quotes one argument by the CommandLineToArgvW rules: inside
// quotes, backslashes are literal except before a quote, where 2n
// backslashes mean n and 2n+1 mean n plus a literal quote.
func escapeArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes)) // before the closing quote
	b.WriteByte('"')
	return b.String()
}

// Split splits a command line the way CommandLineToArgvW does.
func Split(cmdline string) []string {
	var args []string
	s := strings.TrimLeft(cmdline, " \t")
	if s == "" {
		return nil
	}
	// The program name: up to the closing quote, or the first blank.
	if s[0] == '"' {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return []string{s[1:]}
		}
		args = append(args, s[1:1+end])
		s = s[2+end:]
	} else {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return []string{s}
		}
		args = append(args, s[:end])
		s = s[end:]
	}
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return args
		}
		var b strings.Builder
		inQuote := false
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' {
				j := i
				for j < len(s) && s[j] == '\\' {
					j++
				}
				n := j - i
				switch {
				case j < len(s) && s[j] == '"' && n%2 == 1:
					b.WriteString(strings.Repeat(`\`, n/2))
					b.WriteByte('"') // an escaped, literal quote
					i = j
				case j < len(s) && s[j] == '"':
					b.WriteString(strings.Repeat(`\`, n/2))
					i = j - 1 // the quote itself opens or closes quoting
				default:
					b.WriteString(strings.Repeat(`\`, n))
					i = j - 1
				}
				continue
			}
			if c == '"' {
				if inQuote && i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"') // "" inside quotes is a literal quote
					i++
					continue
				}
				inQuote = !inQuote
				continue
			}
			if !inQuote && (c == ' ' || c == '\t') {
				break
			}
			b.WriteByte(c)
		}
		args = append(args, b.String())
		s = s[i:]
	}
}
