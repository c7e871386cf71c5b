package ui

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRunHeadlessWithoutBusAddress(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	var stderr bytes.Buffer
	u := New(Options{AppName: "Cairn", Log: slog.New(slog.DiscardHandler), Stderr: &stderr})
	ready := false
	u.Run(func() {
		ready = u.Headless()
		u.Quit()
		u.Quit() // twice is fine
	})
	u.Quit() // and after Run
	if !ready || !u.Headless() {
		t.Fatal("Run with no bus address did not run headless")
	}
	want := "Cairn runs without a tray icon: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); the daemon is still supervised\n"
	if got := stderr.String(); got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
	if strings.Count(stderr.String(), "\n") != 1 {
		t.Fatal("more than one line")
	}
}
