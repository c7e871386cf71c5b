package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// windowsInfo describes each Windows program in its version resource.
var windowsInfo = map[string]string{
	"cairn":      "Cairn command line and daemon",
	"cairn-mcp":  "Cairn MCP server",
	"cairn-tray": "Cairn tray",
}

// windowsResources writes each command's Windows resources (icon, version
// info, manifest) with go-winres as rsrc_windows_amd64.syso and
// rsrc_windows_arm64.syso in its package directory, where the Go linker
// picks them up for that architecture only. The returned func removes
// them again; they carry this build's version, so they are never committed.
func (b *builder) windowsResources() (func(), error) {
	var written []string
	cleanup := func() {
		for _, f := range written {
			os.Remove(f)
		}
		written = nil
	}
	for _, name := range (platform{os: "windows"}).commands() {
		cfg, err := json.MarshalIndent(b.winresConfig(name), "", "  ")
		if err != nil {
			return cleanup, err
		}
		in := filepath.Join(b.work, name+".winres.json")
		if err := os.WriteFile(in, cfg, 0o644); err != nil {
			return cleanup, err
		}
		pkg := filepath.Join(b.root, "cmd", name)
		for _, arch := range []string{"amd64", "arm64"} {
			written = append(written, filepath.Join(pkg, "rsrc_windows_"+arch+".syso"))
		}
		// --arch explicitly: without it go-winres writes a bare
		// rsrc.syso, which the linker would put into every OS's build.
		if err := b.run(b.root, nil, b.tools["go-winres"], "make", "--in", in, "--out", filepath.Join(pkg, "rsrc"), "--arch", "amd64,arm64"); err != nil {
			return cleanup, fmt.Errorf("windows resources of %s: %w", name, err)
		}
	}
	return cleanup, nil
}

// winresConfig is go-winres's JSON for one program: the program icon, a
// version resource with the build's version, and a manifest that runs it
// as the user who started it (never elevated), per-monitor DPI aware (v2),
// with long paths, on Windows 10 and later.
func (b *builder) winresConfig(name string) map[string]any {
	quad := numeric(b.version) + ".0"
	lang := func(v any) map[string]any { return map[string]any{"0409": v} }
	return map[string]any{
		"RT_GROUP_ICON": map[string]any{
			// go-winres reads paths relative to the JSON file, even absolute ones.
			"APP": map[string]any{"0000": b.relToWork(filepath.Join(b.root, "build", "icons", "cairn.ico"))},
		},
		"RT_MANIFEST": map[string]any{
			"#1": lang(map[string]any{
				"identity":        map[string]any{"name": "CairnLabs.Cairn." + name, "version": quad},
				"description":     windowsInfo[name],
				"minimum-os":      "win10",
				"execution-level": "as invoker",
				"dpi-awareness":   "per monitor v2",
				"long-path-aware": true,
			}),
		},
		"RT_VERSION": map[string]any{
			"#1": map[string]any{"0000": map[string]any{
				"fixed": map[string]any{"file_version": quad, "product_version": quad},
				"info": lang(map[string]any{
					"CompanyName":      "Cairn Labs",
					"FileDescription":  windowsInfo[name],
					"FileVersion":      b.version,
					"InternalName":     name,
					"LegalCopyright":   "Copyright Cairn Labs",
					"OriginalFilename": name + ".exe",
					"ProductName":      "Cairn",
					"ProductVersion":   b.version,
				}),
			}},
		},
	}
}

// relToWork returns path relative to the scratch directory.
func (b *builder) relToWork(path string) string {
	rel, err := filepath.Rel(b.work, path)
	if err != nil {
		return path
	}
	return rel
}
