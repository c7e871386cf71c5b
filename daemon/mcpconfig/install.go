package mcpconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
)

// InstallClients are the AI tools whose config file Install edits; the
// others are set up with the command or snippet Config prints.
var InstallClients = []string{"claude-desktop", "cursor"}

// ConfigPath is the user-wide file in which clientName keeps its MCP
// servers:
//
//	claude-desktop  Linux    $XDG_CONFIG_HOME/Claude/claude_desktop_config.json (default ~/.config)
//	                macOS    ~/Library/Application Support/Claude/claude_desktop_config.json
//	                Windows  %APPDATA%\Claude\claude_desktop_config.json
//	cursor          all      ~/.cursor/mcp.json
//
// os.UserConfigDir is exactly Claude Desktop's base folder on each OS.
func ConfigPath(clientName string) (string, error) {
	switch clientName {
	case "claude-desktop":
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find Claude Desktop's config folder: %w", err)
		}
		return filepath.Join(dir, "Claude", "claude_desktop_config.json"), nil
	case "cursor":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find Cursor's config folder: %w", err)
		}
		return filepath.Join(home, ".cursor", "mcp.json"), nil
	}
	return "", fmt.Errorf("--client takes one of %s (for %s see 'cairn mcp config')",
		strings.Join(InstallClients, ", "), strings.Join(slices.DeleteFunc(slices.Clone(Clients), func(c string) bool {
			return slices.Contains(InstallClients, c)
		}), " or "))
}

// Action is what Install or Uninstall did to a config file.
type Action int

const (
	Installed        Action = iota // the cairn entry was added
	Updated                        // a cairn entry with another command or args was rewritten
	AlreadyInstalled               // the entry was there as wanted; the file was not written
	Removed                        // the cairn entry was removed
	NotInstalled                   // there was no cairn entry; the file was not written
)

// Change is the outcome of InstallFile or UninstallFile.
type Change struct {
	Action   Action
	Path     string // the file edited, absolute (symlinks resolved)
	Created  bool   // the file did not exist and was created
	Backup   string // where the previous content was kept, "" when nothing was written or nothing was there
	Previous string // for Updated: the command the old entry ran
}

// serverName is the key of Cairn's entry under "mcpServers".
const serverName = "cairn"

// entry is Cairn's server entry; a struct keeps "command" before "args".
type entry struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

// Install returns data with mcpServers.cairn set to run `exe mcp`. Bytes
// outside the change are kept as they are; new values are indented like
// their surroundings. An empty data is an empty object. previous is the
// command of an entry that ran something else ("" when there was none).
func Install(data []byte, exe string) (out []byte, action Action, previous string, err error) {
	doc, err := parseConfig(data)
	if err != nil {
		return nil, 0, "", err
	}
	want := entry{Command: exe, Args: []string{"mcp"}}
	servers, ok := doc.member("mcpServers")
	if !ok {
		return doc.set("mcpServers", map[string]entry{serverName: want}), Installed, "", nil
	}
	sobj, err := doc.object(servers, "mcpServers")
	if err != nil {
		return nil, 0, "", err
	}
	cur, ok := sobj.member(serverName)
	if !ok {
		return sobj.set(serverName, want), Installed, "", nil
	}
	var have struct {
		Command *string  `json:"command"`
		Args    []string `json:"args"`
	}
	if json.Unmarshal(doc.doc[cur.valStart:cur.valEnd], &have) != nil || doc.doc[cur.valStart] != '{' {
		return sobj.set(serverName, want), Updated, "", nil // not an object: replaced whole
	}
	if have.Command != nil {
		previous = *have.Command
	}
	if previous == exe && slices.Equal(have.Args, want.Args) {
		return data, AlreadyInstalled, "", nil
	}
	// Keep the entry's other keys (say "env"); set only command and args.
	eobj, _ := sobj.object(cur, "mcpServers.cairn")
	out = eobj.set("command", exe)
	doc, _ = parseConfig(out)
	servers, _ = doc.member("mcpServers")
	sobj, _ = doc.object(servers, "mcpServers")
	cur, _ = sobj.member(serverName)
	eobj, _ = sobj.object(cur, "mcpServers.cairn")
	return eobj.set("args", want.Args), Updated, previous, nil
}

// Uninstall returns data without mcpServers.cairn; every other byte is kept.
func Uninstall(data []byte) ([]byte, Action, error) {
	doc, err := parseConfig(data)
	if err != nil {
		return nil, 0, err
	}
	servers, ok := doc.member("mcpServers")
	if !ok {
		return data, NotInstalled, nil
	}
	sobj, err := doc.object(servers, "mcpServers")
	if err != nil {
		return nil, 0, err
	}
	if _, ok := sobj.member(serverName); !ok {
		return data, NotInstalled, nil
	}
	out := sobj.remove(serverName)
	if again, _, err := Uninstall(out); err == nil {
		out = again // a key written twice: a reader would see the other one
	}
	return out, Removed, nil
}

// InstallFile installs Cairn's entry into the config file at path (see
// Install), creating the file (0600, in a folder made 0700) when missing.
// Before a write the previous content is kept in path + ".bak" (0600); the
// write is atomic and keeps the file's mode. A file that is not a JSON
// object, or whose mcpServers is not one, is refused and left alone.
func InstallFile(path, exe string) (Change, error) {
	return editFile(path, func(data []byte) ([]byte, Action, string, error) { return Install(data, exe) })
}

// UninstallFile removes Cairn's entry from the config file at path, with
// the same backup and atomic write as InstallFile. A missing file is
// NotInstalled and is not created.
func UninstallFile(path string) (Change, error) {
	return editFile(path, func(data []byte) ([]byte, Action, string, error) {
		out, action, err := Uninstall(data)
		return out, action, "", err
	})
}

func editFile(path string, edit func([]byte) ([]byte, Action, string, error)) (Change, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // a dotfile manager's link stays a link
	}
	c := Change{Path: path}
	mode := fs.FileMode(0o600)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Created = true
	case err != nil:
		return c, fmt.Errorf("read %s: %w", path, err)
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	out, action, previous, err := edit(data)
	if err != nil {
		return c, fmt.Errorf("%s: %w; the file was left as it is", path, err)
	}
	c.Action, c.Previous = action, previous
	if action == AlreadyInstalled || action == NotInstalled {
		c.Created = false
		return c, nil
	}
	if c.Created {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return c, fmt.Errorf("create the folder of %s: %w", path, err)
		}
	} else {
		c.Backup = path + ".bak"
		if err := atomicfile.Write(c.Backup, data, 0o600); err != nil {
			return c, fmt.Errorf("back up %s: %w; the file was left as it is", path, err)
		}
	}
	if err := atomicfile.Write(path, out, mode); err != nil {
		return c, fmt.Errorf("write %s: %w", path, err)
	}
	return c, nil
}

// object is one JSON object inside doc: the byte offsets of its braces and
// of each member, so an edit can splice bytes and leave the rest alone.
type object struct {
	doc        []byte
	start, end int // doc[start] == '{', doc[end-1] == '}'
	members    []member
	indent     string // the indent unit of the whole document
}

type member struct {
	key              string
	keyStart         int // the key's opening quote
	valStart, valEnd int
}

// parseConfig checks that data is one JSON object and returns it; empty
// (or blank) data is an empty object.
func parseConfig(data []byte) (*object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}\n")
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("not valid JSON (comments and trailing commas are not allowed): %s", describe(data, err))
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("the top-level value is %s, not an object", kind(v))
	}
	start := bytes.IndexByte(data, '{')
	o, err := parseObject(data, start, len(bytes.TrimRight(data, " \t\r\n")))
	if err != nil {
		return nil, err
	}
	o.indent = "  "
	if len(o.members) > 0 {
		if ind := lineIndent(data, o.members[0].keyStart); ind != "" && o.multiline() {
			o.indent = ind
		}
	}
	return o, nil
}

func parseObject(doc []byte, start, end int) (*object, error) {
	o := &object{doc: doc, start: start, end: end}
	dec := json.NewDecoder(bytes.NewReader(doc[start:end]))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		keyStart := start + int(dec.InputOffset())
		for doc[keyStart] != '"' {
			keyStart++ // whitespace and the comma before the key
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		valEnd := start + int(dec.InputOffset())
		o.members = append(o.members, member{key: tok.(string), keyStart: keyStart, valStart: valEnd - len(raw), valEnd: valEnd})
	}
	return o, nil
}

// member returns the last member named key, the one a JSON reader keeps.
func (o *object) member(key string) (member, bool) {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return o.members[i], true
		}
	}
	return member{}, false
}

// object returns m's value as an object, or an error naming it by path.
func (o *object) object(m member, path string) (*object, error) {
	if o.doc[m.valStart] != '{' {
		var v any
		json.Unmarshal(o.doc[m.valStart:m.valEnd], &v)
		return nil, fmt.Errorf("%q is %s, not an object", path, kind(v))
	}
	sub, err := parseObject(o.doc, m.valStart, m.valEnd)
	if err != nil {
		return nil, err
	}
	sub.indent = o.indent
	return sub, nil
}

// multiline reports whether the object's first member is on its own line.
func (o *object) multiline() bool {
	return len(o.members) == 0 || bytes.ContainsRune(o.doc[o.start:o.members[0].keyStart], '\n')
}

// set returns the document with key set to v in o: the value replaced in
// place, or a member appended after the last one.
func (o *object) set(key string, v any) []byte {
	if m, ok := o.member(key); ok {
		prefix := lineIndent(o.doc, m.keyStart)
		if !o.multiline() {
			prefix = ""
		}
		return splice(o.doc, m.valStart, m.valEnd, o.encode(v, prefix, !o.multiline()))
	}
	k, _ := json.Marshal(key)
	if len(o.members) == 0 {
		base := lineIndent(o.doc, o.start)
		inner := base + o.indent
		text := "{\n" + inner + string(k) + ": " + o.encode(v, inner, false) + "\n" + base + "}"
		return splice(o.doc, o.start, o.end, text)
	}
	last := o.members[len(o.members)-1]
	if !o.multiline() {
		return splice(o.doc, last.valEnd, last.valEnd, ", "+string(k)+": "+o.encode(v, "", true))
	}
	prefix := lineIndent(o.doc, last.keyStart)
	return splice(o.doc, last.valEnd, last.valEnd, ",\n"+prefix+string(k)+": "+o.encode(v, prefix, false))
}

// remove returns the document without o's last member named key and the
// comma and line break that went with it.
func (o *object) remove(key string) []byte {
	i := slices.IndexFunc(o.members, func(m member) bool { return m.key == key })
	for j := i + 1; j < len(o.members); j++ {
		if o.members[j].key == key {
			i = j
		}
	}
	m := o.members[i]
	switch {
	case i+1 < len(o.members): // up to the next key
		return splice(o.doc, m.keyStart, o.members[i+1].keyStart, "")
	case i > 0: // from the end of the one before
		return splice(o.doc, o.members[i-1].valEnd, m.valEnd, "")
	}
	return splice(o.doc, o.start+1, o.end-1, "") // the only member
}

// encode is v as JSON: compact for a one-line object, else indented with
// the document's unit under prefix (the indent of the line it starts on).
func (o *object) encode(v any, prefix string, compact bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if !compact {
		enc.SetIndent(prefix, o.indent)
	}
	enc.Encode(v)
	s := strings.TrimSuffix(b.String(), "\n")
	if compact {
		// json's compact form has no spaces; match a hand-written line:
		// indent with nothing, then join the lines, a space after a comma.
		var c bytes.Buffer
		json.Indent(&c, []byte(s), "", "")
		var line strings.Builder
		for l := range strings.Lines(c.String()) {
			l = strings.TrimSuffix(l, "\n")
			line.WriteString(l)
			if strings.HasSuffix(l, ",") {
				line.WriteByte(' ')
			}
		}
		s = line.String()
	}
	return s
}

func splice(doc []byte, from, to int, text string) []byte {
	out := make([]byte, 0, len(doc)-(to-from)+len(text))
	out = append(out, doc[:from]...)
	out = append(out, text...)
	return append(out, doc[to:]...)
}

// lineIndent is the blank run that starts the line holding doc[pos].
func lineIndent(doc []byte, pos int) string {
	start := bytes.LastIndexByte(doc[:pos], '\n') + 1
	end := start
	for end < pos && (doc[end] == ' ' || doc[end] == '\t') {
		end++
	}
	return string(doc[start:end])
}

// describe is a JSON error with the line and column it happened at.
func describe(data []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err.Error()
	}
	off := min(int(se.Offset), len(data))
	line := bytes.Count(data[:off], []byte("\n")) + 1
	col := off - (bytes.LastIndexByte(data[:off], '\n') + 1)
	return fmt.Sprintf("line %d, column %d: %v", line, max(col, 1), err)
}

func kind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}
