package desktoptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// WaitTimeout bounds every wait on the desktop. It is generous because CI
// runs the whole suite with -race on two cores, where an X client and a GTK
// panel start slowly, but finite so a broken desktop fails the test.
const WaitTimeout = 45 * time.Second

// screenSize is the virtual screen: room for the panel, an open menu and a
// notification in the top-right corner.
const screenSize = "1024x768x24"

// tools are the commands the desktop needs and the Debian package of each;
// scripts/test-deps.sh installs the same list.
var tools = []struct{ cmd, pkg string }{
	{"Xvfb", "xvfb"},
	{"xfce4-panel", "xfce4-panel"},
	{"dunst", "dunst"},
	{"dunstctl", "dunst"},
	{"import", "imagemagick"},
	{"xdotool", "xdotool"},
}

// xfconfdPaths are where Debian and other distributions put xfconfd, which
// is not on PATH: it is normally D-Bus-activated, which a test bus without
// service directories cannot do, so the desktop starts it itself.
var xfconfdPaths = []string{
	"/usr/lib/*/xfce4/xfconf/xfconfd",
	"/usr/libexec/xfce4/xfconf/xfconfd",
	"/usr/lib/xfce4/xfconf/xfconfd",
}

// Bus names the desktop's parts own once they are up.
const (
	xfconfName   = "org.xfce.Xfconf"
	watcherName  = dbustest.WatcherName
	notifierName = "org.freedesktop.Notifications"
)

// Desktop is a running headless desktop. Every process it starts is
// stopped, by its process group, in t.Cleanup.
type Desktop struct {
	// Display is the X display, ":N".
	Display string
	// Screen is the whole screen in pixels.
	Screen image.Rectangle

	bus   *dbustest.Bus
	conn  *dbus.Conn // to see which bus names are owned
	env   []string
	procs []*process
}

// Start runs Xvfb, xfconfd, xfce4-panel and dunst on bus and returns once
// the panel's window is shown, its systray plugin owns
// org.kde.StatusNotifierWatcher and dunst owns
// org.freedesktop.Notifications. A missing tool fails the test with the
// Debian package to install; it never skips, so CI cannot pass by not
// running it.
func Start(t testing.TB, bus *dbustest.Bus) *Desktop {
	t.Helper()
	requireTools(t)
	xfconfd := findXfconfd(t)

	dir := t.TempDir()
	d := &Desktop{bus: bus, conn: bus.Conn(t)}
	d.startX(t, dir)
	d.env = desktopEnv(dir, d.Display, bus)
	writeConfig(t, dir)

	d.spawn(t, "xfconfd", nil, xfconfd)
	d.waitName(t, xfconfName)
	d.spawn(t, "xfce4-panel", nil, "xfce4-panel", "--disable-wm-check")
	d.waitName(t, watcherName)
	d.spawn(t, "dunst", nil, "dunst")
	d.waitName(t, notifierName)
	return d
}

// AppEnv is what an app under test adds to its environment to live on this
// desktop: the display and the private session bus.
func (d *Desktop) AppEnv() []string {
	return []string{"DISPLAY=" + d.Display, "DBUS_SESSION_BUS_ADDRESS=" + d.bus.Address()}
}

func requireTools(t testing.TB) {
	t.Helper()
	var missing, pkgs []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			missing = append(missing, tool.cmd)
			if !contains(pkgs, tool.pkg) {
				pkgs = append(pkgs, tool.pkg)
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("desktoptest: %s not found; install the Debian packages %s (apt-get install -y %s), which `make test` does through scripts/test-deps.sh",
			strings.Join(missing, ", "), strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
}

func findXfconfd(t testing.TB) string {
	t.Helper()
	for _, pattern := range xfconfdPaths {
		if matches, _ := filepath.Glob(pattern); len(matches) > 0 {
			return matches[0]
		}
	}
	t.Fatalf("desktoptest: xfconfd not found in %s; install the Debian package xfconf (xfce4-panel depends on it)", strings.Join(xfconfdPaths, ", "))
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// startX runs Xvfb on a display it picks itself (-displayfd), so tests and
// engineers running at the same time never fight over a display number.
func (d *Desktop) startX(t testing.TB, dir string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The child gets w as fd 3; -noreset keeps the server from resetting
	// each time its last client (a screenshot, a click) disconnects.
	x := d.spawnEnv(t, "Xvfb", cleanEnv(os.Environ()), []*os.File{w},
		"Xvfb", "-displayfd", "3", "-screen", "0", screenSize, "-nolisten", "tcp", "-noreset")
	w.Close()

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case line := <-lines:
		if _, err := strconv.Atoi(line); err != nil {
			t.Fatalf("desktoptest: Xvfb printed no display number (%q): %s", line, x.out.String())
		}
		d.Display = ":" + line
	case <-x.done:
		t.Fatalf("desktoptest: Xvfb exited at start: %s", x.out.String())
	case <-time.After(WaitTimeout):
		t.Fatalf("desktoptest: Xvfb printed no display number within %v: %s", WaitTimeout, x.out.String())
	}
	var wd, ht int
	fmt.Sscanf(screenSize, "%dx%d", &wd, &ht)
	d.Screen = image.Rect(0, 0, wd, ht)
}

// desktopEnv isolates the desktop's processes: their own HOME and XDG dirs
// (so the panel reads only the config written here and nothing of the
// machine's user), this display and bus, and no session manager or
// accessibility bus to look for.
func desktopEnv(dir, display string, bus *dbustest.Bus) []string {
	home := filepath.Join(dir, "home")
	runtime := filepath.Join(dir, "run")
	for _, p := range []string{home, runtime} {
		os.MkdirAll(p, 0o700)
	}
	return append(cleanEnv(os.Environ()),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR="+runtime,
		"DISPLAY="+display,
		"DBUS_SESSION_BUS_ADDRESS="+bus.Address(),
		// The private bus has no org.a11y.Bus; without this GTK asks for
		// it and logs a warning per process.
		"NO_AT_BRIDGE=1",
		"GDK_BACKEND=x11",
		// Deterministic rendering of the menu's non-ASCII characters.
		"LANG=C.UTF-8",
	)
}

// cleanEnv drops everything that could connect a desktop process to the
// developer's real session.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "DISPLAY" || k == "XAUTHORITY" || k == "WAYLAND_DISPLAY" ||
			k == "DBUS_SESSION_BUS_ADDRESS" || k == "SESSION_MANAGER" || k == "LANG" || k == "LC_ALL" ||
			strings.HasPrefix(k, "XDG_"):
		default:
			out = append(out, kv)
		}
	}
	return out
}

// panelConfig is the xfconf channel of a panel with one plugin, the systray
// (which hosts StatusNotifierItems as well as XEmbed icons). Without any
// config xfce4-panel 4.18 opens a "first start" dialog and waits for an
// answer; with this it comes straight up. A panel of its own, not the
// distribution's default.xml, keeps the screenshots free of clocks and
// plugins that are not installed here.
const panelConfig = `<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="icon-size" type="uint" value="24"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
    </property>
  </property>
</channel>
`

func writeConfig(t testing.TB, dir string) {
	t.Helper()
	cfg := filepath.Join(dir, "home", ".config", "xfce4", "xfconf", "xfce-perchannel-xml")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "xfce4-panel.xml"), []byte(panelConfig), 0o600); err != nil {
		t.Fatal(err)
	}
}

// process is one desktop process, in a process group of its own so that
// cleanup also reaches what it forks (the panel runs each plugin in a
// wrapper-2.0 child).
type process struct {
	name string
	cmd  *exec.Cmd
	out  *proctest.SyncBuffer
	done chan struct{}
}

func (d *Desktop) spawn(t testing.TB, name string, extra []*os.File, args ...string) *process {
	t.Helper()
	return d.spawnEnv(t, name, d.env, extra, args...)
}

func (d *Desktop) spawnEnv(t testing.TB, name string, env []string, extra []*os.File, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(args[0], args[1:]...), out: &proctest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.ExtraFiles = extra
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("desktoptest: starting %s: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	d.procs = append(d.procs, p)
	return p
}

// stop asks the whole group to end, then kills it if it has not within a
// few seconds. The group's id is the PID this package started.
func (p *process) stop() {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // stragglers in the group; ESRCH when none
	<-p.done
}

// outputs is every desktop process's output, for failure messages.
func (d *Desktop) outputs() string {
	var b strings.Builder
	for _, p := range d.procs {
		state := "running"
		select {
		case <-p.done:
			state = "exited " + p.cmd.ProcessState.String()
		default:
		}
		fmt.Fprintf(&b, "\n--- %s (%s):\n%s", p.name, state, p.out.String())
	}
	return b.String()
}

// waitName waits until name is owned on the bus, failing early if a
// desktop process died meanwhile.
func (d *Desktop) waitName(t testing.TB, name string) {
	t.Helper()
	d.Poll(t, "the bus name "+name, func() bool {
		var owned bool
		err := d.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned)
		return err == nil && owned
	})
}

// Poll checks cond until it holds or WaitTimeout passes. What it waits on
// (pixels on a screen, a name on a bus owned by another process) offers no
// event to block on, so it is observed with a short, growing interval.
// A desktop process that exits meanwhile fails the test at once, with the
// output of them all.
func (d *Desktop) Poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	delay := 5 * time.Millisecond
	for !cond() {
		for _, p := range d.procs {
			select {
			case <-p.done:
				t.Fatalf("desktoptest: %s exited while waiting for %s:%s", p.name, what, d.outputs())
			default:
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("desktoptest: timed out after %v waiting for %s:%s", WaitTimeout, what, d.outputs())
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// run runs a desktop tool (import, xdotool, dunstctl) to completion.
func (d *Desktop) run(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = d.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("desktoptest: %s: %v: %s%s", strings.Join(args, " "), err, stderr.String(), d.outputs())
	}
	return out
}

// Screenshot grabs the whole screen.
func (d *Desktop) Screenshot(t testing.TB) *image.RGBA {
	t.Helper()
	out := d.run(t, "import", "-window", "root", "png:-")
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("desktoptest: decoding the screenshot: %v", err)
	}
	return toRGBA(img)
}

// PanelRect is where the panel's window is on the screen: the widest
// visible xfce4-panel window (the panel also owns small unmapped helper
// windows).
func (d *Desktop) PanelRect(t testing.TB) image.Rectangle {
	t.Helper()
	var best image.Rectangle
	d.Poll(t, "a visible xfce4-panel window", func() bool {
		ids := strings.Fields(string(d.runOK("xdotool", "search", "--onlyvisible", "--classname", "^xfce4-panel$")))
		for _, id := range ids {
			if r, ok := d.windowRect(id); ok && r.Dx() > best.Dx() {
				best = r
			}
		}
		return best.Dx() > 0 && best.Dy() > 0
	})
	return best
}

// runOK is run for tools whose failure is an answer while polling (xdotool
// search exits 1 when it finds nothing).
func (d *Desktop) runOK(args ...string) []byte {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = d.env
	out, _ := cmd.Output()
	return out
}

func (d *Desktop) windowRect(id string) (image.Rectangle, bool) {
	vals := map[string]int{}
	for _, line := range strings.Fields(string(d.runOK("xdotool", "getwindowgeometry", "--shell", id))) {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			vals[k] = n
		}
	}
	w, h := vals["WIDTH"], vals["HEIGHT"]
	if w == 0 || h == 0 {
		return image.Rectangle{}, false
	}
	return image.Rect(vals["X"], vals["Y"], vals["X"]+w, vals["Y"]+h), true
}

// Click moves the pointer to p and clicks button (1 left, 3 right).
func (d *Desktop) Click(t testing.TB, p image.Point, button int) {
	t.Helper()
	d.run(t, "xdotool", "mousemove", "--sync", strconv.Itoa(p.X), strconv.Itoa(p.Y), "click", strconv.Itoa(button))
}

// MovePointer moves the pointer to p, e.g. out of the way so no hover
// highlight or tooltip is in a screenshot.
func (d *Desktop) MovePointer(t testing.TB, p image.Point) {
	t.Helper()
	d.run(t, "xdotool", "mousemove", "--sync", strconv.Itoa(p.X), strconv.Itoa(p.Y))
}

// Key types keys (X keysym names such as Escape, Up, Return), one after
// the other, to whatever has the keyboard: an open menu grabs it.
func (d *Desktop) Key(t testing.TB, keys ...string) {
	t.Helper()
	d.run(t, append([]string{"xdotool", "key", "--delay", "50"}, keys...)...)
}

// Notification is one entry of dunst's history.
type Notification struct {
	AppName string
	Summary string
	Body    string
}

// Notifications moves every notification dunst shows into its history
// (dunst lists only closed ones there) and returns the history, newest
// first.
func (d *Desktop) Notifications(t testing.TB) []Notification {
	t.Helper()
	d.run(t, "dunstctl", "close-all")
	out := d.run(t, "dunstctl", "history")
	var h struct {
		Data [][]map[string]struct {
			Data any `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("desktoptest: parsing dunstctl history: %v\n%s", err, out)
	}
	var ns []Notification
	for _, list := range h.Data {
		for _, e := range list {
			str := func(k string) string { s, _ := e[k].Data.(string); return s }
			ns = append(ns, Notification{AppName: str("appname"), Summary: str("summary"), Body: str("body")})
		}
	}
	return ns
}

// WritePNG writes img to path, compressed hard: the files are committed.
func WritePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
