// Package dbustest is test support for end-to-end tests of the tray app on
// Linux. It runs a private D-Bus session bus and plays the desktop's parts
// on it, so that a test can launch the real tray binary with
// DBUS_SESSION_BUS_ADDRESS pointed at that bus and then see and drive what a
// user would:
//
//   - StartBus runs a private dbus-daemon (no display, no desktop needed).
//   - StartWatcher plays the tray host (org.kde.StatusNotifierWatcher) that
//     fyne.io/systray registers its StatusNotifierItem with.
//   - Item reads and clicks the item's com.canonical.dbusmenu menu, the way a
//     panel does when the user opens the tray menu.
//   - StartNotifier plays the notification daemon
//     (org.freedesktop.Notifications), records what the app shows and can
//     "click" a notification's action button.
//
// Everything waits on D-Bus events with the caller's context deadline rather
// than sleeping, and every process and connection is cleaned up through
// t.Cleanup.
package dbustest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// startTimeout bounds how long StartBus waits for dbus-daemon to print its
// address. It is generous because CI machines under -race can be slow, but
// finite so a broken daemon fails the test instead of hanging it.
const startTimeout = 15 * time.Second

// maxSocketPath keeps the socket path under the kernel's sun_path limit
// (108 bytes on Linux, including the NUL) with a little room to spare.
const maxSocketPath = 100

// busConfig is the dbus-daemon configuration of a test bus.
//
// It deliberately lists no <servicedir> and no <standard_session_servicedirs/>:
// with those, a call to a name nobody owns (for example
// org.freedesktop.Notifications before StartNotifier) would make the daemon
// D-Bus-activate whatever notification daemon is installed on the machine,
// which then starts without a display and crashes or hangs the test. Without
// service directories such a call fails at once with ServiceUnknown, which is
// what a test wants to see.
//
// EXTERNAL auth (peer credentials over the unix socket) is all godbus and the
// app need, and the allow-everything policy keeps the bus from getting in the
// way of what is being tested.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// Bus is a private dbus-daemon session bus. StartBus ties it to a test;
// Launch, for programs that are not tests (the bench), leaves stopping it
// to the caller.
type Bus struct {
	addr   string
	pid    int
	stderr *proctest.SyncBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartBus starts a private dbus-daemon for the test and returns once it
// accepts connections. The daemon is killed and waited for in t.Cleanup, so
// it never outlives the test. StartBus fails the test if dbus-daemon is not
// installed or does not come up: a skipped end-to-end test would hide a
// broken environment.
func StartBus(t testing.TB) *Bus {
	t.Helper()
	dir := t.TempDir()
	// t.TempDir embeds the test name, and a long subtest name can push the
	// socket path past sun_path's limit; fall back to a short directory.
	if len(filepath.Join(dir, "bus")) > maxSocketPath {
		short, err := os.MkdirTemp("", "dbt")
		if err != nil {
			t.Fatalf("dbustest: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(short) })
		dir = short
	}
	b, err := Launch(dir)
	if err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}

// Launch starts a private dbus-daemon with its config and socket in dir and
// returns once it has printed its address. The caller stops it with Stop.
func Launch(dir string) (*Bus, error) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return nil, fmt.Errorf("dbus-daemon not found (Debian: apt-get install -y dbus): %w", err)
	}
	cfg := filepath.Join(dir, "session.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(busConfig, filepath.Join(dir, "bus"))), 0o600); err != nil {
		return nil, fmt.Errorf("writing bus config: %w", err)
	}

	// stdout goes through an os.Pipe we own rather than cmd.StdoutPipe so
	// that reading it and waiting for the process are independent.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	b := &Bus{stderr: &proctest.SyncBuffer{}, exited: make(chan struct{})}
	b.cmd = exec.Command(daemon,
		"--config-file="+cfg,
		"--nofork",
		"--nopidfile",
		"--nosyslog",
		"--print-address=1",
	)
	b.cmd.Stdout = outW
	b.cmd.Stderr = b.stderr
	b.cmd.Dir = dir
	// Keep the daemon from inheriting a session bus address: nothing in
	// it should ever talk to the real desktop.
	b.cmd.Env = withoutEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS")
	if err := b.cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("starting dbus-daemon: %w", err)
	}
	outW.Close()
	b.pid = b.cmd.Process.Pid

	var waitErr error
	go func() {
		waitErr = b.cmd.Wait()
		close(b.exited)
	}()

	lines := make(chan string, 1)
	go func() {
		defer outR.Close()
		r := bufio.NewReader(outR)
		line, err := r.ReadString('\n')
		if err == nil {
			lines <- strings.TrimSpace(line)
		}
		close(lines)
		// Drain until the daemon exits so it never blocks on stdout.
		_, _ = io.Copy(io.Discard, r)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if ok && line != "" {
			b.addr = line
			return b, nil
		}
		b.Stop()
		return nil, fmt.Errorf("dbus-daemon printed no address: %s", b.stderr.String())
	case <-b.exited:
		return nil, fmt.Errorf("dbus-daemon exited early: %v: %s", waitErr, b.stderr.String())
	case <-timer.C:
		b.Stop()
		return nil, fmt.Errorf("dbus-daemon printed no address within %v: %s", startTimeout, b.stderr.String())
	}
}

// Stop kills the daemon and waits for it.
func (b *Bus) Stop() {
	_ = b.cmd.Process.Kill()
	<-b.exited
}

// Address returns the bus address, for DBUS_SESSION_BUS_ADDRESS.
func (b *Bus) Address() string { return b.addr }

// PID returns the process id of the dbus-daemon.
func (b *Bus) PID() int { return b.pid }

// Environ returns base with DBUS_SESSION_BUS_ADDRESS set to this bus, for
// exec.Cmd.Env when launching the app under test. Any previous value is
// dropped so the app cannot reach the real desktop session.
func (b *Bus) Environ(base []string) []string {
	return append(withoutEnv(base, "DBUS_SESSION_BUS_ADDRESS"), "DBUS_SESSION_BUS_ADDRESS="+b.addr)
}

// Conn returns a new private, authenticated connection to the bus, closed in
// t.Cleanup. Each caller gets its own connection so that names owned,
// objects exported and signal subscriptions never leak between the parts of
// a test (the watcher, the notifier, a fake app).
func (b *Bus) Conn(t testing.TB) *dbus.Conn {
	t.Helper()
	conn, err := b.dial()
	if err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// dial connects without registering a cleanup, for owners that close the
// connection themselves (Watcher.Stop).
func (b *Bus) dial() (*dbus.Conn, error) {
	// dbus.Connect performs Auth and Hello.
	conn, err := dbus.Connect(b.addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to test bus %s: %w (daemon stderr: %s)", b.addr, err, b.stderr.String())
	}
	return conn, nil
}

func withoutEnv(env []string, key string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
