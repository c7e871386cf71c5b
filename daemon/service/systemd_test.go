package service

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSystemdUnitText(t *testing.T) {
	c := Config{Exe: fakeCairn(t, "bin"), Port: 7171, DataDir: "/home/u/.local/share/cairn"}
	text, err := SystemdUnit(c)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text, "\n")
	for _, want := range []string{
		"ExecStart=" + c.Exe + " serve --foreground --port 7171",
		`Environment=CAIRN_HOME=/home/u/.local/share/cairn`,
		"Environment=CAIRN_SUPERVISOR=systemd",
		"Type=exec",
		"Restart=on-failure",
		"RestartPreventExitStatus=3 5",
		"StartLimitIntervalSec=120",
		"StartLimitBurst=5",
		"WantedBy=default.target",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in\n%s", want, text)
		}
	}
	// The start limit belongs in [Unit]: in [Service] systemd ignores it.
	if strings.Index(text, "StartLimitBurst") > strings.Index(text, "[Service]") {
		t.Errorf("StartLimitBurst is not in [Unit]:\n%s", text)
	}
}

func TestSystemdUnitOddPaths(t *testing.T) {
	for _, name := range oddNames {
		c := testConfig(t, name)
		text, err := SystemdUnit(c)
		if err != nil {
			t.Fatalf("SystemdUnit(%q): %v", c.Exe, err)
		}
		info, err := parseSystemdUnit(text)
		if err != nil {
			t.Fatalf("parse back %q: %v\n%s", c.Exe, err, text)
		}
		if want := append([]string{c.Exe}, c.Args()...); !slices.Equal(info.Command, want) || info.DataDir != c.DataDir {
			t.Errorf("round trip of %q: command %q, data dir %q\n%s", name, info.Command, info.DataDir, text)
		}
		verifyUnit(t, text)
	}
	for _, bad := range []string{"a\nb", "a\tb", "a\x7fb", "a\xffb"} {
		c := Config{Exe: "/x/" + bad + "/cairn", Port: 7070, DataDir: "/d"}
		if _, err := SystemdUnit(c); err == nil {
			t.Errorf("SystemdUnit accepted %q", c.Exe)
		}
		c = Config{Exe: fakeCairn(t, "ok"), Port: 7070, DataDir: "/d/" + bad}
		if _, err := SystemdUnit(c); err == nil {
			t.Errorf("SystemdUnit accepted data dir %q", c.DataDir)
		}
	}
	for _, c := range []Config{
		{Exe: "relative/cairn", Port: 7070, DataDir: "/d"},
		{Exe: fakeCairn(t, "p"), Port: 0, DataDir: "/d"},
		{Exe: fakeCairn(t, "p"), Port: 70000, DataDir: "/d"},
		{Exe: fakeCairn(t, "p"), Port: 7070, DataDir: "rel"},
		{Exe: "/does/not/exist/cairn", Port: 7070, DataDir: "/d"},
	} {
		if _, err := SystemdUnit(c); err == nil {
			t.Errorf("SystemdUnit accepted %+v", c)
		}
	}
}

// verifyUnit runs `systemd-analyze --user verify` on the unit, which parses
// it as systemd does and checks that ExecStart names an executable file:
// a path quoted wrongly would name a file that does not exist. Any output
// (a warning for an unknown key, say) fails the test.
func verifyUnit(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed (scripts/test-deps.sh installs it); skipping verify")
		return
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, UnitName)
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	os.Mkdir(run, 0o700)
	cmd := exec.Command(bin, "--user", "verify", unit)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+run, "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s\n%s", err, out, text)
	}
}

// An executable path with a quote or backslash is run through /usr/bin/env:
// systemd refuses such characters in the executable itself.
func TestSystemdUnitEnvFallback(t *testing.T) {
	for name, viaEnv := range map[string]bool{"a b": false, `a"b`: true, "a'b": true, `a\b`: true, "a$b%c": false} {
		c := testConfig(t, name)
		text, _ := SystemdUnit(c)
		if got := strings.Contains(text, "ExecStart=/usr/bin/env "); got != viaEnv {
			t.Errorf("%q: through env = %v, want %v\n%s", name, got, viaEnv, text)
		}
	}
}

func TestSplitSystemd(t *testing.T) {
	for in, want := range map[string][]string{
		`a "b c" 'd e' f\x20g`: {"a", "b c", "d e", "f g"},
		`"a\"b\\c"`:            {`a"b\c`},
		`  x  `:                {"x"},
	} {
		got, err := splitSystemd(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("splitSystemd(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := splitSystemd(`"open`); err == nil {
		t.Error("unbalanced quote accepted")
	}
}

func TestUnitFromCgroup(t *testing.T) {
	for _, tc := range []struct {
		cgroup string
		unit   string
		system bool
	}{
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/cairn.service\n", "cairn.service", false},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-cairn-4242.scope\n", "", false},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", "", false},
		{"0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", "", false},
		{"0::/system.slice/cairn.service\n", "cairn.service", true},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-u12.service\n", "run-u12.service", false},
		// cgroup v1 with the named systemd hierarchy (this sandbox's layout).
		{"9:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/cairn.service\n4:memory:/x\n0::/\n", "cairn.service", false},
		{"9:name=systemd:/\n0::/\n", "", false},
		{"", "", false},
	} {
		unit, system := unitFromCgroup(tc.cgroup)
		if unit != tc.unit || system != tc.system {
			t.Errorf("unitFromCgroup(%q) = %q, %v; want %q, %v", tc.cgroup, unit, system, tc.unit, tc.system)
		}
	}
}

func newTestSystemd(t *testing.T) (*SystemdUser, *fakeRunner) {
	t.Helper()
	r := &fakeRunner{}
	s := &SystemdUser{Dir: filepath.Join(t.TempDir(), "config", "systemd", "user"), Run: r,
		Cgroup: func(int) (string, error) { return "", os.ErrNotExist },
		Linger: filepath.Join(t.TempDir(), "linger", "u")}
	return s, r
}

func TestSystemdInstallStatusUninstall(t *testing.T) {
	ctx := context.Background()
	s, r := newTestSystemd(t)
	c := testConfig(t, "Zoë's apps")

	st, err := s.Status(ctx)
	if err != nil || st.Installed {
		t.Fatalf("before install: %+v, %v", st, err)
	}
	if err := s.Start(ctx); err != ErrNotInstalled {
		t.Errorf("Start before install: %v", err)
	}
	res, err := s.Install(ctx, c)
	if err != nil || !res.Changed || res.Restarted || res.File != filepath.Join(s.Dir, UnitName) {
		t.Fatalf("install: %+v, %v", res, err)
	}
	equalCalls(t, "first install", r.take(),
		"systemctl --user daemon-reload",
		"systemctl --user enable cairn.service")
	text, _ := os.ReadFile(res.File)
	verifyUnit(t, string(text))

	// Installing the same again writes nothing and reloads nothing.
	fi1, _ := os.Stat(res.File)
	if res, err = s.Install(ctx, c); err != nil || res.Changed {
		t.Fatalf("second install: %+v, %v", res, err)
	}
	if fi2, _ := os.Stat(res.File); !os.SameFile(fi1, fi2) {
		t.Error("second install rewrote the unit")
	}
	equalCalls(t, "second install", r.take(), "systemctl --user enable cairn.service")

	r.on("systemctl --user show cairn.service", "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nUnitFileState=enabled\nExecMainStatus=0\nResult=success\n", 0)
	st, err = s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || !st.Running || st.PID != 4242 || !st.AtLogin || st.State != "active (running)" ||
		st.Exe != c.Exe || st.Port != 7070 || st.DataDir != c.DataDir || len(st.Notes) != 1 {
		t.Errorf("status: %+v", st)
	}
	r.take()

	// The binary moved: the unit is rewritten and the running service
	// restarted on it.
	moved := c
	moved.Exe = fakeCairn(t, "new place")
	if res, err = s.Install(ctx, moved); err != nil || !res.Changed || !res.Restarted {
		t.Fatalf("install after a move: %+v, %v", res, err)
	}
	equalCalls(t, "install after a move", r.take(),
		"systemctl --user daemon-reload",
		"systemctl --user enable cairn.service",
		"systemctl --user show cairn.service --property=LoadState,ActiveState,SubState,MainPID,UnitFileState,ExecMainStatus,Result",
		"systemctl --user restart cairn.service")
	if st, _ = s.Status(ctx); st.Exe != moved.Exe {
		t.Errorf("status after a move names %s", st.Exe)
	}
	r.take()

	for verb, f := range map[string]func(context.Context) error{"start": s.Start, "stop": s.Stop, "restart": s.Restart} {
		if err := f(ctx); err != nil {
			t.Fatal(err)
		}
		want := []string{"systemctl --user reset-failed cairn.service", "systemctl --user " + verb + " cairn.service"}
		if verb == "stop" {
			want = want[1:]
		}
		equalCalls(t, verb, r.take(), want...)
	}

	// A failed unit reports its exit status; linger on drops the note.
	os.MkdirAll(filepath.Dir(s.Linger), 0o755)
	os.WriteFile(s.Linger, nil, 0o644)
	r.on("systemctl --user show cairn.service", "ActiveState=failed\nSubState=failed\nMainPID=0\nUnitFileState=enabled\nExecMainStatus=3\nResult=exit-code\n", 0)
	if st, _ = s.Status(ctx); st.Running || st.LastExit != 3 || st.State != "failed" || len(st.Notes) != 0 {
		t.Errorf("failed status: %+v", st)
	}
	// No user manager reachable: the file part still comes back.
	r.on("systemctl --user show", "Failed to connect to bus: No medium found", 1)
	if st, err = s.Status(ctx); err != nil || !st.Installed || st.State != "unknown" || len(st.Notes) == 0 {
		t.Errorf("status without systemd: %+v, %v", st, err)
	}
	r.take()

	if removed, err := s.Uninstall(ctx); err != nil || !removed {
		t.Fatalf("uninstall: %v, %v", removed, err)
	}
	equalCalls(t, "uninstall", r.take(),
		"systemctl --user disable --now cairn.service",
		"systemctl --user daemon-reload",
		"systemctl --user reset-failed cairn.service")
	if _, err := os.Stat(res.File); !os.IsNotExist(err) {
		t.Errorf("unit file still there: %v", err)
	}
	if removed, err := s.Uninstall(ctx); err != nil || removed {
		t.Fatalf("second uninstall: %v, %v", removed, err)
	}
	equalCalls(t, "second uninstall", r.take())
}

// Without a user manager (systemctl fails as the real one does), install
// leaves no unit behind, says what is missing and how to get it, and the
// other calls say the same instead of guessing.
func TestSystemdWithoutUserManager(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		session SessionInfo
		said    string
		want    []string
	}{
		{"not booted with systemd", SessionInfo{RuntimeDir: "/run/user/1000", User: "zoe", UID: 1000}, "Failed to connect to bus: No medium found",
			[]string{"not booted with systemd", "'cairn start'", "'cairn login-item on'"}},
		{"no XDG_RUNTIME_DIR", SessionInfo{Booted: true, User: "zoe", UID: 1000}, "Failed to connect to bus: No medium found",
			[]string{"XDG_RUNTIME_DIR is not set", "XDG_RUNTIME_DIR=/run/user/1000", "'loginctl enable-linger zoe'"}},
		{"no user manager", SessionInfo{Booted: true, RuntimeDir: "/run/user/1000", User: "zoe", UID: 1000},
			"Failed to connect to user scope bus via local transport: No such file or directory",
			[]string{"user manager of zoe is not running", "/run/user/1000/bus", "Log in through a session", "'sudo loginctl enable-linger zoe'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := newTestSystemd(t)
			s.Session = tc.session
			r.on("systemctl --user", tc.said, 1)
			_, err := s.Install(ctx, testConfig(t, "x"))
			var ns *NoSessionError
			if !errors.As(err, &ns) || !strings.Contains(err.Error(), tc.said) {
				t.Fatalf("install: %v", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("install's message lacks %q: %v", want, err)
				}
			}
			if _, err := os.Stat(filepath.Join(s.Dir, UnitName)); !os.IsNotExist(err) {
				t.Error("install left a unit file that systemd never took")
			}
			if err := s.Start(ctx); err != ErrNotInstalled {
				t.Errorf("start after the failed install: %v", err)
			}
		})
	}
}

// A unit installed while a session ran, read when none runs: status says
// it cannot tell rather than "not running", takes "at login" from the
// enable link, and uninstall removes both files.
func TestSystemdInstalledUnitWithoutUserManager(t *testing.T) {
	ctx := context.Background()
	s, r := newTestSystemd(t)
	s.Session = SessionInfo{Booted: true, User: "zoe", UID: 1000}
	if _, err := s.Install(ctx, testConfig(t, "x")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(s.wantsLink()), 0o755)
	if err := os.Symlink(filepath.Join(s.Dir, UnitName), s.wantsLink()); err != nil {
		t.Fatal(err)
	}
	r.on("systemctl --user", "Failed to connect to bus: No medium found", 1)
	st, err := s.Status(ctx)
	if err != nil || !st.Installed || st.Running || st.State != "unknown" || !st.AtLogin ||
		len(st.Notes) == 0 || !strings.Contains(st.Notes[len(st.Notes)-1], "XDG_RUNTIME_DIR is not set") {
		t.Errorf("status: %+v, %v", st, err)
	}
	var ns *NoSessionError
	if err := s.Start(ctx); !errors.As(err, &ns) {
		t.Errorf("start: %v", err)
	}
	if removed, err := s.Uninstall(ctx); err != nil || !removed {
		t.Fatalf("uninstall: %v, %v", removed, err)
	}
	for _, f := range []string{filepath.Join(s.Dir, UnitName), s.wantsLink()} {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s left behind", f)
		}
	}
}

// A systemd that refuses the new unit for another reason gets the old
// definition back, not a file it never loaded.
func TestSystemdInstallPutsTheOldUnitBack(t *testing.T) {
	ctx := context.Background()
	s, r := newTestSystemd(t)
	if _, err := s.Install(ctx, testConfig(t, "x")); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(s.Dir, UnitName))
	r.on("systemctl --user enable", "Failed to enable unit: Access denied", 1)
	if _, err := s.Install(ctx, testConfig(t, "moved")); err == nil || !strings.Contains(err.Error(), "nothing was installed") {
		t.Fatalf("install: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(s.Dir, UnitName)); string(now) != string(old) {
		t.Errorf("the unit was not put back:\n%s", now)
	}
}

func TestSystemdServiceOf(t *testing.T) {
	ctx := context.Background()
	s, r := newTestSystemd(t)
	cgroups := map[int]string{
		100: "0::/user.slice/user-1000.slice/user@1000.service/app.slice/cairn.service\n",
		200: "0::/user.slice/user-1000.slice/session-2.scope\n",
		300: "0::/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.service\n",
		400: "0::/system.slice/cairn.service\n",
	}
	s.Cgroup = func(pid int) (string, error) {
		if cg, ok := cgroups[pid]; ok {
			return cg, nil
		}
		return "", os.ErrNotExist
	}
	r.on("systemctl --user show cairn.service --property=MainPID --value", "100\n", 0)
	r.on("systemctl --user show tmux.service --property=MainPID --value", "299\n", 0)
	r.on("systemctl show cairn.service --property=MainPID --value", "400\n", 0)

	u, err := s.ServiceOf(ctx, 100)
	if err != nil || u == nil || u.Name != UnitName || u.System || !u.Ours {
		t.Errorf("our unit's main process: %+v, %v", u, err)
	}
	if u, err := s.ServiceOf(ctx, 200); err != nil || u != nil {
		t.Errorf("a terminal's process: %+v, %v", u, err)
	}
	// A daemon started in a shell that lives in tmux.service is not that
	// unit's main process: systemd would not respawn it.
	if u, err := s.ServiceOf(ctx, 300); err != nil || u != nil {
		t.Errorf("a process inside another unit: %+v, %v", u, err)
	}
	u, err = s.ServiceOf(ctx, 400)
	if err != nil || u == nil || !u.System || u.StopCommand() != "sudo systemctl stop cairn.service" {
		t.Errorf("a system unit: %+v, %v", u, err)
	}
	if err := s.StopUnit(ctx, *u); err == nil || !strings.Contains(err.Error(), "sudo systemctl stop") {
		t.Errorf("stopping a system unit: %v", err)
	}
	// No cgroup (not Linux, or hidden): only our installed unit is checked.
	if u, err := s.ServiceOf(ctx, 100100); err != nil || u != nil {
		t.Errorf("no cgroup, nothing installed: %+v, %v", u, err)
	}
	s.Install(ctx, testConfig(t, "x"))
	r.on("systemctl --user show cairn.service --property=MainPID --value", "100100\n", 0)
	if u, err := s.ServiceOf(ctx, 100100); err != nil || u == nil || !u.Ours {
		t.Errorf("no cgroup, our unit's PID: %+v, %v", u, err)
	}
	// systemd cannot be asked: an error, so the caller knows nobody can tell.
	r.on("systemctl --user show", "Failed to connect to bus", 1)
	if u, err := s.ServiceOf(ctx, 100); err == nil || u != nil {
		t.Errorf("unreachable systemd: %+v, %v", u, err)
	}
	r.take()
	r.on("systemctl --user stop", "Job for cairn.service canceled", 1)
	if err := s.StopUnit(ctx, Unit{Manager: Systemd, Name: "cairn.service"}); err == nil {
		t.Error("a failing systemctl stop was swallowed")
	}
	equalCalls(t, "StopUnit", r.take(), "systemctl --user stop cairn.service")
}
