// Command uidemo is a small app on package ui for the package's end-to-end
// tests: it shows a menu with every item ID, changes state on clicks, counts
// clicks in a label and sends a desktop notification over the shared
// dbus.SessionBus() connection (as beeep does), so the tests can drive it
// over D-Bus like a panel and a user would.
//
// Clicks: start → running, stop → stopped, restart → conflict (the takeover
// item shows), takeover → running, login toggles its checkbox, logs sends a
// notification, quit quits; every click counts in the about label. SIGTERM
// or SIGINT quits too; the exit code is 0.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cairnlabs/cairn/tray/menu"
	"github.com/cairnlabs/cairn/tray/ui"
)

func main() {
	churn := flag.Bool("churn", false, "apply a new model every millisecond until quit (race test)")
	flag.Parse()

	// Logs go to stdout so that stderr holds only what ui prints for the
	// user (and any panic or race report).
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	d := &demo{state: "stopped", log: log}
	d.u = ui.New(ui.Options{AppName: "Cairn", Icons: icon, Log: log, Stderr: os.Stderr})

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		d.u.Quit()
	}()

	d.u.Run(func() {
		d.apply()
		go d.handleClicks()
		if *churn {
			go d.churn()
		}
		fmt.Printf("uidemo: ready headless=%v\n", d.u.Headless())
	})
	fmt.Println("uidemo: bye")
}

type demo struct {
	u   *ui.UI
	log *slog.Logger

	mu      sync.Mutex
	state   string // stopped, running, conflict
	login   bool
	clicks  int
	applies int

	notifyOnce sync.Once
}

func (d *demo) apply() {
	d.mu.Lock()
	d.applies++
	m := d.model()
	d.mu.Unlock()
	d.u.Apply(m)
}

// model is the menu for the demo's state; d.mu is held.
func (d *demo) model() menu.Model {
	status := "Cairn is " + d.state
	running := d.state == "running"
	icons := map[string]menu.Icon{"stopped": menu.IconStopped, "running": menu.IconRunning, "conflict": menu.IconConflict}
	return menu.Model{
		Icon:    icons[d.state],
		Tooltip: status,
		Items: []menu.Item{
			{ID: menu.IDStatus, Label: status, Visible: true},
			{ID: menu.IDDashboard, Label: "Open dashboard", Enabled: running, Visible: true, SeparatorBefore: true},
			{ID: menu.IDStart, Label: "Start daemon", Enabled: !running, Visible: true},
			{ID: menu.IDStop, Label: "Stop daemon", Enabled: running, Visible: true},
			{ID: menu.IDRestart, Label: "Restart daemon", Enabled: running, Visible: true},
			{ID: menu.IDTakeover, Label: "Take over port 7070 from python3 (PID 4242)", Enabled: true, Visible: d.state == "conflict"},
			{ID: menu.IDLogin, Label: "Start at login", Enabled: true, Visible: true, Checkable: true, Checked: d.login, SeparatorBefore: true},
			{ID: menu.IDLogs, Label: "Open logs", Enabled: true, Visible: true},
			{ID: menu.IDAbout, Label: fmt.Sprintf("About Cairn (%d clicks)", d.clicks), Enabled: true, Visible: true},
			{ID: menu.IDQuit, Label: "Quit Cairn", Enabled: true, Visible: true, SeparatorBefore: true},
		},
	}
}

func (d *demo) handleClicks() {
	for id := range d.u.Clicks() {
		d.mu.Lock()
		d.clicks++
		switch id {
		case menu.IDStart, menu.IDTakeover:
			d.state = "running"
		case menu.IDStop:
			d.state = "stopped"
		case menu.IDRestart:
			d.state = "conflict"
		case menu.IDLogin:
			d.login = !d.login
		}
		d.mu.Unlock()
		fmt.Printf("uidemo: clicked %s\n", id)
		switch id {
		case menu.IDLogs:
			d.notify()
		case menu.IDQuit:
			d.u.Quit()
		}
		d.apply()
	}
}

// churn applies a changed model every millisecond: labels, flags, checkbox
// and icon all change, so every update path of ui and systray runs while a
// test reads the menu.
func (d *demo) churn() {
	states := []string{"stopped", "running", "conflict"}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		<-tick.C
		d.mu.Lock()
		d.state = states[i%len(states)]
		d.login = i%2 == 0
		d.mu.Unlock()
		d.apply()
	}
}

// notify shows a notification the way beeep does on Linux: over the
// process-wide dbus.SessionBus() connection, subscribed to the server's
// signals on that same connection. That shared connection is what broke
// upstream systray's re-register loop.
func (d *demo) notify() {
	conn, err := dbus.SessionBus()
	if err != nil {
		d.log.Error("notify: session bus", "err", err)
		return
	}
	d.notifyOnce.Do(func() {
		if err := conn.AddMatchSignal(
			dbus.WithMatchInterface("org.freedesktop.Notifications"),
			dbus.WithMatchMember("NotificationClosed"),
		); err != nil {
			d.log.Error("notify: match", "err", err)
		}
		closed := make(chan *dbus.Signal, 8)
		conn.Signal(closed)
		go func() {
			for sig := range closed {
				if sig.Name == "org.freedesktop.Notifications.NotificationClosed" {
					fmt.Printf("uidemo: notification closed %v\n", sig.Body)
				}
			}
		}()
	})
	var id uint32
	err = conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications").Call(
		"org.freedesktop.Notifications.Notify", 0,
		"Cairn", uint32(0), "", "Cairn logs", "The daemon log is in the data folder.",
		[]string{}, map[string]dbus.Variant{}, int32(-1),
	).Store(&id)
	if err != nil {
		d.log.Error("notify", "err", err)
		return
	}
	fmt.Printf("uidemo: notified %d\n", id)
}

// icon draws a 22×22 PNG in a colour per icon, enough for a host to show.
func icon(i menu.Icon) []byte {
	colors := map[menu.Icon]color.RGBA{
		menu.IconRunning:  {0x2e, 0xa0, 0x43, 0xff},
		menu.IconStarting: {0xd0, 0xa0, 0x20, 0xff},
		menu.IconStopped:  {0x80, 0x80, 0x80, 0xff},
		menu.IconConflict: {0xe0, 0x70, 0x10, 0xff},
		menu.IconCrashed:  {0xc0, 0x20, 0x20, 0xff},
	}
	img := image.NewRGBA(image.Rect(0, 0, 22, 22))
	for y := range 22 {
		for x := range 22 {
			img.Set(x, y, colors[i])
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
