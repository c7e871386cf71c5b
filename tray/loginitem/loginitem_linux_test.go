package loginitem

import (
	"os"
	"path/filepath"
	"testing"
)

// The exported API on this OS, against an isolated XDG_CONFIG_HOME.
func TestPublicAPI(t *testing.T) {
	userDir, _ := xdgEnv(t)
	exe := fakeExe(t, "bin")
	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled() = %v, %v", on, err)
	}
	for _, bad := range []string{"", "relative/cairn-tray", filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		if err := Enable(bad); err == nil {
			t.Errorf("Enable(%q) accepted", bad)
		}
	}
	if changed, err := UpdatePath(exe); err != nil || changed {
		t.Fatalf("UpdatePath while off must not turn it on: %v %v", changed, err)
	}
	if err := Enable(exe); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled() after Enable = %v, %v", on, err)
	}
	if _, err := os.Stat(filepath.Join(userDir, DesktopFileName)); err != nil {
		t.Fatal(err)
	}
	moved := fakeExe(t, "moved")
	if changed, err := UpdatePath(moved); err != nil || !changed {
		t.Fatalf("UpdatePath(moved) = %v, %v", changed, err)
	}
	if s, err := Status(moved); err != nil || !s.Current {
		t.Fatalf("Status(moved) = %+v, %v", s, err)
	}
	if changed, _ := UpdatePath(moved); changed {
		t.Error("UpdatePath to the same path rewrote the entry")
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if on, _ := Enabled(); on {
		t.Fatal("still enabled after Disable")
	}
	// Without XDG_CONFIG_HOME the default is ~/.config.
	t.Setenv("XDG_CONFIG_HOME", "")
	if err := Enable(exe); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("HOME"), ".config", "autostart", DesktopFileName)); err != nil {
		t.Fatal(err)
	}
}
