//go:build distcheck

package distcheck

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// Resource types (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

func TestWindowsExecutables(t *testing.T) {
	machines := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}
	for _, arch := range []string{"amd64", "arm64"} {
		name := artifact("windows", arch, "zip")
		dir := filepath.Join(extract(t, filepath.Join(*distDir, name)), strings.TrimSuffix(name, ".zip"))
		for exe, subsystem := range map[string]uint16{
			"cairn.exe":      pe.IMAGE_SUBSYSTEM_WINDOWS_CUI, // a console program
			"cairn-mcp.exe":  pe.IMAGE_SUBSYSTEM_WINDOWS_CUI, // an AI tool's stdio server
			"cairn-tray.exe": pe.IMAGE_SUBSYSTEM_WINDOWS_GUI, // no console window
		} {
			t.Run(arch+"/"+exe, func(t *testing.T) {
				f, err := pe.Open(filepath.Join(dir, exe))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if f.Machine != machines[arch] {
					t.Errorf("machine = %#x, want %#x", f.Machine, machines[arch])
				}
				oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
				if !ok {
					t.Fatalf("optional header is %T, want PE32+", f.OptionalHeader)
				}
				if oh.Subsystem != subsystem {
					t.Errorf("subsystem = %d, want %d", oh.Subsystem, subsystem)
				}
				res := resources(t, f)
				if len(res[rtGroupIcon]) != 1 || len(res[rtIcon]) < 7 {
					t.Errorf("%d icon groups and %d icon images, want one group of the 7 sizes of cairn.ico", len(res[rtGroupIcon]), len(res[rtIcon]))
				}
				if len(res[rtVersion]) != 1 {
					t.Fatalf("%d version resources, want 1", len(res[rtVersion]))
				}
				checkVersionInfo(t, res[rtVersion][0])
				if len(res[rtManifest]) != 1 {
					t.Fatalf("%d manifests, want 1", len(res[rtManifest]))
				}
				checkManifest(t, res[rtManifest][0])
			})
		}
	}
}

// resources walks the .rsrc section's three-level directory (type, name,
// language) and returns each type's data.
func resources(t *testing.T, f *pe.File) map[uint32][][]byte {
	t.Helper()
	s := f.Section(".rsrc")
	if s == nil {
		t.Fatal("no .rsrc section")
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	out := map[uint32][][]byte{}
	var walk func(off uint32, depth int, typ uint32)
	walk = func(off uint32, depth int, typ uint32) {
		if int(off)+16 > len(data) {
			t.Fatalf("resource directory at %#x outside .rsrc", off)
		}
		n := uint32(le.Uint16(data[off+12:])) + uint32(le.Uint16(data[off+14:]))
		for i := range n {
			e := off + 16 + 8*i
			id, target := le.Uint32(data[e:]), le.Uint32(data[e+4:])
			if depth == 0 {
				typ = id
			}
			if target&0x80000000 != 0 {
				walk(target&0x7fffffff, depth+1, typ)
				continue
			}
			rva, size := le.Uint32(data[target:]), le.Uint32(data[target+4:])
			start := rva - s.VirtualAddress
			if int(start+size) > len(data) {
				t.Fatalf("resource type %d: data at RVA %#x+%d outside .rsrc", typ, rva, size)
			}
			out[typ] = append(out[typ], data[start:start+size])
		}
	}
	walk(0, 0, 0)
	return out
}

// checkVersionInfo reads VS_FIXEDFILEINFO and looks for the version in the
// string table: Explorer shows both.
func checkVersionInfo(t *testing.T, b []byte) {
	t.Helper()
	le := binary.LittleEndian
	sig := le.AppendUint32(nil, 0xFEEF04BD)
	i := bytes.Index(b, sig)
	if i < 0 {
		t.Fatal("version resource without VS_FIXEDFILEINFO")
	}
	ms, ls := le.Uint32(b[i+8:]), le.Uint32(b[i+12:])
	pms, pls := le.Uint32(b[i+16:]), le.Uint32(b[i+20:])
	core, _, _ := strings.Cut(*version, "-")
	want := core + ".0"
	got := fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
	gotP := fmt.Sprintf("%d.%d.%d.%d", pms>>16, pms&0xffff, pls>>16, pls&0xffff)
	if got != want || gotP != want {
		t.Errorf("file version %s, product version %s; want %s", got, gotP, want)
	}
	for _, key := range []string{"FileVersion", "ProductVersion"} {
		if !bytes.Contains(b, utf16le(key)) {
			t.Errorf("string table: no %s", key)
		}
	}
	if !bytes.Contains(b, utf16le(*version)) {
		t.Errorf("string table: the version %q is not in it", *version)
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// checkManifest parses the manifest XML and looks for what the issue asks.
func checkManifest(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var got struct {
		level, dpi, longPath string
		win10                bool
	}
	var path []string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			path = append(path, el.Name.Local)
			for _, a := range el.Attr {
				if el.Name.Local == "requestedExecutionLevel" && a.Name.Local == "level" {
					got.level = a.Value
				}
				if el.Name.Local == "supportedOS" && a.Name.Local == "Id" && strings.EqualFold(a.Value, "{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}") {
					got.win10 = true
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 {
				continue
			}
			switch path[len(path)-1] {
			case "dpiAwareness":
				got.dpi = strings.TrimSpace(string(el))
			case "longPathAware":
				got.longPath = strings.TrimSpace(string(el))
			}
		}
	}
	if got.level != "asInvoker" {
		t.Errorf("requestedExecutionLevel = %q, want asInvoker", got.level)
	}
	if !strings.Contains(strings.ToLower(got.dpi), "permonitorv2") {
		t.Errorf("dpiAwareness = %q, want PerMonitorV2", got.dpi)
	}
	if got.longPath != "true" {
		t.Errorf("longPathAware = %q, want true", got.longPath)
	}
	if !got.win10 {
		t.Error("no supportedOS entry for Windows 10")
	}
}
