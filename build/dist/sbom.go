package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The SBOMs are CycloneDX 1.5 JSON, written here from each binary's
// embedded build information (what `go version -m` prints) rather than by
// cyclonedx-gomod: that tool would be one more module of dependencies for
// build/tools to compile on a cold machine, and it stamps a random serial
// number and the current time, where ours must be the same on every build.

type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Component cdxComponent `json:"component"`
}

type cdxComponent struct {
	BOMRef     string        `json:"bom-ref"`
	Type       string        `json:"type"`
	Name       string        `json:"name"`
	Version    string        `json:"version,omitempty"`
	PURL       string        `json:"purl,omitempty"`
	Hashes     []cdxHash     `json:"hashes,omitempty"`
	Properties []cdxProperty `json:"properties,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// writeSBOM writes dist/<artifact>.cdx.json: the artifact, each binary in
// it (with its SHA-256) and the Go modules and toolchain each was built from.
func (b *builder) writeSBOM(a artifact) error {
	bom := cdxBOM{
		BOMFormat:    "CycloneDX",
		SpecVersion:  "1.5",
		SerialNumber: stableUUID(a.name),
		Version:      1,
		Metadata: cdxMetadata{
			Timestamp: b.epoch.Format(time.RFC3339),
			Component: cdxComponent{BOMRef: a.name, Type: "file", Name: a.name, Version: b.version},
		},
	}
	seen := map[string]bool{}
	add := func(c cdxComponent) {
		if !seen[c.BOMRef] {
			seen[c.BOMRef] = true
			bom.Components = append(bom.Components, c)
		}
	}
	var top []string
	for _, bin := range a.binaries {
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			return fmt.Errorf("SBOM of %s: reading the build info of %s: %w", a.name, bin, err)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		name := filepath.Base(bin)
		ref := "bin:" + name
		top = append(top, ref)
		props := []cdxProperty{{"cdx:go:version", info.GoVersion}}
		for _, s := range info.Settings {
			if s.Key == "GOOS" || s.Key == "GOARCH" || s.Key == "-tags" || s.Key == "CGO_ENABLED" {
				props = append(props, cdxProperty{"cdx:go:build:" + s.Key, s.Value})
			}
		}
		bin := cdxComponent{BOMRef: ref, Type: "application", Name: name, Version: b.version,
			PURL:   "pkg:golang/" + info.Main.Path + "@" + "v" + b.version,
			Hashes: []cdxHash{{"SHA-256", hex.EncodeToString(sum[:])}}, Properties: props}
		add(bin)
		deps := []string{"pkg:golang/std@" + info.GoVersion}
		add(cdxComponent{BOMRef: deps[0], Type: "library", Name: "std", Version: info.GoVersion, PURL: deps[0]})
		for _, d := range info.Deps {
			c := cdxComponent{Type: "library", Name: d.Path, Version: d.Version}
			if d.Replace != nil {
				// fyne.io/systray is replaced by our patched copy in
				// third_party; the SBOM says so.
				c.Properties = []cdxProperty{{"cdx:go:replacedBy", strings.TrimSpace(d.Replace.Path + " " + d.Replace.Version)}}
			}
			c.PURL = "pkg:golang/" + d.Path + "@" + d.Version
			c.BOMRef = c.PURL
			if d.Sum != "" {
				c.Properties = append(c.Properties, cdxProperty{"cdx:go:sum", d.Sum})
			}
			add(c)
			deps = append(deps, c.BOMRef)
		}
		bom.Dependencies = append(bom.Dependencies, cdxDependency{Ref: ref, DependsOn: deps})
	}
	bom.Dependencies = append(bom.Dependencies, cdxDependency{Ref: a.name, DependsOn: top})
	slices.SortFunc(bom.Components, func(x, y cdxComponent) int { return strings.Compare(x.BOMRef, y.BOMRef) })
	data, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.out, a.name+".cdx.json"), append(data, '\n'), 0o644)
}

// stableUUID derives a version-5-shaped UUID URN from name, so that the
// same artifact gets the same serial number on every build.
func stableUUID(name string) string {
	h := sha256.Sum256([]byte("cairn-sbom:" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return fmt.Sprintf("urn:uuid:%s-%s-%s-%s-%s", x[:8], x[8:12], x[12:16], x[16:20], x[20:])
}
