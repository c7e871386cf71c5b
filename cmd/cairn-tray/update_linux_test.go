package main

// The update notice end to end: the real cairn-tray asks a local release
// feed (CAIRN_UPDATE_URL), shows "Update available" in its D-Bus menu,
// notifies once per version across a restart, opens the release page
// through the desktop's opener, and saves the "Check for updates" toggle.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/internal/update"
	"github.com/cairnlabs/cairn/internal/update/updatetest"
)

// fakeOpener puts an xdg-open on PATH that appends its argument to a
// file, so a click opens nothing and the test reads what would have been.
func (w *world) fakeOpener() (opened string) {
	w.t.Helper()
	dir := w.t.TempDir()
	opened = filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + opened + "'\n"
	proctest.WriteExecutable(w.t, filepath.Join(dir, "xdg-open"), script, 0o700)
	w.env.Extra = append(w.env.Extra, "PATH="+dir+":"+os.Getenv("PATH"))
	return opened
}

func TestUpdateNoticeEndToEnd(t *testing.T) {
	feed := updatetest.Start(t, "v99.0.0")
	w := newWorld(t, options{actions: true})
	opened := w.fakeOpener()
	w.env.Extra = append(w.env.Extra, update.EnvURL+"="+feed.URL())
	const label = "Update available: v99.0.0…"
	page := feed.PageURL("v99.0.0")

	tray := w.startTray()
	item := w.itemOf(tray)
	root := w.waitMenu(item, "the update item", func(root dbustest.MenuNode) bool { return offered(root, label) })
	if tog, ok := root.FindByLabel("Check for updates"); !ok || !tog.Visible || !tog.Enabled || tog.ToggleType != "checkmark" || tog.ToggleState != 1 {
		t.Errorf("Check for updates item %+v, want a checked checkbox", tog)
	}
	note := w.waitNote("Cairn v99.0.0 is available")
	if !note.HasAction("update") {
		t.Errorf("notification %+v has no Open release page button", note)
	}
	if req := feed.Requests()[0]; len(req.Header) != 1 || !strings.HasPrefix(req.Header.Get("User-Agent"), "cairn/") {
		t.Errorf("the tray's request sent %v, want only a User-Agent", req.Header)
	}

	w.click(item, label)
	proctest.Eventually(t, wait, "the release page opened", func() bool {
		b, _ := os.ReadFile(opened)
		return string(b) == page+"\n"
	})
	if err := w.notes.Invoke(note.ID, "update"); err != nil {
		t.Fatal(err)
	}
	proctest.Eventually(t, wait, "the release page opened from the notification", func() bool {
		b, _ := os.ReadFile(opened)
		return string(b) == page+"\n"+page+"\n"
	})
	w.sigterm(tray)

	// A restarted tray asks with the ETag, shows the item again and does
	// not announce the version a second time.
	tray = w.startTray()
	item = w.itemOf(tray)
	w.waitMenu(item, "the update item after a restart", func(root dbustest.MenuNode) bool { return offered(root, label) })
	w.waitTrayLog(tray, "not_modified=true")
	reqs := feed.Requests()
	if got := reqs[len(reqs)-1].Header.Get("If-None-Match"); got == "" {
		t.Error("the restarted tray sent no If-None-Match")
	}

	// Turned off: the item goes and config.json keeps the choice.
	w.click(item, "Check for updates")
	w.waitMenu(item, "the update item hidden", func(root dbustest.MenuNode) bool {
		up, _ := root.FindByLabel("Update available")
		tog, _ := root.FindByLabel("Check for updates")
		return !up.Visible && tog.ToggleState == 0
	})
	if b, _ := os.ReadFile(w.paths.Config); !strings.Contains(string(b), `"check_for_updates": false`) {
		t.Errorf("config.json: %s", b)
	}
	if fi, err := os.Stat(w.paths.Config); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v (%v), want 0600", fi.Mode(), err)
	}
	w.sigterm(tray)

	n := 0
	for _, x := range w.notes.Notifications() {
		if strings.Contains(x.Summary, "is available") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d update notifications, want 1", n)
	}
}
