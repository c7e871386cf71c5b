package service

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/internal/runkey"
	"github.com/cairnlabs/cairn/internal/runkey/runkeytest"
)

func newTestLogon() (*WindowsLogon, *runkeytest.Fake, *[][]string, *int) {
	reg := runkeytest.NewFake()
	var spawned [][]string
	stops := 0
	w := &WindowsLogon{
		Entry:   runkey.Entry{Name: RunValueName, Reg: reg},
		Conhost: `C:\Windows\System32\conhost.exe`,
		// Config.check runs filepath.IsAbs of the OS the test runs on, so
		// the paths are this OS's; the Windows logic is all in the registry.
		DefaultDataDir: "/Users/Zoë/AppData/Local/cairn",
		Spawn: func(exe string, args []string) error {
			spawned = append(spawned, append([]string{exe}, args...))
			return nil
		},
		StopDaemon: func(context.Context) error { stops++; return nil },
	}
	return w, reg, &spawned, &stops
}

func TestWindowsLogonLifecycle(t *testing.T) {
	ctx := context.Background()
	w, reg, spawned, stops := newTestLogon()
	c := testConfig(t, "Program Files (x86) Cairn Zoë")
	c.DataDir = w.DefaultDataDir

	if err := w.Start(ctx); err != ErrNotInstalled {
		t.Errorf("Start before install: %v", err)
	}
	res, err := w.Install(ctx, c)
	if err != nil || !res.Changed {
		t.Fatalf("install: %+v, %v", res, err)
	}
	cmd, _, _ := reg.String(runkey.RunKey, RunValueName)
	want := append([]string{w.Conhost, "--headless", c.Exe}, c.Args()...)
	if got := runkey.Split(cmd); !slices.Equal(got, want) {
		t.Errorf("Run value %s splits into %q, want %q", cmd, got, want)
	}
	if res, err = w.Install(ctx, c); err != nil || res.Changed {
		t.Fatalf("second install: %+v, %v", res, err)
	}

	st, err := w.Status(ctx)
	if err != nil || !st.Installed || !st.AtLogin || st.Exe != c.Exe || st.Port != 7070 || st.Running {
		t.Errorf("status: %+v, %v", st, err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if len(*spawned) != 1 || !slices.Equal((*spawned)[0], append([]string{c.Exe}, c.Args()...)) {
		t.Errorf("Start spawned %q, want the daemon itself (no conhost: the spawn hides it)", *spawned)
	}
	if err := w.Restart(ctx); err != nil || *stops != 1 || len(*spawned) != 2 {
		t.Errorf("restart: %v, stops %d, spawns %d", err, *stops, len(*spawned))
	}

	reg.SetBinary(runkey.ApprovedKey, RunValueName, []byte{3, 0, 0, 0})
	if st, _ = w.Status(ctx); st.AtLogin || !strings.Contains(strings.Join(st.Notes, " "), "Task Manager") {
		t.Errorf("switched off in Task Manager: %+v", st)
	}
	if res, _ = w.Install(ctx, c); !res.Changed {
		t.Error("install did not switch the entry back on")
	}

	if removed, err := w.Uninstall(ctx); err != nil || !removed || *stops != 1 {
		t.Fatalf("uninstall: %v, %v (stops %d: a running daemon is left alone)", removed, err, *stops)
	}
	if st, _ = w.Status(ctx); st.Installed {
		t.Errorf("after uninstall: %+v", st)
	}
	if removed, err := w.Uninstall(ctx); err != nil || removed {
		t.Fatalf("second uninstall: %v, %v", removed, err)
	}
	if err := w.Stop(ctx); err != ErrNotInstalled {
		t.Errorf("stop after uninstall: %v", err)
	}
	if u, err := w.ServiceOf(ctx, 42); u != nil || err != nil {
		t.Errorf("ServiceOf: %+v, %v", u, err)
	}
}

// A logon entry cannot carry CAIRN_HOME: a data dir other than the default
// must be the account's own CAIRN_HOME.
func TestWindowsLogonDataDir(t *testing.T) {
	w, reg, _, _ := newTestLogon()
	c := testConfig(t, "bin")
	c.DataDir = "/D/Cairn Data"
	_, err := w.Install(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), `setx CAIRN_HOME "/D/Cairn Data"`) {
		t.Fatalf("install with a shell-only CAIRN_HOME: %v", err)
	}
	reg.SetString("Environment", "CAIRN_HOME", "/d/cairn data")
	if _, err := w.Install(context.Background(), c); err != nil {
		t.Fatalf("install with the account's CAIRN_HOME: %v", err)
	}
}
