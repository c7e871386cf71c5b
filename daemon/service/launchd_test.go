package service

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"howett.net/plist"
)

func TestLaunchdAgentPlist(t *testing.T) {
	for _, name := range append(oddNames, "a<b>&c]]>") {
		c := testConfig(t, name)
		data, err := LaunchdAgent(c)
		if err != nil {
			t.Fatalf("LaunchdAgent(%q): %v", c.Exe, err)
		}
		// Parsed back generically, so a misspelt key or a wrong type shows.
		var m map[string]any
		if format, err := plist.Unmarshal(data, &m); err != nil || format != plist.XMLFormat {
			t.Fatalf("parse back: %d, %v\n%s", format, err, data)
		}
		out := filepath.Join(c.DataDir, "logs", "daemon.out")
		want := map[string]any{
			"Label":                AgentLabel,
			"ProgramArguments":     []any{c.Exe, "serve", "--foreground", "--port", "7070"},
			"EnvironmentVariables": map[string]any{"CAIRN_HOME": c.DataDir, "CAIRN_SUPERVISOR": "launchd"},
			"RunAtLoad":            true,
			"KeepAlive":            map[string]any{"SuccessfulExit": false},
			"ThrottleInterval":     uint64(throttleInterval),
			"ExitTimeOut":          uint64(stopTimeoutSec),
			"StandardOutPath":      out,
			"StandardErrorPath":    out,
		}
		if len(m) != len(want) {
			t.Errorf("keys: got %d, want %d:\n%s", len(m), len(want), data)
		}
		for k, v := range want {
			if !plistEqual(m[k], v) {
				t.Errorf("%s = %#v, want %#v", k, m[k], v)
			}
		}
	}
	if _, err := LaunchdAgent(Config{Exe: "/a\nb", Port: 1, DataDir: "/d"}); err == nil {
		t.Error("a newline in the path was accepted")
	}
}

func plistEqual(a, b any) bool {
	switch b := b.(type) {
	case []any:
		a, ok := a.([]any)
		return ok && slices.Equal(a, b)
	case map[string]any:
		a, ok := a.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k := range b {
			if !plistEqual(a[k], b[k]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

const printRunning = `gui/501/com.cairnlabs.cairn = {
	active count = 1
	path = /Users/u/Library/LaunchAgents/com.cairnlabs.cairn.plist
	type = LaunchAgent
	state = running

	program = /usr/local/bin/cairn
	arguments = {
		/usr/local/bin/cairn
		serve
	}

	pid = 4242
	immediate reason = speculative
	forks = 0
	execs = 1
	last exit code = (never exited)
}
`

const printWaiting = `gui/501/com.cairnlabs.cairn = {
	state = not running
	last exit code = 3
	environment = {
		state = nested block must be ignored
	}
}
`

func newTestLaunchd(t *testing.T) (*LaunchdUser, *fakeRunner) {
	r := &fakeRunner{}
	return &LaunchdUser{Dir: filepath.Join(t.TempDir(), "Library", "LaunchAgents"), UID: 501, Run: r}, r
}

func TestLaunchdLifecycle(t *testing.T) {
	ctx := context.Background()
	l, r := newTestLaunchd(t)
	c := testConfig(t, `Cairn "beta" ü`)
	r.on("launchctl print gui/501/com.cairnlabs.cairn", "Could not find service", launchctlNoSuchService)

	if err := l.Start(ctx); err != ErrNotInstalled {
		t.Errorf("Start before install: %v", err)
	}
	res, err := l.Install(ctx, c)
	if err != nil || !res.Changed || res.Restarted {
		t.Fatalf("install: %+v, %v", res, err)
	}
	if fi, err := os.Stat(filepath.Join(c.DataDir, "logs")); err != nil || !fi.IsDir() {
		t.Errorf("logs folder for launchd's output: %v", err)
	}
	equalCalls(t, "install", r.take(), "launchctl enable gui/501/com.cairnlabs.cairn")
	if res, err = l.Install(ctx, c); err != nil || res.Changed {
		t.Fatalf("second install: %+v, %v", res, err)
	}
	r.take()

	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	equalCalls(t, "start when not loaded", r.take(),
		"launchctl print gui/501/com.cairnlabs.cairn",
		"launchctl bootstrap gui/501 "+res.File)

	r.on("launchctl print gui/501/com.cairnlabs.cairn", printRunning, 0)
	r.on("launchctl print-disabled gui/501", `disabled services = {
	"com.cairnlabs.cairn" => enabled
}`, 0)
	st, err := l.Status(ctx)
	if err != nil || !st.Installed || !st.Running || st.PID != 4242 || !st.AtLogin || st.State != "running" ||
		st.Exe != c.Exe || st.Port != 7070 || st.DataDir != c.DataDir || st.LastExit != 0 {
		t.Errorf("status: %+v, %v", st, err)
	}
	r.take()

	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	equalCalls(t, "start and restart when loaded", r.take(),
		"launchctl print gui/501/com.cairnlabs.cairn",
		"launchctl kickstart gui/501/com.cairnlabs.cairn",
		"launchctl print gui/501/com.cairnlabs.cairn",
		"launchctl kickstart -k gui/501/com.cairnlabs.cairn")

	// The binary moved while loaded: launchd keeps the old definition until
	// the agent is booted out and in again.
	moved := c
	moved.Exe = fakeCairn(t, "moved")
	if res, err = l.Install(ctx, moved); err != nil || !res.Changed || !res.Restarted {
		t.Fatalf("install after a move: %+v, %v", res, err)
	}
	equalCalls(t, "install after a move", r.take(),
		"launchctl enable gui/501/com.cairnlabs.cairn",
		"launchctl print gui/501/com.cairnlabs.cairn",
		"launchctl bootout gui/501/com.cairnlabs.cairn",
		"launchctl bootstrap gui/501 "+res.File)

	r.on("launchctl print gui/501/com.cairnlabs.cairn", printWaiting, 0)
	r.on("launchctl print-disabled gui/501", `"com.cairnlabs.cairn" => disabled`, 0)
	if st, _ = l.Status(ctx); st.Running || st.LastExit != 3 || st.State != "not running" || st.AtLogin || len(st.Notes) != 1 || st.Exe != moved.Exe {
		t.Errorf("failed, switched-off status: %+v", st)
	}
	r.take()

	if err := l.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	equalCalls(t, "stop", r.take(), "launchctl bootout gui/501/com.cairnlabs.cairn")
	r.on("launchctl bootout", "Boot-out failed: 3: No such process", 3)
	if err := l.Stop(ctx); err != nil {
		t.Errorf("stopping what is not loaded: %v", err)
	}
	if removed, err := l.Uninstall(ctx); err != nil || !removed {
		t.Fatalf("uninstall: %v %v", removed, err)
	}
	if _, err := os.Stat(res.File); !os.IsNotExist(err) {
		t.Error("plist left behind")
	}
	if removed, err := l.Uninstall(ctx); err != nil || removed {
		t.Fatalf("second uninstall: %v %v", removed, err)
	}
}

func TestLaunchdServiceOf(t *testing.T) {
	ctx := context.Background()
	l, r := newTestLaunchd(t)
	r.on("launchctl list", "PID\tStatus\tLabel\n-\t0\tcom.apple.x\n4242\t0\tcom.cairnlabs.cairn\n77\t-9\thomebrew.mxcl.cairn\n", 0)
	u, err := l.ServiceOf(ctx, 4242)
	if err != nil || u == nil || u.Name != AgentLabel || !u.Ours || u.StopCommand() != "launchctl bootout gui/501/com.cairnlabs.cairn" {
		t.Errorf("our agent: %+v, %v", u, err)
	}
	if u, err = l.ServiceOf(ctx, 77); err != nil || u == nil || u.Name != "homebrew.mxcl.cairn" || u.Ours {
		t.Errorf("another agent running cairn: %+v, %v", u, err)
	}
	if u, err = l.ServiceOf(ctx, 4243); err != nil || u != nil {
		t.Errorf("a daemon no agent runs: %+v, %v", u, err)
	}
	r.take()
	if err := l.StopUnit(ctx, Unit{Manager: Launchd, Name: "homebrew.mxcl.cairn"}); err != nil {
		t.Fatal(err)
	}
	equalCalls(t, "StopUnit", r.take(), "launchctl bootout gui/501/homebrew.mxcl.cairn")
	r.on("launchctl list", "boom", 1)
	if _, err := l.ServiceOf(ctx, 4242); err == nil || !strings.Contains(err.Error(), "launchctl list") {
		t.Errorf("failing launchctl list: %v", err)
	}
}
