package ui

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/tray/menu"
)

func TestApplyKeepsOnlyTheLatestModel(t *testing.T) {
	u := New(Options{})
	defer u.Quit()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				u.Apply(menu.Model{Tooltip: fmt.Sprint(g, i)})
			}
		}()
	}
	wg.Wait() // Apply never blocks, however many models nobody shows
	u.Apply(menu.Model{Tooltip: "last"})
	if m := <-u.models; m.Tooltip != "last" {
		t.Fatalf("waiting model %q, want the last one", m.Tooltip)
	}
	select {
	case m := <-u.models:
		t.Fatalf("a second model %q waits; Apply should coalesce", m.Tooltip)
	default:
	}
}

func TestClicksQueueWithoutReader(t *testing.T) {
	u := New(Options{})
	defer u.Quit()
	// No one reads Clicks while 1000 clicks come in: none may block or drop.
	clicked := make(chan struct{})
	go u.forwardClicks(menu.IDAbout, clicked)
	for range 1000 {
		select {
		case clicked <- struct{}{}:
		case <-time.After(time.Minute):
			t.Fatal("a click waited for the app")
		}
	}
	for i := range 1000 {
		if id := <-u.Clicks(); id != menu.IDAbout {
			t.Fatalf("click %d: %q", i, id)
		}
	}
	select {
	case id := <-u.Clicks():
		t.Fatalf("extra click %q", id)
	default:
	}
}

// The systray library's own log lines go to the tray log, not stderr.
func TestLibraryLogGoesToTheTrayLog(t *testing.T) {
	var buf bytes.Buffer
	l := libraryLog{slog.New(slog.NewTextHandler(&buf, nil))}
	if n, err := l.Write([]byte("systray error: failed to register: no such name\n")); err != nil || n == 0 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := buf.String(); !strings.Contains(got, `msg="systray error: failed to register: no such name"`) || !strings.Contains(got, "from=systray") {
		t.Errorf("tray log got %q", got)
	}
}
