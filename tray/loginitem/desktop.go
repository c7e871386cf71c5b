package loginitem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/internal/exepath"
)

// DesktopFileName is the tray's XDG autostart entry, in
// $XDG_CONFIG_HOME/autostart (the user's) or $XDG_CONFIG_DIRS/autostart
// (installed system-wide by a package).
const DesktopFileName = "cairn-tray.desktop"

// DesktopFile returns the autostart entry that starts exe at login. Exec
// holds the path quoted by the Desktop Entry spec: inside double quotes, `"`,
// "`", `$` and `\` take a backslash; `%` is doubled (field codes); then the
// whole value gets the string escapes, which double every backslash again.
// TryExec makes the desktop skip the entry quietly once exe is gone.
func DesktopFile(exe string) (string, error) {
	if err := checkChars(exe); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("# Written by Cairn: `cairn login-item on|off` or the tray's \"Start at login\".\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Version=1.0\n")
	b.WriteString("Name=Cairn\n")
	b.WriteString("Comment=Cairn tray: keeps the local memory daemon running\n")
	b.WriteString("Exec=" + escapeString(quoteExecArg(exe)) + "\n")
	b.WriteString("TryExec=" + escapeString(exe) + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.String(), nil
}

// quoteExecArg quotes one Exec argument (the quoting rule, before string escapes).
func quoteExecArg(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
		case '%':
			b.WriteByte('%')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// escapeString applies the spec's escapes for values of type string.
func escapeString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	s = r.Replace(s)
	if strings.HasPrefix(s, " ") {
		s = `\s` + s[1:] // a leading space would be trimmed
	}
	return s
}

// unescapeString undoes escapeString. An unknown escape is kept as it is,
// so `\$` written by a tool that escaped only once still reaches the
// quoting rule intact.
func unescapeString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// SplitExec splits an Exec value (already string-unescaped) into arguments
// by the spec's quoting rule, expands %% to % and drops field codes such as
// %U, which a login item never receives.
func SplitExec(exec string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg, inQuote := false, false
	for i := 0; i < len(exec); i++ {
		c := exec[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(exec):
			i++
			cur.WriteByte(exec[i])
		case c == '"':
			inQuote, inArg = !inQuote, true
		case !inQuote && (c == ' ' || c == '\t' || c == '\n'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unbalanced quotes in Exec=%s", exec)
	}
	if inArg {
		args = append(args, cur.String())
	}
	out := args[:0]
	for _, a := range args {
		if len(a) == 2 && a[0] == '%' && a != "%%" {
			continue // a field code
		}
		out = append(out, strings.ReplaceAll(a, "%%", "%"))
	}
	if len(out) == 0 {
		return nil, errors.New("empty Exec")
	}
	return out, nil
}

// desktopEntry is what a login item needs from a parsed autostart file.
type desktopEntry struct {
	Exec   []string
	Hidden bool // Hidden=true or X-GNOME-Autostart-enabled=false: switched off
}

// parseDesktopFile reads the [Desktop Entry] group of an autostart file.
func parseDesktopFile(data []byte) (desktopEntry, error) {
	var e desktopEntry
	group := ""
	keys := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[':
			group = strings.Trim(line, "[]")
		case group == "Desktop Entry":
			k, v, ok := strings.Cut(line, "=")
			if ok {
				keys[strings.TrimSpace(k)] = unescapeString(strings.TrimSpace(v))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return e, err
	}
	e.Hidden = strings.EqualFold(keys["Hidden"], "true") || strings.EqualFold(keys["X-GNOME-Autostart-enabled"], "false")
	exec, ok := keys["Exec"]
	if !ok {
		if e.Hidden {
			return e, nil // an override that only switches a system entry off
		}
		return e, errors.New("no Exec key in [Desktop Entry]")
	}
	args, err := SplitExec(exec)
	if err != nil {
		return e, err
	}
	e.Exec = args
	return e, nil
}

// xdgAutostart keeps the login item as an XDG autostart file. The user's
// file overrides a system one of the same name; turning it off when a
// system file exists writes a user file with Hidden=true, as the spec says.
type xdgAutostart struct {
	userDir    string   // $XDG_CONFIG_HOME/autostart
	systemDirs []string // each $XDG_CONFIG_DIRS entry + /autostart
}

// newXDGAutostart resolves the autostart folders from the environment now,
// so tests that set HOME and XDG_CONFIG_HOME are honoured.
func newXDGAutostart() (*xdgAutostart, error) {
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(cfg) {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return nil, errors.New("cannot find the autostart folder: neither XDG_CONFIG_HOME nor HOME is set")
		}
		cfg = filepath.Join(home, ".config")
	}
	x := &xdgAutostart{userDir: filepath.Join(cfg, "autostart")}
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, d := range filepath.SplitList(dirs) {
		if filepath.IsAbs(d) {
			x.systemDirs = append(x.systemDirs, filepath.Join(d, "autostart"))
		}
	}
	return x, nil
}

func (x *xdgAutostart) userFile() string { return filepath.Join(x.userDir, DesktopFileName) }

func (x *xdgAutostart) systemFile() string {
	for _, d := range x.systemDirs {
		f := filepath.Join(d, DesktopFileName)
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}

func (x *xdgAutostart) read() (State, error) {
	s := State{Location: x.userFile()}
	path := x.userFile()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if path = x.systemFile(); path == "" {
			return s, nil
		}
		s.Location = path
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return s, fmt.Errorf("read autostart entry: %w", err)
	}
	e, err := parseDesktopFile(data)
	if err != nil {
		return s, fmt.Errorf("read autostart entry %s: %w", path, err)
	}
	if len(e.Exec) > 0 {
		s.Exe = e.Exec[0]
	}
	s.Enabled = !e.Hidden
	if e.Hidden {
		s.Note = "switched off: " + path + " says Hidden=true or X-GNOME-Autostart-enabled=false"
	}
	return s, nil
}

func (x *xdgAutostart) write(exe string) error {
	text, err := DesktopFile(exe)
	if err != nil {
		return err
	}
	return x.writeFile(text)
}

func (x *xdgAutostart) writeFile(text string) error {
	if err := os.MkdirAll(x.userDir, 0o755); err != nil {
		return fmt.Errorf("create the autostart folder: %w", err)
	}
	if err := atomicfile.Write(x.userFile(), []byte(text), 0o644); err != nil {
		return fmt.Errorf("write autostart entry %s: %w", x.userFile(), err)
	}
	return nil
}

func (x *xdgAutostart) remove() error {
	if sys := x.systemFile(); sys != "" {
		// Deleting our file would let the system one start the tray.
		return x.writeFile("[Desktop Entry]\n# Written by Cairn: turns off " + escapeString(sys) + " for this user.\nType=Application\nName=Cairn\nHidden=true\n")
	}
	if err := os.Remove(x.userFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove autostart entry: %w", err)
	}
	return nil
}

func (x *xdgAutostart) samePath(a, b string) bool { return exepath.Same(a, b) }
