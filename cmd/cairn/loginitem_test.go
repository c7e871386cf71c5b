//go:build !windows

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/tray/loginitem"
)

// installPair puts cairn and a stand-in cairn-tray side by side in a new
// folder called name, as a package would, and returns both paths.
func installPair(t *testing.T, name string) (cairnExe, trayExe string) {
	t.Helper()
	cairnExe = copyCairn(t, name)
	trayExe = filepath.Join(filepath.Dir(cairnExe), "cairn-tray")
	if err := os.WriteFile(trayExe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return cairnExe, trayExe
}

func TestLoginItem(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	exe, tray := installPair(t, `Cairn "beta" $HOME 100% ü`)
	desktop := filepath.Join(env.Home, ".config", "autostart", "cairn-tray.desktop")
	run := func(bin string, args ...string) (int, string, string) {
		return proctest.Run(t, env, bin, append([]string{"login-item"}, args...)...)
	}

	code, out, _ := run(exe, "status")
	if code != 0 || !strings.HasPrefix(out, "off") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	code, out, errOut := run(exe, "on")
	if code != 0 || !strings.Contains(out, "now starts at login") {
		t.Fatalf("on: exit %d\n%s%s", code, out, errOut)
	}
	fi1, err := os.Stat(desktop)
	if err != nil {
		t.Fatalf("no autostart file: %v", err)
	}
	code, out, _ = run(exe, "on")
	if fi2, _ := os.Stat(desktop); code != 0 || !strings.Contains(out, "already") || !os.SameFile(fi1, fi2) {
		t.Errorf("second on: exit %d, rewritten %v\n%s", code, !os.SameFile(fi1, fi2), out)
	}
	var js struct {
		Item    loginitem.State `json:"login_item"`
		TrayBin string          `json:"tray_bin"`
	}
	code, out, _ = run(exe, "status", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 || !js.Item.Enabled || !js.Item.Current || js.Item.Exe != tray || js.TrayBin != tray {
		t.Fatalf("status --json: exit %d, %v, %+v", code, err, js)
	}

	// Reinstalled elsewhere: the entry still names the old tray; the new
	// cairn says so, and `on` points it at the tray beside it.
	exe2, tray2 := installPair(t, "new place")
	os.Remove(tray)
	code, out, _ = run(exe2, "status")
	if code != 0 || !strings.HasPrefix(out, "on, but broken:") || !strings.Contains(out, tray+", which no longer exists") {
		t.Errorf("status after a move: exit %d\n%s", code, out)
	}
	code, out, _ = run(exe2, "on")
	if code != 0 || !strings.Contains(out, "starts at login again") {
		t.Errorf("on after a move: exit %d\n%s", code, out)
	}
	if st := loginItemOf(t, env, exe2); !st.Current || st.Exe != tray2 {
		t.Errorf("after the update: %+v", st)
	}

	// The user switches it off in the desktop's own settings.
	data, _ := os.ReadFile(desktop)
	os.WriteFile(desktop, append(data, "Hidden=true\n"...), 0o644)
	if code, out, _ = run(exe2, "status"); !strings.HasPrefix(out, "off") || !strings.Contains(out, "Hidden=true") {
		t.Errorf("status of a switched-off entry: exit %d\n%s", code, out)
	}

	code, out, _ = run(exe2, "off")
	if code != 0 || !strings.Contains(out, "was not starting") {
		t.Errorf("off while switched off: exit %d\n%s", code, out)
	}
	run(exe2, "on")
	code, out, _ = run(exe2, "off")
	if code != 0 || !strings.Contains(out, "no longer starts") {
		t.Errorf("off: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(desktop); !os.IsNotExist(err) {
		t.Errorf("autostart file left behind: %v", err)
	}

	// No tray beside cairn: a clear error, and --tray-bin is the way out.
	bare := copyCairn(t, "bare")
	code, _, errOut = run(bare, "on")
	if code != 1 || !strings.Contains(errOut, "--tray-bin") {
		t.Errorf("on without a tray: exit %d, %q", code, errOut)
	}
	code, out, errOut = run(bare, "on", "--tray-bin", tray2)
	if code != 0 || !strings.Contains(out, tray2) {
		t.Errorf("on --tray-bin: exit %d\n%s%s", code, out, errOut)
	}
}

func loginItemOf(t *testing.T, env *proctest.Env, exe string) loginitem.State {
	t.Helper()
	var js struct {
		Item loginitem.State `json:"login_item"`
	}
	code, out, errOut := proctest.Run(t, env, exe, "login-item", "status", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 {
		t.Fatalf("login-item status --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	return js.Item
}

// An entry that is on but starts a cairn-tray that is gone is "on, but
// broken" in login-item status and in doctor alike, with the same fix; on
// repairs it.
func TestLoginItemBrokenEntryAgreesWithDoctor(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	oldExe, oldTray := installPair(t, "old place")
	if code, out, errOut := proctest.Run(t, env, oldExe, "login-item", "on"); code != 0 {
		t.Fatalf("on: exit %d\n%s%s", code, out, errOut)
	}
	os.Remove(oldTray)
	exe, tray := installPair(t, "new place")
	desktop := filepath.Join(env.Home, ".config", "autostart", "cairn-tray.desktop")

	code, out, _ := proctest.Run(t, env, exe, "login-item", "status")
	wantFix := fmt.Sprintf("run 'cairn login-item on' to start %s instead", tray)
	want := fmt.Sprintf("on, but broken: %s (it starts %s, which no longer exists), so nothing starts at login\nfix: %s\n", desktop, oldTray, wantFix)
	if code != 0 || out != want {
		t.Errorf("status of a broken entry: exit %d\n%s\nwant\n%s", code, out, want)
	}
	var js struct {
		Schema string `json:"schema"`
		loginItemJSON
	}
	code, out, _ = proctest.Run(t, env, exe, "login-item", "status", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 || js.Schema != schemaLoginItem || js.State != "broken" ||
		!js.LoginItem.Enabled || js.LoginItem.Broken == "" || js.Fix != wantFix {
		t.Errorf("status --json of a broken entry: exit %d, %v\n%s", code, err, out)
	}

	code, out, _ = proctest.Run(t, env, exe, "doctor")
	if code != 1 || !strings.Contains(out, "login item "+desktop+": on, but broken (it starts "+oldTray+", which no longer exists)") ||
		!strings.Contains(out, "fix: cairn login-item on\n") {
		t.Errorf("doctor on a broken entry: exit %d\n%s", code, out)
	}
	var doc doctorJSON
	code, out, _ = proctest.Run(t, env, exe, "doctor", "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 || doc.LoginItem == nil || doc.LoginItem.State != "broken" ||
		doc.LoginItem.Fix != wantFix || len(doc.Problems) != 1 || doc.Problems[0].Fix != "cairn login-item on" {
		t.Errorf("doctor --json on a broken entry: exit %d, %v\n%s", code, err, out)
	}

	code, out, _ = proctest.Run(t, env, exe, "login-item", "on")
	if code != 0 || !strings.Contains(out, "starts at login again") {
		t.Errorf("on repairs it: exit %d\n%s", code, out)
	}
	if st := loginItemOf(t, env, exe); st.Broken != "" || !st.Current || st.Exe != tray {
		t.Errorf("after on: %+v", st)
	}
	if code, out, _ = proctest.Run(t, env, exe, "doctor"); code != 0 || !strings.Contains(out, "login item "+desktop+": on, starts "+tray) {
		t.Errorf("doctor after the repair: exit %d\n%s", code, out)
	}
}
