package update

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/daemon/safefile"
)

// maxConfigFile caps what is read of config.json.
const maxConfigFile = 64 << 10

// keyCheckForUpdates is the tray's "Check for updates" toggle.
const keyCheckForUpdates = "check_for_updates"

// Config is config.json in the data dir: the user's settings that live
// nowhere else. Today that is one key:
//
//	{"check_for_updates": true}
//
// The parse is strict about what it knows (one JSON object, no key twice,
// check_for_updates a boolean) and keeps what it does not: a key written
// by a newer Cairn survives a downgrade and the next save, byte for byte.
type Config struct {
	CheckForUpdates bool // default true: a release build checks unless told not to

	other map[string]json.RawMessage // keys this version does not know
}

// DefaultConfig is the settings when config.json does not exist.
func DefaultConfig() Config { return Config{CheckForUpdates: true} }

// LoadConfig reads config.json. A missing file is DefaultConfig. A file
// that cannot be parsed is an error naming the file and the fix; the
// caller must not overwrite it (the user may want what is in it).
func LoadConfig(path string) (Config, error) {
	data, err := safefile.ReadFile(path, maxConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return Config{}, err
	}
	c, err := parseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %v; fix it or remove it (Cairn then uses its defaults)", path, err)
	}
	return c, nil
}

func parseConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Config{}, errors.New("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Config{}, fmt.Errorf("not valid JSON: %v", err)
		}
		key := tok.(string) // inside an object the decoder only yields string keys
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return Config{}, fmt.Errorf("not valid JSON at %q: %v", key, err)
		}
		if _, dup := c.other[key]; dup {
			return Config{}, fmt.Errorf("%q appears twice", key)
		}
		if c.other == nil {
			c.other = map[string]json.RawMessage{}
		}
		c.other[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, errors.New("more than one JSON value")
	}
	if v, ok := c.other[keyCheckForUpdates]; ok {
		if err := json.Unmarshal(v, &c.CheckForUpdates); err != nil || string(v) == "null" {
			return Config{}, fmt.Errorf("%q is %s; it must be true or false", keyCheckForUpdates, clip(string(v)))
		}
		delete(c.other, keyCheckForUpdates)
	}
	return c, nil
}

// Save writes config.json, 0600, atomically: the known keys, then the
// kept ones in name order.
func (c Config) Save(path string) error {
	var b bytes.Buffer
	b.WriteString("{\n")
	fmt.Fprintf(&b, "  %q: %t", keyCheckForUpdates, c.CheckForUpdates)
	keys := make([]string, 0, len(c.other))
	for k := range c.other {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name, _ := json.Marshal(k)
		fmt.Fprintf(&b, ",\n  %s: %s", name, c.other[k])
	}
	b.WriteString("\n}\n")
	return atomicfile.Write(path, b.Bytes(), 0o600)
}
