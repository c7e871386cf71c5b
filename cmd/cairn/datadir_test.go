//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// runWithin runs one cairn command and fails the test if it has not exited
// within d: a hang on a planted file must fail the test, not hang it.
func runWithin(t *testing.T, env *proctest.Env, d time.Duration, args ...string) (int, string) {
	t.Helper()
	if args[0] == "start" {
		// A start that wrongly succeeds leaves a detached daemon: end it.
		t.Cleanup(func() {
			stop := exec.Command(cairnBin, "stop", "--force")
			stop.Env = env.Environ()
			stop.Run()
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, cairnBin, args...)
	cmd.Env = env.Environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second // a detached daemon may hold the pipes
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("cairn %s did not return within %s: %s", strings.Join(args, " "), d, out.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("cairn %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// serveWithin starts `cairn serve --foreground` and waits at most d for it
// to exit or to serve; a daemon that serves is stopped. It returns the exit
// code (0 when it served) and its output.
func serveWithin(t *testing.T, env *proctest.Env, d time.Duration) (int, string) {
	t.Helper()
	p := serve(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := instance.WaitReady(ctx, env.Paths(), p.PID(), p.ExitCh())
	if ctx.Err() != nil && err != nil && !p.Exited() {
		t.Fatalf("serve --foreground neither served nor exited within %s: %s%s", d, p.Stdout(), p.Stderr())
	}
	if err == nil {
		p.Signal(t, syscall.SIGTERM)
		p.Wait(t, 10*time.Second)
		return 0, p.Stdout() + p.Stderr()
	}
	return p.Wait(t, 10*time.Second), p.Stdout() + p.Stderr()
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// A CAIRN_HOME that is a shared folder (1777, as /tmp or / can be) keeps
// its mode and is refused with exit 5 and what to do instead.
func TestSharedDataDirIsRefusedAndNeverChmodded(t *testing.T) {
	env := proctest.NewEnv(t)
	if err := os.Mkdir(env.CairnHome, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(env.CairnHome, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	before := modeOf(t, env.CairnHome)
	code, out := serveWithin(t, env, 10*time.Second)
	if code != 5 || !strings.Contains(out, "written by group or others") || !strings.Contains(out, "point CAIRN_HOME") {
		t.Errorf("serve: exit %d, %s; want 5 naming the fix", code, out)
	}
	code, out = runWithin(t, env, 10*time.Second, "start")
	if code != 5 || !strings.Contains(out, "point CAIRN_HOME") {
		t.Errorf("start: exit %d, %s; want 5", code, out)
	}
	if after := modeOf(t, env.CairnHome); after != before {
		t.Errorf("data dir mode changed from %v to %v", before, after)
	}
}

func TestGroupWritableDataDirIsRefused(t *testing.T) {
	env := proctest.NewEnv(t)
	os.Mkdir(env.CairnHome, 0o700)
	os.Chmod(env.CairnHome, 0o770)
	code, out := serveWithin(t, env, 10*time.Second)
	if code != 5 || !strings.Contains(out, "chmod 700 "+env.CairnHome) {
		t.Errorf("serve: exit %d, %s; want 5 with chmod 700", code, out)
	}
	if m := modeOf(t, env.CairnHome); m.Perm() != 0o770 {
		t.Errorf("mode changed to %v", m)
	}
}

func TestRelativeHomeIsRefused(t *testing.T) {
	env := proctest.NewEnv(t)
	env.Extra = []string{"HOME=relative/home", "CAIRN_HOME="}
	for _, args := range [][]string{{"serve", "--foreground"}, {"status"}, {"start"}} {
		code, out := runWithin(t, env, 10*time.Second, args...)
		if code != 5 || !strings.Contains(out, "HOME is \"relative/home\"") || !strings.Contains(out, "absolute") {
			t.Errorf("%v: exit %d, %s; want 5 naming HOME", args, code, out)
		}
	}
}

// Symlinks planted in the data dir are never followed: the daemon refuses
// a linked lock or log (exit 5), replaces a linked token, and every victim
// keeps its content.
func TestSymlinkVictimsUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name string
		file func(env *proctest.Env) string
		code int
	}{
		{"lock", func(env *proctest.Env) string { return env.Paths().Lock }, 5},
		{"daemon.log", func(env *proctest.Env) string { return env.Paths().DaemonLog }, 5},
		{"token", func(env *proctest.Env) string { return env.Paths().Token }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := proctest.NewEnv(t)
			if err := env.Paths().EnsureDataDir(); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(t.TempDir(), "victim")
			os.WriteFile(victim, []byte("precious\n"), 0o600)
			if err := os.Symlink(victim, tc.file(env)); err != nil {
				t.Fatal(err)
			}
			code, out := runWithin(t, env, 20*time.Second, "start")
			if code != tc.code {
				t.Errorf("start: exit %d, want %d: %s", code, tc.code, out)
			}
			if tc.code == 5 && !strings.Contains(out, "symlink") {
				t.Errorf("start does not name the symlink: %s", out)
			}
			if code, out := runWithin(t, env, 20*time.Second, "stop"); code != 0 {
				t.Errorf("stop: exit %d: %s", code, out)
			}
			if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
				t.Errorf("victim changed: %q", data)
			}
		})
	}
}

// A FIFO at daemon.lock, http_addr or control.token, or a token linked to
// /dev/zero, never hangs a command: each returns within 2 s (of a clean
// run's time), with the file named where it is refused.
func TestPlantedSpecialFilesNeverHang(t *testing.T) {
	fifo := func(p string) error { return syscall.Mkfifo(p, 0o600) }
	for _, tc := range []struct {
		name  string
		file  func(env *proctest.Env) string
		plant func(string) error
		serve int // the exit code of serve --foreground and start
		says  string
	}{
		{"fifo-lock", func(env *proctest.Env) string { return env.Paths().Lock }, fifo, 5, "is a FIFO"},
		{"fifo-http_addr", func(env *proctest.Env) string { return env.Paths().AddrFile }, fifo, 0, ""},
		{"fifo-token", func(env *proctest.Env) string { return env.Paths().Token }, fifo, 0, ""},
		{"token-dev-zero", func(env *proctest.Env) string { return env.Paths().Token },
			func(p string) error { return os.Symlink("/dev/zero", p) }, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The bound is 2 s beyond what a command takes on a clean data
			// dir right now: status scans every process for the port's
			// holder, which takes seconds by itself when other test suites
			// load the machine. A FIFO hang is forever, so it still fails.
			clean := proctest.NewEnv(t)
			began := time.Now()
			runWithin(t, clean, 60*time.Second, "status")
			limit := 2*time.Second + 2*time.Since(began)

			env := proctest.NewEnv(t)
			if err := env.Paths().EnsureDataDir(); err != nil {
				t.Fatal(err)
			}
			if err := tc.plant(tc.file(env)); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"status"}, {"doctor"}, {"port"}, {"stop"}} {
				code, out := runWithin(t, env, limit, args...)
				if code == 2 || strings.Contains(out, "panic") {
					t.Errorf("%v: exit %d: %s", args, code, out)
				}
				if args[0] == "doctor" && !strings.Contains(out, tc.says) {
					t.Errorf("doctor does not say %q: %s", tc.says, out)
				}
			}
			code, out := serveWithin(t, env, limit)
			if code != tc.serve || !strings.Contains(out, tc.says) {
				t.Errorf("serve --foreground: exit %d, want %d and %q: %s", code, tc.serve, tc.says, out)
			}
			code, out = runWithin(t, env, limit, "start")
			if code != tc.serve || !strings.Contains(out, tc.says) {
				t.Errorf("start: exit %d, want %d and %q: %s", code, tc.serve, tc.says, out)
			}
			if code, out := runWithin(t, env, limit, "stop"); code != 0 {
				t.Errorf("stop: exit %d: %s", code, out)
			}
		})
	}
}

// Temp files of atomic writes killed half-way are removed by the next start;
// a symlink named like one is removed as a link, its target untouched.
func TestStaleTempFilesRemovedByStart(t *testing.T) {
	env := proctest.NewEnv(t)
	ps := env.Paths()
	if err := ps.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	dot := filepath.Dir(ps.DotAddrFile)
	os.MkdirAll(dot, 0o700)
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	stale := []string{
		filepath.Join(ps.DataDir, ".http_addr.tmp1234"),
		filepath.Join(ps.DataDir, ".control.token.tmp99"),
		filepath.Join(dot, ".http_addr.tmp5678"),
	}
	// What killed starts left: an hour old (in the shared ~/.cairn only
	// files a minute old go, as another data dir's daemon may be writing).
	old := time.Now().Add(-time.Hour)
	for _, f := range stale {
		os.WriteFile(f, []byte("127.0.0.1:1\n"), 0o600)
		os.Chtimes(f, old, old)
	}
	link := filepath.Join(ps.DataDir, ".http_addr.tmp42")
	os.Symlink(victim, link)
	stale = append(stale, link)

	p := serveReady(t, env)
	for _, f := range stale {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived the start", f)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Errorf("victim changed: %q", data)
	}
	p.Signal(t, syscall.SIGTERM)
	p.Wait(t, 10*time.Second)
}
