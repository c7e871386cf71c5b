// Package ui shows the tray icon and its menu. It is the only package that
// imports fyne.io/systray (the patched copy in third_party/systray): it
// renders a menu.Model and reports clicks, and knows nothing about the
// daemon, so everything else in the tray builds and is tested without a
// display.
//
// Per OS, Run differs only in what it checks first: on Linux it runs
// headless (no systray at all) when there is no D-Bus session bus, and says
// so once; macOS and Windows just run systray.
package ui

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairnlabs/cairn/tray/menu"
)

// Options configure a UI.
type Options struct {
	AppName string                 // "Cairn"
	Icons   func(menu.Icon) []byte // icon bytes in the OS's format (PNG on Linux, ICO on Windows, template PNG on macOS)
	// DarkIcons, when set, gives the icons for a model with DarkScheme
	// (the light-on-dark PNGs on Linux); nil uses Icons for both.
	DarkIcons func(menu.Icon) []byte
	Log       *slog.Logger // tray log; never nil (use slog.New(slog.DiscardHandler) in tests)
	Stderr    io.Writer    // where the one-time "no tray host" line goes
}

// UI is the tray icon and menu of one process. systray keeps global state,
// so a process has at most one UI that runs.
type UI struct {
	opts Options

	// models holds the model waiting to be shown: a buffer of 1 where the
	// latest Apply wins, so a burst of state changes renders once.
	models  chan menu.Model
	applyMu sync.Mutex // makes Apply's drain-then-send atomic among callers

	clickIn chan string // from the per-item goroutines to the queue
	clicks  chan string // what Clicks returns

	done     chan struct{} // closed by Quit
	quitOnce sync.Once
	headless atomic.Bool
	// noHost: a session bus without a tray host, so the icon is not shown
	// anywhere yet; told says the user was told so.
	noHost, told atomic.Bool
}

// New returns a UI; nothing is shown until Run.
func New(opts Options) *UI {
	if opts.AppName == "" {
		opts.AppName = "Cairn"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	u := &UI{
		opts:    opts,
		models:  make(chan menu.Model, 1),
		clickIn: make(chan string),
		clicks:  make(chan string),
		done:    make(chan struct{}),
	}
	go u.queueClicks()
	return u
}

// Run blocks the calling goroutine until Quit. It must be the main
// goroutine (call it from main via the cmd): macOS and Windows need their
// UI loop on the main thread. onReady is called once the UI can take Apply
// calls, also in headless mode, on a goroutine of its own.
func (u *UI) Run(onReady func()) {
	if onReady == nil {
		onReady = func() {}
	}
	// The systray library reports its troubles with the standard logger
	// ("systray error: failed to register: …"): those are the tray log's,
	// not raw lines on the user's terminal; the tray says in its own words
	// what they mean.
	log.SetFlags(0)
	log.SetOutput(libraryLog{u.opts.Log})
	u.run(onReady)
}

// libraryLog turns the standard logger's lines into tray log records.
type libraryLog struct{ log *slog.Logger }

func (l libraryLog) Write(p []byte) (int, error) {
	l.log.Warn(strings.TrimSpace(string(p)), "from", "systray")
	return len(p), nil
}

// IconShown reports whether the icon is on screen as far as the tray can
// tell: systray runs and a tray host is there to show it. Until then the
// status goes to stderr (cmd/cairn-tray).
func (u *UI) IconShown() bool { return !u.headless.Load() && !u.noHost.Load() }

// Apply shows m: icon, tooltip and items. It is goroutine-safe, never
// blocks, and coalesces: only the latest model matters. The first model
// shown creates the items, later ones update them in place.
func (u *UI) Apply(m menu.Model) {
	u.applyMu.Lock()
	defer u.applyMu.Unlock()
	select {
	case <-u.models: // drop the model nobody has shown yet
	default:
	}
	u.models <- m
}

// Clicks delivers the ID of every clicked item, in the order the clicks
// were taken, never dropping one. It is never closed.
func (u *UI) Clicks() <-chan string { return u.clicks }

// Quit ends Run. It is safe to call more than once, before Run and in
// headless mode.
func (u *UI) Quit() { u.quitOnce.Do(func() { close(u.done) }) }

// Headless reports whether Run found no session bus and runs without
// systray at all.
func (u *UI) Headless() bool { return u.headless.Load() }

// runHeadless is Run without a tray icon: the app keeps supervising the
// daemon, and the user is told once why there is no icon.
func (u *UI) runHeadless(onReady func(), reason string) {
	u.headless.Store(true)
	u.tell(fmt.Sprintf("%s runs without a tray icon: %s; the daemon is still supervised", u.opts.AppName, reason))
	go onReady()
	<-u.done
}

// tell prints line to Stderr and logs it: a user who started the tray from
// a terminal sees it, and the tray log keeps it.
func (u *UI) tell(line string) {
	fmt.Fprintln(u.opts.Stderr, line)
	u.opts.Log.Warn(line)
}

// queueClicks moves clicks from clickIn to clicks through an unbounded
// queue, so the per-item receivers never wait on a slow reader of Clicks.
func (u *UI) queueClicks() {
	var queue []string
	for {
		var out chan string
		var next string
		if len(queue) > 0 {
			out, next = u.clicks, queue[0]
		}
		select {
		case id := <-u.clickIn:
			queue = append(queue, id)
		case out <- next:
			queue = queue[1:]
		case <-u.done:
			return
		}
	}
}

// forwardClicks always receives on one item's ClickedCh and passes the
// item's ID on to the click queue: a click that finds nobody receiving
// would otherwise wait (or, in upstream systray, be dropped).
func (u *UI) forwardClicks(id string, clicked <-chan struct{}) {
	for {
		select {
		case _, ok := <-clicked:
			if !ok {
				return
			}
			select {
			case u.clickIn <- id:
			case <-u.done:
				return
			}
		case <-u.done:
			return
		}
	}
}
