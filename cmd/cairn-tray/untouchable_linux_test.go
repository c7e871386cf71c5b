package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestNoTakeoverOfAnotherUsersProcess: the port is held by a process of
// another user (nobody). The tray names it, says why it will not stop it,
// offers no button, and a click on the item does nothing: the process
// lives on.
func TestNoTakeoverOfAnotherUsersProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs the other user's listener as nobody, which needs root (make test runs as root in CI)")
	}
	w := newWorld(t, options{actions: true})
	// nobody must be able to run the binary.
	bin := proctest.Share(t, w.bins.holdport)
	other := proctest.StartWith(t, w.env, func(a *syscall.SysProcAttr) {
		a.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	}, bin, "-addr", fmt.Sprintf("127.0.0.1:%d", w.env.Port))
	proctest.Eventually(t, wait, "nobody's listener", func() bool {
		return strings.Contains(other.Stdout(), "ready") || other.Exited()
	})
	if other.Exited() {
		t.Fatalf("holdport as nobody exited: %s", other.Stderr())
	}

	tray := w.startTray()
	item := w.itemOf(tray)
	line := fmt.Sprintf("Port %d in use by holdport (PID %d)", w.env.Port, other.PID())
	w.waitStatus(item, line)
	// The items update one by one after the status line: wait for the
	// take over item's turn.
	root := w.waitMenu(item, "the take over item to say why not", func(root dbustest.MenuNode) bool {
		n, ok := root.FindByLabel("Can't take over: ")
		return ok && n.Visible
	})
	n, _ := root.FindByLabel("Can't take over: ")
	if n.Enabled || !strings.Contains(n.Label, `user "nobody"`) {
		t.Fatalf("take over item %+v, want a disabled one naming the other user; menu %q", n, root.Labels())
	}
	note := w.waitNote("Cairn can't start: port")
	if len(note.Actions) != 0 || !strings.Contains(note.Body, "your own processes") || !strings.Contains(note.Body, "--port") {
		t.Errorf("conflict notification %+v, want the reason, --port, and no button", note)
	}
	// A click on the disabled item (a panel may still send it) changes nothing.
	if err := item.Click(w.deadline(), n.ID); err != nil && !dbustest.IsNoReply(err) {
		t.Logf("click: %v", err)
	}
	w.waitStatus(item, line)
	if other.Exited() {
		t.Fatal("the tray stopped another user's process")
	}
	w.sigterm(tray)
}

// TestSquatterIsAConflictAndGetsNoToken: a daemon died with kill -9 and
// left http_addr naming its port; another user (created for the test)
// binds it and answers /health like Cairn. The tray shows a conflict that
// names the squatter, offers no take over, and never sends it the token.
func TestSquatterIsAConflictAndGetsNoToken(t *testing.T) {
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Fatal("this test creates another user, which needs root (make test runs as root in CI)")
	}
	w := newWorld(t, options{actions: true})
	d := proctest.Start(t, w.env, w.bins.cairn, "serve", "--foreground")
	proctest.Eventually(t, wait, "the first daemon serves", func() bool { _, err := w.serving(); return err == nil })
	tok, err := os.ReadFile(w.paths.Token)
	if err != nil {
		t.Fatal(err)
	}
	d.Signal(t, syscall.SIGKILL)
	d.Wait(t, wait)

	record := filepath.Join(u.Home, "received")
	sq := proctest.StartWith(t, w.env, u.Credential, proctest.Share(t, w.bins.holdport),
		"-squat", "-record", record, "-addr", fmt.Sprintf("127.0.0.1:%d", w.env.Port))
	proctest.Eventually(t, wait, "the squatter listens", func() bool { return strings.Contains(sq.Stdout(), "ready") || sq.Exited() })
	if sq.Exited() {
		t.Fatalf("the squatter exited: %s", sq.Stderr())
	}

	tray := w.startTray()
	item := w.itemOf(tray)
	w.waitStatus(item, fmt.Sprintf("Port %d in use by holdport (PID %d)", w.env.Port, sq.PID()))
	root := w.waitMenu(item, "the take over item to say why not", func(root dbustest.MenuNode) bool {
		n, ok := root.FindByLabel("Can't take over: ")
		return ok && n.Visible
	})
	if n, _ := root.FindByLabel("Can't take over: "); n.Enabled || !strings.Contains(n.Label, u.Name) {
		t.Fatalf("take over item %+v, want a disabled one naming %s", n, u.Name)
	}
	w.sigterm(tray)
	received, _ := os.ReadFile(record)
	if strings.Contains(string(received), strings.TrimSpace(string(tok))) || strings.Contains(strings.ToLower(string(received)), "authorization") {
		t.Fatalf("the squatter received the token:\n%s", received)
	}
	if sq.Exited() {
		t.Fatal("the tray stopped another user's process")
	}
}
