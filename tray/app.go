// Package tray is the tray app without its GUI: it feeds the supervisor's
// status through menu.Build into a UI, turns clicks into actions, and turns
// state changes into notifications (each kind at most once per 10 minutes).
// The systray adapter (tray/ui) and the notifier (tray/notify) come in as
// interfaces, so all of this is tested without a display.
package tray

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cairnlabs/cairn/assets"
	"github.com/cairnlabs/cairn/tray/menu"
	"github.com/cairnlabs/cairn/tray/notify"
	"github.com/cairnlabs/cairn/tray/supervisor"
)

// UI shows a menu model and reports clicks by item ID.
type UI interface {
	Apply(menu.Model)
	Clicks() <-chan string
}

// Notifier shows desktop notifications.
type Notifier interface {
	Notify(notify.Notification) (uint32, error)
	Actions() <-chan notify.ActionEvent
	SupportsActions() bool
}

// LoginItem is the OS's start-at-login setting for the tray (package
// tray/loginitem). The checkbox is drawn from Enabled every time, never
// from a remembered flag, so a change made elsewhere (the desktop's own
// settings, `cairn login-item off`) shows at the next redraw.
type LoginItem interface {
	Enabled() (bool, error)
	Enable() error
	Disable() error
}

// Supervisor is the part of *supervisor.Supervisor the app drives.
type Supervisor interface {
	Run(ctx context.Context)
	Do(supervisor.Command)
	Quit()
}

// NotifyEvery is how often the same kind of notification may repeat.
const NotifyEvery = 10 * time.Minute

// ActionTakeover is the key of the notification button that takes over.
const ActionTakeover = "takeover"

// App wires it all together. Create it with New, feed it statuses through
// OnStatus (the supervisor's OnChange), and Run it.
type App struct {
	UI       UI
	Notifier Notifier
	Log      *slog.Logger
	Version  string
	Now      func() time.Time
	// Open shows a URL or a folder with the desktop's default handler.
	Open func(target string) error
	// DashboardURL gets a one-time sign-in link to the dashboard
	// (POST /v1/session with the token); nil opens the bare address,
	// which shows how to get in.
	DashboardURL func(ctx context.Context) (string, error)
	// LogDir is what "Open logs" shows.
	LogDir string
	// Takeover stops whoever holds the port or lock; the app then starts
	// its own daemon. Nil hides nothing but reports that it cannot.
	Takeover func(ctx context.Context, st supervisor.Status) (string, error)
	// Refresh is how often the menu is redrawn while nothing changes, so
	// the uptime and the login checkbox stay true.
	Refresh time.Duration
	// LoginItem backs the "Start at login" checkbox; nil disables it.
	LoginItem LoginItem
	// Echo, when set, gets a line for every change of the status line:
	// what a tray without an icon shows instead (see cmd/cairn-tray).
	Echo io.Writer
	// Updates is the update notice (internal/update); nil: no check and
	// no "Check for updates" item (a build without a release feed).
	Updates Updates
	// UpdateEvery is how often the feed is asked again; 0 is UpdateEvery.
	UpdateEvery time.Duration
	// Scheme follows the desktop's colour scheme: it calls dark with
	// whether the desktop prefers dark, now and at every change, until
	// ctx ends (tray/appearance). Nil keeps the default icons.
	Scheme func(ctx context.Context, dark func(bool))

	sup   Supervisor
	feeds feeds // the update check's answers and the colour scheme

	mu           sync.Mutex
	status       supervisor.Status
	lastNotified map[string]time.Time
	redraw       chan struct{}
	echoed       string // the last status line written to Echo
	// takingOver is where a take over stands. One conflict gets one: the
	// menu item and the notification's button (or a double click) would
	// otherwise run the engine twice, and the second run finds our own
	// new daemon starting and stops it as a wedged holder, or fails on
	// the port it now holds.
	takingOver takeoverPhase
}

type takeoverPhase int

const (
	takeoverIdle    takeoverPhase = iota
	takeoverRunning               // the engine is stopping the holder
	takeoverHanded                // done; waiting for the supervisor's next status
)

// New returns an app around sup; set the exported fields before Run.
func New(sup Supervisor) *App {
	return &App{
		sup:          sup,
		Now:          time.Now,
		Log:          slog.New(slog.DiscardHandler),
		Refresh:      30 * time.Second,
		lastNotified: map[string]time.Time{},
		redraw:       make(chan struct{}, 1),
		status:       supervisor.Status{State: supervisor.Starting},
		feeds:        newFeeds(),
	}
}

// OnStatus takes every status change from the supervisor. It never blocks:
// the menu is redrawn from the latest status by Run, and notifications go
// out on their own goroutine.
func (a *App) OnStatus(st supervisor.Status) {
	a.mu.Lock()
	prev := a.status
	a.status = st
	if a.takingOver == takeoverHanded {
		a.takingOver = takeoverIdle // the supervisor has acted on the take over
	}
	line := menu.StatusLine(st, a.Now())
	echo := a.Echo != nil && line != a.echoed
	if echo {
		a.echoed = line
	}
	a.mu.Unlock()
	if echo {
		fmt.Fprintln(a.Echo, "Cairn: "+line)
	}
	a.Log.Info("status", "state", st.State, "pid", st.PID, "owned", st.Owned, "holder", st.Holder, "crashes", st.Crashes)
	a.requestRedraw()
	if n, key, ok := a.notificationFor(prev, st); ok {
		go a.notify(key, n)
	}
}

// Run draws the menu, handles clicks and notification buttons, and runs
// the supervisor until Quit is clicked or ctx ends; it returns when the
// supervisor has stopped the daemon it owns.
func (a *App) Run(ctx context.Context) {
	supDone := make(chan struct{})
	go func() { a.sup.Run(ctx); close(supDone) }()
	defer a.startFeeds(ctx)()
	a.draw()
	tick := time.NewTicker(a.Refresh)
	defer tick.Stop()
	var actions <-chan notify.ActionEvent
	if a.Notifier != nil {
		actions = a.Notifier.Actions()
	}
	for {
		select {
		case <-supDone:
			return
		case <-a.redraw:
			a.draw()
		case <-tick.C:
			a.draw()
		case id := <-a.UI.Clicks():
			a.click(ctx, id)
		case ev := <-actions:
			switch ev.Key {
			case ActionTakeover:
				a.Log.Info("take over clicked in a notification", "id", ev.ID)
				a.click(ctx, menu.IDTakeover)
			case ActionUpdate:
				a.click(ctx, menu.IDUpdate)
			}
		}
	}
}

// Quit stops the owned daemon and ends Run.
func (a *App) Quit() { a.sup.Quit() }

func (a *App) current() supervisor.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

func (a *App) draw() {
	x := menu.Extras{Version: a.Version, Updates: a.updatesView(), DarkScheme: a.darkScheme()}
	if a.LoginItem != nil {
		on, err := a.LoginItem.Enabled()
		if err != nil {
			a.Log.Warn("cannot read the login item", "err", err)
		}
		// A setting that cannot be read cannot be toggled sensibly either.
		x.LoginItem, x.LoginItemSet = on, err == nil
	}
	a.UI.Apply(menu.Build(a.current(), x, a.Now()))
}

// requestRedraw asks Run to draw again (coalesced with any pending one).
func (a *App) requestRedraw() {
	select {
	case a.redraw <- struct{}{}:
	default:
	}
}

// toggleLogin flips start at login from what the OS says now, not from
// what the checkbox showed, and redraws from the OS again.
func (a *App) toggleLogin() {
	if a.LoginItem == nil {
		return
	}
	defer a.requestRedraw()
	on, err := a.LoginItem.Enabled()
	if err == nil {
		if on {
			err = a.LoginItem.Disable()
		} else {
			err = a.LoginItem.Enable()
		}
	}
	if err != nil {
		a.Log.Error("start at login could not be changed", "err", err)
		a.notify("", notify.Notification{Title: "Cairn could not change Start at login", Body: err.Error()})
		return
	}
	a.Log.Info("start at login changed", "on", !on)
}

func (a *App) click(ctx context.Context, id string) {
	st := a.current()
	a.Log.Info("menu click", "item", id, "state", st.State)
	switch id {
	case menu.IDDashboard:
		if st.Addr != "" {
			go a.openDashboard(ctx, st.Addr)
		}
	case menu.IDStart:
		a.sup.Do(supervisor.CmdStart)
	case menu.IDStop:
		a.sup.Do(supervisor.CmdStop)
	case menu.IDRestart:
		a.sup.Do(supervisor.CmdRestart)
	case menu.IDTakeover:
		if a.beginTakeover() {
			go a.takeover(ctx, st)
		}
	case menu.IDLogin:
		a.toggleLogin()
	case menu.IDUpdate:
		a.openRelease()
	case menu.IDUpdates:
		a.toggleUpdates()
	case menu.IDLogs:
		a.open(a.LogDir)
	case menu.IDAbout:
		go a.notify("", notify.Notification{
			Title: "Cairn " + a.Version,
			Body:  "A local memory daemon and its tray.\n" + menu.StatusLine(st, a.Now()),
			Icon:  assets.AppIconPNG(),
		})
	case menu.IDQuit:
		a.Log.Info("quit requested")
		a.sup.Quit()
	}
}

// openDashboard opens the dashboard signed in through a one-time link. It
// asks the daemon, so it runs off the app's goroutine. Without a link (the
// daemon refused, or no token) it opens the bare address, whose page says
// how to get in.
func (a *App) openDashboard(ctx context.Context, addr string) {
	target := "http://" + addr + "/"
	if a.DashboardURL != nil {
		u, err := a.DashboardURL(ctx)
		if err != nil {
			a.Log.Warn("no dashboard sign-in link", "err", err)
		} else {
			target = u
		}
	}
	a.open(target)
}

func (a *App) open(target string) {
	if a.Open == nil {
		return
	}
	if err := a.Open(target); err != nil {
		a.Log.Warn("open failed", "target", target, "err", err)
	}
}

// beginTakeover reports whether a take over may start now: the state
// offers one and none is under way for it.
func (a *App) beginTakeover() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.status.State
	if st != supervisor.Conflict && st != supervisor.NotResponding || a.status.NoTakeover != "" {
		return false
	}
	if a.takingOver != takeoverIdle {
		a.Log.Info("take over already under way; ignoring another request")
		return false
	}
	a.takingOver = takeoverRunning
	return true
}

// endTakeover records how the engine ended: failed (a new try is allowed)
// or handed to the supervisor, whose next status ends it.
func (a *App) endTakeover(handed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.takingOver = takeoverIdle
	if handed {
		a.takingOver = takeoverHanded
	}
}

func (a *App) takeover(ctx context.Context, st supervisor.Status) {
	if a.Takeover == nil {
		a.endTakeover(false)
		a.notify("", notify.Notification{Title: "Cairn cannot take over", Body: "Take over is not available in this build."})
		return
	}
	a.Log.Info("take over", "holder", st.Holder, "holder_pid", st.HolderPID)
	what, err := a.Takeover(ctx, st)
	if err != nil && a.servingNow() {
		// The holder went away and the supervisor, looking again on its
		// own, already started Cairn while the engine still waited for the
		// port: that is the outcome asked for.
		a.Log.Info("take over: Cairn already started on the freed port", "engine", err)
		what, err = "Stopped "+st.Holder+".", nil
	}
	if err != nil {
		a.endTakeover(false)
		a.Log.Error("take over failed", "holder", st.Holder, "err", err)
		a.notify("", notify.Notification{Title: "Take over failed", Body: err.Error(), Icon: assets.PNG(string(menu.IconConflict))})
		return
	}
	a.Log.Info("take over done; starting our daemon", "result", what)
	// Handed before the command is sent, so the status it leads to ends it.
	a.endTakeover(true)
	a.sup.Do(supervisor.CmdStart)
	a.notify("", notify.Notification{Title: "Cairn took over port " + fmt.Sprint(st.Port), Body: what, Icon: assets.PNG(string(menu.IconRunning))})
}

// servingNow reports whether the supervisor now has a daemon starting or
// running that is no longer in conflict.
func (a *App) servingNow() bool {
	st := a.current()
	return st.State == supervisor.Running || st.State == supervisor.Starting
}

// notificationFor decides whether a status change is worth telling the
// user, and under which dedupe key.
func (a *App) notificationFor(prev, st supervisor.Status) (notify.Notification, string, bool) {
	icon := assets.PNG(string(menu.IconFor(st.State)))
	switch {
	case st.State == supervisor.Conflict && prev.State != supervisor.Conflict:
		n := notify.Notification{
			Title: fmt.Sprintf("Cairn can't start: port %d is in use", st.Port),
			Body:  fmt.Sprintf("%s holds it. Take over to stop it and start Cairn, or quit the other program.", st.Holder),
			Icon:  icon,
		}
		if st.NoTakeover != "" {
			n.Body = capitalize(st.NoTakeover) + "."
			return n, "conflict", true
		}
		if a.Notifier != nil && a.Notifier.SupportsActions() {
			n.Actions = []notify.Action{{Key: ActionTakeover, Label: "Take over"}}
		}
		return n, "conflict", true
	case st.State == supervisor.NotResponding && prev.State != supervisor.NotResponding:
		n := notify.Notification{
			Title: "Cairn is not responding",
			Body:  fmt.Sprintf("The daemon (%s) does not answer its health checks. Restart or take over from the menu.", pidOrHolder(st)),
			Icon:  icon,
		}
		if st.NoTakeover == "" && a.Notifier != nil && a.Notifier.SupportsActions() {
			n.Actions = []notify.Action{{Key: ActionTakeover, Label: "Take over"}}
		}
		return n, "not_responding", true
	case st.State == supervisor.Crashed && prev.State != supervisor.Crashed:
		return notify.Notification{
			Title: fmt.Sprintf("Cairn crashed %d times and gave up", st.Crashes),
			Body:  crashSummary(st.Message, 4) + "\nChoose Restart in the menu; the crash output is in " + st.LogFile,
			Icon:  icon,
		}, "crashed", true
	case st.State == supervisor.Running && st.RestartedAfterCrash && !prev.RestartedAfterCrash:
		return notify.Notification{
			Title: "Cairn restarted after a crash",
			Body:  crashSummary(st.Message, 2),
			Icon:  icon,
		}, "restarted", true
	case st.State == supervisor.Failed && prev.State != supervisor.Failed:
		return notify.Notification{Title: "Cairn cannot start", Body: st.Message, Icon: icon}, "failed", true
	}
	return notify.Notification{}, "", false
}

func pidOrHolder(st supervisor.Status) string {
	if st.PID > 0 {
		return fmt.Sprintf("PID %d", st.PID)
	}
	return st.Holder
}

// capitalize upper-cases the first letter of a sentence from the engine.
func capitalize(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// crashSummary is the first n lines of a crash message: how the daemon
// ended, why (a panic's own line), then its last words.
func crashSummary(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// notify sends n unless a notification with the same key went out less
// than NotifyEvery ago. An empty key is never deduplicated (answers to
// clicks).
func (a *App) notify(key string, n notify.Notification) {
	if a.Notifier == nil {
		return
	}
	if key != "" {
		a.mu.Lock()
		now := a.Now()
		if last, ok := a.lastNotified[key]; ok && now.Sub(last) < NotifyEvery {
			a.mu.Unlock()
			a.Log.Info("notification suppressed", "key", key, "title", n.Title)
			return
		}
		a.lastNotified[key] = now
		a.mu.Unlock()
	}
	if n.Icon == nil {
		n.Icon = assets.AppIconPNG()
	}
	if _, err := a.Notifier.Notify(n); err != nil {
		a.Log.Warn("notification failed", "title", n.Title, "err", err)
		return
	}
	a.Log.Info("notified", "key", key, "title", n.Title)
}
