package loginitem

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"howett.net/plist"
)

func TestLaunchAgentPlist(t *testing.T) {
	for _, name := range append(oddNames, "a<b>&c", "]]>") {
		exe := filepath.Join("/Users/u/Applications", name, "Cairn.app/Contents/MacOS/cairn-tray")
		data, err := LaunchAgent(AgentLabel, exe)
		if err != nil {
			t.Fatalf("LaunchAgent(%q): %v", exe, err)
		}
		// Parsed back generically, not with our own struct, so a key we
		// misspell or mistype shows up.
		var m map[string]any
		format, err := plist.Unmarshal(data, &m)
		if err != nil || format != plist.XMLFormat {
			t.Fatalf("parse back %q: format %d, %v\n%s", exe, format, err, data)
		}
		want := map[string]any{
			"Label":                  AgentLabel,
			"ProgramArguments":       []any{exe},
			"RunAtLoad":              true,
			"LimitLoadToSessionType": "Aqua",
			"ProcessType":            "Interactive",
		}
		if len(m) != len(want) {
			t.Errorf("keys %v, want %v", m, want)
		}
		for k, v := range want {
			if got, ok := m[k]; !ok || !equalPlist(got, v) {
				t.Errorf("%s = %#v, want %#v\n%s", k, got, v, data)
			}
		}
		if !strings.HasPrefix(string(data), `<?xml version="1.0" encoding="UTF-8"?>`) {
			t.Errorf("not an XML plist:\n%s", data)
		}
	}
	for _, bad := range []string{"/a\nb/cairn-tray", "/a\x00b", "/a\xfe"} {
		if _, err := LaunchAgent(AgentLabel, bad); err == nil {
			t.Errorf("LaunchAgent(%q) accepted", bad)
		}
	}
}

func equalPlist(a, b any) bool {
	as, ok1 := a.([]any)
	bs, ok2 := b.([]any)
	if ok1 && ok2 {
		return slices.Equal(as, bs)
	}
	return a == b
}

func TestParsePrintDisabled(t *testing.T) {
	out := []byte(`disabled services = {
	"com.apple.Siri.agent" => enabled
	"com.cairnlabs.cairn-tray" => disabled
	"com.cairnlabs.cairn" => false
	"com.old.style" => true
}
`)
	for label, want := range map[string]bool{
		"com.cairnlabs.cairn-tray": true, "com.cairnlabs.cairn": false,
		"com.old.style": true, "com.apple.Siri.agent": false, "absent": false,
	} {
		if got := parsePrintDisabled(out, label); got != want {
			t.Errorf("%s: disabled=%v, want %v", label, got, want)
		}
	}
}

func TestLaunchAgentLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Library", "LaunchAgents")
	off := map[string]bool{}
	var enables []string
	a := &launchAgent{
		dir: dir, label: AgentLabel,
		disabled: func(l string) (bool, error) { return off[l], nil },
		enable:   func(l string) error { enables = append(enables, l); off[l] = false; return nil },
	}
	exe := fakeExe(t, `Cairn "Tray" ü`)
	if s, err := status(a, exe); err != nil || s.Enabled {
		t.Fatalf("fresh: %+v %v", s, err)
	}
	if err := enable(a, exe); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, AgentLabel+".plist")
	fi1, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := status(a, exe); !s.Enabled || !s.Current || s.Location != file {
		t.Fatalf("enabled: %+v", s)
	}
	if err := enable(a, exe); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(file); !os.SameFile(fi1, fi2) || len(enables) != 1 {
		t.Errorf("enabling twice rewrote the plist (launchctl enable calls: %d)", len(enables))
	}

	// Switched off in System Settings: off, and enabling clears it.
	off[AgentLabel] = true
	if s, _ := status(a, exe); s.Enabled || s.Note == "" {
		t.Fatalf("switched off: %+v", s)
	}
	if err := enable(a, exe); err != nil {
		t.Fatal(err)
	}
	if s, _ := status(a, exe); !s.Enabled {
		t.Fatalf("re-enabled: %+v", s)
	}

	moved := fakeExe(t, "elsewhere")
	if err := enable(a, moved); err != nil {
		t.Fatal(err)
	}
	if s, _ := status(a, moved); !s.Current || s.Exe != moved {
		t.Fatalf("moved: %+v", s)
	}

	if err := a.remove(); err != nil {
		t.Fatal(err)
	}
	if err := a.remove(); err != nil {
		t.Fatal(err)
	}
	if s, _ := status(a, moved); s.Enabled {
		t.Fatalf("removed: %+v", s)
	}

	// A plist someone broke is reported, with its path.
	os.WriteFile(file, []byte("not a plist"), 0o644)
	if _, err := status(a, moved); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("broken plist: %v", err)
	}
	a.disabled = func(string) (bool, error) { return false, errors.New("launchctl: boom") }
	os.Remove(file)
	enable(a, moved)
	if _, err := status(a, moved); err == nil {
		t.Error("a launchctl failure was swallowed")
	}
}
