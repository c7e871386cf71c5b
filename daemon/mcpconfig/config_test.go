package mcpconfig

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestConfig: each client's snippet names this binary and parses.
func TestConfig(t *testing.T) {
	exe := "/opt/my tools/cairn"
	for _, name := range Clients {
		text, err := Config(name, exe)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "claude-code" {
			if !strings.Contains(text, "claude mcp add --scope user cairn -- '/opt/my tools/cairn' mcp") {
				t.Errorf("claude-code: %s", text)
			}
			continue
		}
		var cfg map[string]map[string]struct {
			Command string
			Args    []string
		}
		if err := json.Unmarshal([]byte(text[strings.Index(text, "{"):]), &cfg); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, text)
		}
		for _, servers := range cfg {
			if s := servers["cairn"]; s.Command != exe || len(s.Args) != 1 || s.Args[0] != "mcp" {
				t.Errorf("%s: %+v", name, servers)
			}
		}
	}
	if _, err := Config("emacs", exe); err == nil || !strings.Contains(err.Error(), "claude-code") {
		t.Errorf("an unknown client: %v", err)
	}
}
