// Package tray is the tray app without its GUI: it feeds the supervisor's
// status through menu.Build into a UI, turns clicks into actions, and turns
// state changes into notifications (each kind at most once per 10 minutes).
// The systray adapter (tray/ui) and the notifier (tray/notify) come in as
// interfaces, so all of this is tested without a display.
package tray

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cairnlabs/cairn/assets"
	"github.com/cairnlabs/cairn/tray/loginitem"
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
	Status() (loginitem.State, error)
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

// The keys of notification buttons.
const (
	ActionTakeover = "takeover" // take over from the holder the notification names
	ActionRestart  = "restart"  // restart a daemon that does not respond
	ActionCopy     = "copy"     // copy what could not be opened
)

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
	// Copy puts text on the clipboard: "Copy address", and the fallback
	// of an Open that failed. Nil reports that it cannot.
	Copy func(text string) error
	// LogDir is what "Open logs" shows; DataDir is named in About.
	LogDir, DataDir string
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
	// IconShown, when set, says whether the icon is on screen; Echo is
	// written only while it is not.
	IconShown func() bool

	sup   Supervisor
	feeds feeds // the update check's answers and the colour scheme

	mu           sync.Mutex
	status       supervisor.Status
	lastNotified map[string]time.Time
	redraw       chan struct{}
	echoed       string // the last status line written to Echo
	unopened     string // what the last failed Open could not show, for its Copy button
}

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
	line := menu.StatusLine(st, a.Now())
	echo := a.Echo != nil && line != a.echoed && (a.IconShown == nil || !a.IconShown())
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
			a.Log.Info("notification button", "id", ev.ID, "key", ev.Key)
			switch ev.Key {
			case ActionTakeover:
				a.click(ctx, menu.IDTakeover) // the same path as the menu's
			case ActionUpdate:
				a.click(ctx, menu.IDUpdate)
			case ActionRestart:
				a.click(ctx, menu.IDRestart)
			case ActionCopy:
				a.mu.Lock()
				text := a.unopened
				a.mu.Unlock()
				if text != "" {
					go a.copy(text)
				}
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
		st, err := a.LoginItem.Status()
		if err != nil {
			a.Log.Warn("cannot read the login item", "err", err)
		}
		// A setting that cannot be read cannot be toggled sensibly either.
		x.LoginItem, x.LoginItemSet, x.LoginBroken = st.Enabled, err == nil, st.Broken
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
	st, err := a.LoginItem.Status()
	on := st.Enabled
	if err == nil {
		switch {
		case st.Broken != "":
			// On but broken: the click repairs it (points it at this
			// cairn-tray) rather than turning it off.
			a.Log.Info("repairing the login item", "broken", st.Broken)
			on, err = false, a.LoginItem.Enable()
		case on:
			err = a.LoginItem.Disable()
		default:
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
	case menu.IDCopyAddr:
		if st.Addr != "" {
			go a.copy("http://" + st.Addr + "/")
		}
	case menu.IDStart:
		a.sup.Do(supervisor.CmdStart)
	case menu.IDStop:
		a.sup.Do(supervisor.CmdStop)
	case menu.IDRestart:
		a.sup.Do(supervisor.CmdRestart)
	case menu.IDForceStop:
		a.sup.Do(supervisor.CmdForceStop)
	case menu.IDTakeover:
		// The supervisor decides: it takes over once per conflict, from
		// the holder it showed, and ignores a click it cannot act on.
		a.sup.Do(supervisor.CmdTakeover)
	case menu.IDLogin:
		a.toggleLogin()
	case menu.IDUpdate:
		a.openRelease()
	case menu.IDUpdates:
		a.toggleUpdates()
	case menu.IDLogs:
		go a.open(a.LogDir, "the log folder")
	case menu.IDAbout:
		go a.notify("", notify.Notification{
			Title: "Cairn " + a.Version,
			Body: fmt.Sprintf("A local memory daemon and its tray.\n%s\nData: %s\nLogs: %s",
				menu.StatusLine(st, a.Now()), a.DataDir, a.LogDir),
			Icon: assets.AppIconPNG(),
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
	a.open(target, "the dashboard")
}

// open shows target with the desktop's default handler. When that fails
// it says so in a notification that names target, with a Copy button, and
// logs why: an action never fails silently.
func (a *App) open(target, what string) {
	err := errors.New("no way to open files or links in this build")
	if a.Open != nil {
		err = a.Open(target)
	}
	if err == nil {
		return
	}
	a.Log.Warn("open failed", "what", what, "target", target, "err", err)
	a.mu.Lock()
	a.unopened = target
	a.mu.Unlock()
	n := notify.Notification{
		Title: "Cairn could not open " + what,
		Body:  fmt.Sprintf("%s\n%v", target, err),
	}
	if a.Notifier != nil && a.Notifier.SupportsActions() && a.Copy != nil {
		n.Actions = []notify.Action{{Key: ActionCopy, Label: "Copy"}}
	}
	a.notify("", n)
}

// copy puts text on the clipboard, and says so when it cannot, with the
// text, so the user can still copy it by hand.
func (a *App) copy(text string) {
	err := errors.New("no clipboard in this build")
	if a.Copy != nil {
		err = a.Copy(text)
	}
	if err != nil {
		a.Log.Warn("copy failed", "text", text, "err", err)
		a.notify("", notify.Notification{Title: "Cairn could not copy", Body: fmt.Sprintf("%s\n%v", text, err)})
		return
	}
	a.Log.Info("copied", "text", text)
}

// notificationFor decides whether a status change is worth telling the
// user, and under which dedupe key.
func (a *App) notificationFor(prev, st supervisor.Status) (notify.Notification, string, bool) {
	icon := assets.PNG(string(menu.IconFor(st.State)))
	switch {
	case st.TakeoverFailed != "" && prev.TakeoverFailed == "":
		return notify.Notification{Title: "Take over failed", Body: st.TakeoverFailed, Icon: assets.PNG(string(menu.IconConflict))}, "", true
	case st.State == supervisor.Conflict && prev.State != supervisor.Conflict && !st.Parked:
		// (A parked conflict is shown in the menu only: nothing was
		// asked to start, so "can't start" would not be true.)
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
			Body:  fmt.Sprintf("The daemon (%s) does not answer its health checks. Choose Restart in the menu, or take over from it.", pidOrHolder(st)),
			Icon:  icon,
		}
		buttons := a.Notifier != nil && a.Notifier.SupportsActions()
		if st.Owned {
			// Cairn's own child: there is no other process to take over
			// from; Force stop is in the menu.
			n.Body = fmt.Sprintf("The daemon (%s) does not answer its health checks. Choose Restart, or Force stop, in the menu.", pidOrHolder(st))
		}
		if buttons {
			n.Actions = []notify.Action{{Key: ActionRestart, Label: "Restart"}}
			if !st.Owned && st.NoTakeover == "" {
				n.Actions = append(n.Actions, notify.Action{Key: ActionTakeover, Label: "Take over"})
			}
		}
		return n, "not_responding", true
	case st.State == supervisor.Running && st.TookOver != "" && prev.TookOver == "":
		return notify.Notification{
			Title: fmt.Sprintf("Cairn took over port %d", st.Port),
			Body:  st.TookOver + "\n" + menu.StatusLine(st, a.Now()),
			Icon:  icon,
		}, "", true
	case st.State == supervisor.Crashed && prev.State != supervisor.Crashed:
		return notify.Notification{
			Title: fmt.Sprintf("Cairn crashed %d times and gave up", st.Crashes),
			Body:  crashSummary(st.Message, 4) + "\nChoose Restart in the menu; the crash output is in " + st.LogFile,
			Icon:  icon,
		}, "crashed", true
	case st.State == supervisor.Running && st.RestartedAfterCrash && !prev.RestartedAfterCrash:
		return notify.Notification{
			Title: "Cairn restarted after a crash",
			Body:  crashSummary(st.Message, 4),
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
