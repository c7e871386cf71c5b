package mcpconfig

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Clients are the AI tools Config knows, in the order help lists them.
var Clients = []string{"claude-code", "claude-desktop", "cursor", "vscode"}

// Config is what to type or paste to add `exe mcp` to an AI tool.
func Config(clientName, exe string) (string, error) {
	servers := func(key string, entry map[string]any) string {
		b, _ := json.MarshalIndent(map[string]any{key: map[string]any{"cairn": entry}}, "", "  ")
		return string(b) + "\n"
	}
	stdio := map[string]any{"command": exe, "args": []string{"mcp"}}
	switch clientName {
	case "claude-code":
		return "Run:\n\n  claude mcp add --scope user cairn -- " + shellQuote(exe) + " mcp\n", nil
	case "claude-desktop":
		return "Add to claude_desktop_config.json (Settings > Developer > Edit Config), then restart Claude Desktop:\n\n" +
			servers("mcpServers", stdio), nil
	case "cursor":
		return "Add to ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (one project):\n\n" +
			servers("mcpServers", stdio), nil
	case "vscode":
		return "Add to .vscode/mcp.json in the workspace (or run 'MCP: Open User Configuration'):\n\n" +
			servers("servers", map[string]any{"type": "stdio", "command": exe, "args": []string{"mcp"}}), nil
	}
	return "", fmt.Errorf("--client takes one of %s", strings.Join(Clients, ", "))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
