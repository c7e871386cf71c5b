package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestLoginCheckboxFollowsTheFileOnDisk: the "Start at login" checkbox is
// the XDG autostart file, read back on every redraw: ticking it writes the
// file, and the file written or removed by someone else (the desktop's
// settings, `cairn login-item`) shows in the checkbox.
func TestLoginCheckboxFollowsTheFileOnDisk(t *testing.T) {
	w := newWorld(t, options{})
	tray := proctest.Start(t, w.env, w.bins.tray, "--daemon-bin", w.bins.cairn,
		"--port", strconv.Itoa(w.env.Port), "--refresh", "200ms")
	item := w.itemOf(tray)
	pid := w.waitRunning(item, anyPID)
	desktop := filepath.Join(w.env.Home, ".config", "autostart", "cairn-tray.desktop")

	checked := func(want bool) {
		t.Helper()
		w.waitMenu(item, "the login checkbox to be "+map[bool]string{true: "ticked", false: "clear"}[want],
			func(root dbustest.MenuNode) bool {
				n, ok := root.FindByLabel("Start at login")
				return ok && n.Enabled && n.ToggleType == "checkmark" && (n.ToggleState == 1) == want
			})
	}
	checked(false)

	w.click(item, "Start at login")
	checked(true)
	b, err := os.ReadFile(desktop)
	if err != nil {
		t.Fatalf("ticking the box wrote no autostart file: %v", err)
	}
	if !strings.Contains(string(b), "Exec="+w.bins.tray) && !strings.Contains(string(b), `Exec="`+w.bins.tray+`"`) {
		t.Errorf("the autostart file does not start this cairn-tray (%s):\n%s", w.bins.tray, b)
	}

	// Removed behind the tray's back: the box clears.
	if err := os.Remove(desktop); err != nil {
		t.Fatal(err)
	}
	checked(false)

	// Turned on from the terminal: the box ticks.
	if code, out, errOut := proctest.Run(t, w.env, w.bins.cairn, "login-item", "on", "--tray-bin", w.bins.tray); code != 0 {
		t.Fatalf("cairn login-item on: exit %d\n%s%s", code, out, errOut)
	}
	checked(true)

	// Unticking removes it.
	w.click(item, "Start at login")
	checked(false)
	if _, err := os.Stat(desktop); err == nil {
		b, _ := os.ReadFile(desktop)
		if !strings.Contains(string(b), "Hidden=true") {
			t.Errorf("unticked, but the autostart file still starts the tray:\n%s", b)
		}
	}

	w.sigterm(tray)
	w.assertStoppedClean(pid)
}

// TestHeadlessWithoutSessionBus is `make run` on a machine without a
// desktop: no D-Bus at all. The tray says so once, supervises the daemon,
// prints what the icon would show, and a signal stops it cleanly.
func TestHeadlessWithoutSessionBus(t *testing.T) {
	w := newWorld(t, options{noHost: true})
	w.env.Extra = nil // no DBUS_SESSION_BUS_ADDRESS
	tray := w.startTray()
	pid := w.waitServing()
	want := "Cairn: Running · 127.0.0.1:" + strconv.Itoa(w.env.Port) + " · PID " + strconv.Itoa(pid)
	proctest.Eventually(t, wait, "the tray to print the running status", func() bool {
		return strings.Contains(tray.Stderr(), want) || tray.Exited()
	})
	if tray.Exited() {
		t.Fatalf("the headless tray exited (code %d)\nstderr: %s", tray.Code(), tray.Stderr())
	}
	if n := strings.Count(tray.Stderr(), "runs without a tray icon: no D-Bus session bus"); n != 1 {
		t.Errorf("stderr says %d times that there is no bus, want once:\n%s", n, tray.Stderr())
	}
	if strings.Contains(tray.Stderr(), "panic") {
		t.Errorf("stderr has a panic:\n%s", tray.Stderr())
	}
	w.sigterm(tray)
	w.assertStoppedClean(pid)
}
