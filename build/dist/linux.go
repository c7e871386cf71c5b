package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// content is one file a Linux package installs.
type content struct {
	src, dst string
	mode     fs.FileMode
	packager string // "deb" or "rpm" for a file only one of them gets
}

// linuxContents are the files both packages install, sorted by
// destination. No /etc/xdg/autostart entry: that would start the tray
// for every user of the machine; start at login stays each user's choice
// (the tray's checkbox, `cairn login-item`). The README's "Install"
// section lists the same files, and build/distcheck compares the two.
func (b *builder) linuxContents(p platform, docs []content) []content {
	linux := filepath.Join(b.root, "build", "linux")
	cs := []content{
		{src: b.bin(p, "cairn"), dst: "/usr/bin/cairn", mode: 0o755},
		{src: b.bin(p, "cairn-mcp"), dst: "/usr/bin/cairn-mcp", mode: 0o755},
		{src: b.bin(p, "cairn-tray"), dst: "/usr/bin/cairn-tray", mode: 0o755},
		{src: filepath.Join(linux, "cairn-tray.desktop"), dst: "/usr/share/applications/cairn-tray.desktop", mode: 0o644},
		{src: filepath.Join(linux, "copyright"), dst: "/usr/share/doc/cairn/copyright", mode: 0o644},
		{src: filepath.Join(linux, "lintian-overrides"), dst: "/usr/share/lintian/overrides/cairn", mode: 0o644, packager: "deb"},
	}
	// One entry per hicolor size that go generate drew, and the SVG.
	icons, _ := filepath.Glob(filepath.Join(b.root, "build", "icons", "hicolor", "*", "apps", "cairn.*"))
	for _, icon := range icons {
		rel, _ := filepath.Rel(filepath.Join(b.root, "build", "icons"), icon)
		cs = append(cs, content{src: icon, dst: "/usr/share/icons/" + filepath.ToSlash(rel), mode: 0o644})
	}
	cs = append(cs, docs...)
	slices.SortFunc(cs, func(x, y content) int { return strings.Compare(x.dst, y.dst) })
	return cs
}

// linuxPackage writes p's .deb or .rpm with nfpm, from a configuration
// written here so that every file is one explicit entry.
func (b *builder) linuxPackage(p platform, format string, docs []content) (artifact, error) {
	var entries []map[string]any
	for _, c := range b.linuxContents(p, docs) {
		e := map[string]any{"src": c.src, "dst": c.dst, "file_info": map[string]any{"mode": int(c.mode), "owner": "root", "group": "root"}}
		if c.packager != "" {
			e["packager"] = c.packager
		}
		entries = append(entries, e)
	}
	cfg := map[string]any{
		"name":       "cairn",
		"arch":       p.arch,
		"platform":   "linux",
		"version":    b.version,
		"release":    "1",
		"section":    "utils",
		"priority":   "optional",
		"maintainer": "Cairn Labs <packages@cairnlabs.invalid>",
		"vendor":     "Cairn Labs",
		"license":    "Proprietary",
		"changelog":  filepath.Join(b.root, "build", "linux", "changelog.yml"),
		"description": "local memory daemon with a tray app\n" +
			"Cairn keeps a durable memory store for the tools on this machine,\n" +
			"reachable over a token-secured HTTP API on 127.0.0.1, from the\n" +
			"command line (cairn) and as an MCP server (cairn mcp). cairn-tray\n" +
			"shows the daemon's state in the system tray and supervises it.",
		"contents": entries,
		// A fixed build host: by default nfpm writes this machine's
		// name into the rpm, and the same commit built elsewhere would differ.
		"rpm": map[string]any{"group": "Applications/System", "buildhost": "cairn-dist"},
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return artifact{}, err
	}
	conf := filepath.Join(b.work, fmt.Sprintf("nfpm-%s.json", p.arch))
	if err := os.WriteFile(conf, data, 0o644); err != nil {
		return artifact{}, err
	}
	name := fmt.Sprintf("cairn_%s_%s.%s", b.version, p, format)
	env := []string{fmt.Sprintf("SOURCE_DATE_EPOCH=%d", b.epoch.Unix())}
	if err := b.run(b.root, env, b.tools["nfpm"], "package", "--config", conf, "--packager", format, "--target", filepath.Join(b.out, name)); err != nil {
		return artifact{}, fmt.Errorf("%s: %w", name, err)
	}
	return artifact{name: name, binaries: []string{b.bin(p, "cairn"), b.bin(p, "cairn-mcp"), b.bin(p, "cairn-tray")}}, nil
}
