package tray

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/internal/update"
	"github.com/cairnlabs/cairn/internal/update/updatetest"
	"github.com/cairnlabs/cairn/tray/menu"
	"github.com/cairnlabs/cairn/tray/notify"
)

// updateWorld is an app whose update notice asks a local test feed and
// keeps its files in a temporary data dir.
type updateWorld struct {
	*appHarness
	feed    *updatetest.Feed
	dir     string
	log     *proctest.SyncBuffer
	notice  *update.Notice
	counted *countedUpdates
}

// countedUpdates counts how often the setting is read.
type countedUpdates struct {
	Updates
	enabled atomic.Int64
}

func (c *countedUpdates) Enabled() (bool, error) {
	c.enabled.Add(1)
	return c.Updates.Enabled()
}

// newUpdateApp starts an app at version v1.2.3 against feed. every is
// how often it checks again (short, so a test sees the 304 path).
func newUpdateApp(t *testing.T, feed *updatetest.Feed, dir string, every, timeout time.Duration) *updateWorld {
	w := &updateWorld{feed: feed, dir: dir, log: &proctest.SyncBuffer{}}
	w.notice = &update.Notice{
		Checker:    &update.Checker{URL: feed.URL(), Current: "v1.2.3", StateFile: filepath.Join(dir, "update.json"), Timeout: timeout},
		ConfigFile: filepath.Join(dir, "config.json"),
	}
	w.counted = &countedUpdates{Updates: w.notice}
	w.appHarness = newApp(t, func(a *App) {
		a.Updates, a.UpdateEvery = w.counted, every
		a.Log = slog.New(slog.NewTextHandler(w.log, nil))
	})
	return w
}

// waitLog waits until the app's log holds s n times.
func (w *updateWorld) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	proctest.Eventually(t, 10*time.Second, s+" in the app's log", func() bool { return strings.Count(w.log.String(), s) >= n })
}

// waitUpdateItem waits for a drawn menu whose update item is label
// (visible) or hidden when label is "".
func (w *updateWorld) waitUpdateItem(t *testing.T, label string) menu.Model {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-w.ui.drawn:
			it, _ := m.Item(menu.IDUpdate)
			if label == "" && !it.Visible || label != "" && it.Visible && it.Enabled && it.Label == label {
				return m
			}
		case <-deadline:
			t.Fatalf("the menu never showed the update item as %q", label)
		}
	}
}

// lastModel is the model drawn last.
func (w *updateWorld) lastModel() menu.Model {
	w.ui.mu.Lock()
	defer w.ui.mu.Unlock()
	return w.ui.models[len(w.ui.models)-1]
}

// sent returns what was notified.
func (w *updateWorld) sent() []notify.Notification {
	w.notes.mu.Lock()
	defer w.notes.mu.Unlock()
	return append([]notify.Notification(nil), w.notes.sent...)
}

// TestUpdateNotice drives the app through every answer a feed can give:
// the menu item it leads to, and never more than one notification while
// the app keeps checking (the later checks are answered 304 from the
// ETag, or fail the same way again).
func TestUpdateNotice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(*updatetest.Feed)
		item    string // the update item's label; "" hidden
		logLine string // what each check logs
		timeout time.Duration
	}{
		{"newer", func(f *updatetest.Feed) { f.SetRelease("v1.3.0") }, "Update available: v1.3.0…", "update check", 0},
		{"same", func(f *updatetest.Feed) { f.SetRelease("v1.2.3") }, "", "update check", 0},
		{"older", func(f *updatetest.Feed) { f.SetRelease("v1.2.2") }, "", "update check", 0},
		{"prerelease", func(f *updatetest.Feed) { f.SetRelease("v1.3.0-rc.1") }, "", "update check", 0},
		{"malformed JSON", func(f *updatetest.Feed) { f.SetBody(200, `{"tag_name": `) }, "", "update check failed", 0},
		{"malformed tag", func(f *updatetest.Feed) {
			f.SetBody(200, `{"tag_name": "v1.3", "html_url": "https://example.com/r"}`)
		}, "", `\"v1.3\" is not a semantic version`, 0},
		{"500", func(f *updatetest.Feed) { f.SetBody(500, "down") }, "", "answered 500 Internal Server Error", 0},
		{"timeout", func(f *updatetest.Feed) { f.Hang() }, "", "did not answer within 50ms", 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			feed := updatetest.Start(t, "v0.0.0")
			tc.set(feed)
			w := newUpdateApp(t, feed, t.TempDir(), 20*time.Millisecond, tc.timeout)
			// Three checks: at launch and twice more.
			w.waitLog(t, tc.logLine, 3)
			w.waitUpdateItem(t, tc.item)
			if tog, _ := w.lastModel().Item(menu.IDUpdates); !tog.Visible || !tog.Enabled || !tog.Checked {
				t.Errorf("check for updates item %+v, want a checked, enabled checkbox", tog)
			}
			notes := w.sent()
			if tc.item == "" {
				if len(notes) != 0 {
					t.Errorf("notified %+v, want nothing", notes)
				}
				return
			}
			if len(notes) != 1 {
				t.Fatalf("%d notifications %+v, want one", len(notes), notes)
			}
			n := notes[0]
			if n.Title != "Cairn v1.3.0 is available" || !strings.Contains(n.Body, "You have v1.2.3") ||
				len(n.Actions) != 1 || n.Actions[0].Key != ActionUpdate {
				t.Errorf("notification %+v", n)
			}
			// The checks after the first were answered 304 from the ETag.
			reqs := feed.Requests()
			if got := reqs[len(reqs)-1].Header.Get("If-None-Match"); got == "" {
				t.Error("a later check sent no If-None-Match")
			}
			if !strings.Contains(w.log.String(), "not_modified=true") {
				t.Error("no check was answered 304")
			}
		})
	}
}

// TestUpdateNoticeOpensTheReleasePage: the menu item and the
// notification's button open the page the feed named.
func TestUpdateNoticeOpensTheReleasePage(t *testing.T) {
	feed := updatetest.Start(t, "v2.0.0")
	w := newUpdateApp(t, feed, t.TempDir(), time.Hour, 0)
	w.waitUpdateItem(t, "Update available: v2.0.0…")
	w.ui.clicks <- menu.IDUpdate
	if got := <-w.opened; got != feed.PageURL("v2.0.0") {
		t.Errorf("the item opened %q, want the release page", got)
	}
	w.waitNote(t)
	w.notes.actions <- notify.ActionEvent{ID: 1, Key: ActionUpdate}
	if got := <-w.opened; got != feed.PageURL("v2.0.0") {
		t.Errorf("the button opened %q, want the release page", got)
	}
}

// TestUpdateAnnouncedOncePerVersion: a restarted tray remembers what it
// announced; a newer release is announced again.
func TestUpdateAnnouncedOncePerVersion(t *testing.T) {
	feed := updatetest.Start(t, "v1.3.0")
	dir := t.TempDir()
	first := newUpdateApp(t, feed, dir, time.Hour, 0)
	first.waitUpdateItem(t, "Update available: v1.3.0…")
	first.waitNote(t)
	first.sup.Quit()
	<-first.done

	second := newUpdateApp(t, feed, dir, time.Hour, 0)
	second.waitUpdateItem(t, "Update available: v1.3.0…")
	second.waitLog(t, "update already announced", 1)
	if n := second.sent(); len(n) != 0 {
		t.Errorf("a restart announced again: %+v", n)
	}
	second.sup.Quit()
	<-second.done

	feed.SetRelease("v1.4.0")
	third := newUpdateApp(t, feed, dir, time.Hour, 0)
	third.waitUpdateItem(t, "Update available: v1.4.0…")
	if n := third.waitNote(t); n.Title != "Cairn v1.4.0 is available" {
		t.Errorf("notification %+v", n)
	}
}

// TestCheckForUpdatesToggle: the checkbox is saved in config.json; off
// hides the item and stops asking, on asks at once.
func TestCheckForUpdatesToggle(t *testing.T) {
	feed := updatetest.Start(t, "v1.3.0")
	dir := t.TempDir()
	w := newUpdateApp(t, feed, dir, time.Hour, 0)
	w.waitUpdateItem(t, "Update available: v1.3.0…")
	w.waitNote(t)

	w.ui.clicks <- menu.IDUpdates
	m := w.waitUpdateItem(t, "")
	if tog, _ := m.Item(menu.IDUpdates); tog.Checked {
		t.Errorf("toggle still checked: %+v", tog)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); !strings.Contains(string(b), `"check_for_updates": false`) {
		t.Errorf("config.json after turning it off: %s", b)
	}
	asked := len(feed.Requests())

	changed := feed.Changed()
	w.ui.clicks <- menu.IDUpdates
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("turning checks on did not check")
	}
	w.waitUpdateItem(t, "Update available: v1.3.0…")
	if n := len(feed.Requests()); n != asked+1 {
		t.Errorf("%d requests after turning it on, want %d", n, asked+1)
	}
	if n := w.sent(); len(n) != 1 {
		t.Errorf("notifications %+v, want the first one only", n)
	}
}

// TestUpdatesOffInConfigAsksNothing: a saved "off" is honoured from the
// launch, and a config.json that cannot be read counts as off, with the
// checkbox disabled rather than overwriting the file.
func TestUpdatesOffInConfigAsksNothing(t *testing.T) {
	for name, body := range map[string]string{
		"off":    `{"check_for_updates": false}`,
		"broken": `{"check_for_updates": "maybe"}`,
	} {
		t.Run(name, func(t *testing.T) {
			feed := updatetest.Start(t, "v1.3.0")
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o600)
			w := newUpdateApp(t, feed, dir, 10*time.Millisecond, 0)
			m := <-w.ui.drawn
			tog, _ := m.Item(menu.IDUpdates)
			if !tog.Visible || tog.Checked || tog.Enabled != (name == "off") {
				t.Errorf("toggle %+v", tog)
			}
			if name == "broken" {
				w.waitLog(t, "cannot read the update setting", 1)
				w.ui.clicks <- menu.IDUpdates
				if n := w.waitNote(t); !strings.Contains(n.Body, "must be true or false") {
					t.Errorf("notification %+v", n)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(b) != body {
					t.Errorf("the broken config was rewritten: %s", b)
				}
			}
			// The watcher reads the setting at every poll (10 ms here), as
			// does every redraw: wait for three polls beyond the redraws.
			proctest.Eventually(t, 10*time.Second, "three polls of the setting", func() bool {
				w.ui.mu.Lock()
				draws := len(w.ui.models)
				w.ui.mu.Unlock()
				return w.counted.enabled.Load() >= int64(draws)+3
			})
			if n := len(feed.Requests()); n != 0 {
				t.Errorf("%d requests with checks off", n)
			}
		})
	}
}

// TestNoFeedNoToggle: a build without a feed shows no update items.
func TestNoFeedNoToggle(t *testing.T) {
	h := newApp(t)
	m := <-h.ui.drawn
	for _, id := range []string{menu.IDUpdate, menu.IDUpdates} {
		if it, _ := m.Item(id); it.Visible {
			t.Errorf("%s shows in a build without a release feed: %+v", id, it)
		}
	}
}

// TestSchemeFeedPicksTheIconVariant: the colour scheme feed reaches the
// model, and each change redraws.
func TestSchemeFeedPicksTheIconVariant(t *testing.T) {
	set := make(chan func(bool), 1)
	h := newApp(t, func(a *App) {
		a.Scheme = func(ctx context.Context, dark func(bool)) {
			set <- dark
			<-ctx.Done()
		}
	})
	dark := <-set
	waitScheme := func(want bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case m := <-h.ui.drawn:
				if m.DarkScheme == want {
					return
				}
			case <-deadline:
				t.Fatalf("no model with DarkScheme %v", want)
			}
		}
	}
	dark(true)
	waitScheme(true)
	dark(false)
	waitScheme(false)
}

// TestUpdateEchoedWithoutAnIcon: a tray without an icon says it on stderr.
func TestUpdateEchoedWithoutAnIcon(t *testing.T) {
	feed := updatetest.Start(t, "v1.3.0")
	var echo proctest.SyncBuffer
	w := &updateWorld{feed: feed, log: &proctest.SyncBuffer{}}
	w.notice = &update.Notice{
		Checker:    &update.Checker{URL: feed.URL(), Current: "v1.2.3", StateFile: filepath.Join(t.TempDir(), "update.json")},
		ConfigFile: filepath.Join(t.TempDir(), "config.json"),
	}
	w.appHarness = newApp(t, func(a *App) { a.Updates, a.Echo = w.notice, &echo })
	w.waitNote(t)
	want := "Cairn: update available: v1.3.0 (this is v1.2.3): " + feed.PageURL("v1.3.0") + "\n"
	if !strings.Contains(echo.String(), want) {
		t.Errorf("echo %q, want %q", echo.String(), want)
	}
}
