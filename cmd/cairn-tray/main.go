// Command cairn-tray is Cairn's menu-bar / system-tray app: it spawns and
// supervises `cairn serve --foreground`, shows its state, and turns
// conflicts and crashes into notifications. On Windows it is built with
// -H windowsgui.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/cairnlabs/cairn/assets"
	"github.com/cairnlabs/cairn/daemon"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/safefile"
	"github.com/cairnlabs/cairn/daemon/version"
	"github.com/cairnlabs/cairn/internal/exepath"
	"github.com/cairnlabs/cairn/internal/rundump"
	"github.com/cairnlabs/cairn/internal/update"
	"github.com/cairnlabs/cairn/tray"
	"github.com/cairnlabs/cairn/tray/appearance"
	"github.com/cairnlabs/cairn/tray/loginitem"
	"github.com/cairnlabs/cairn/tray/menu"
	"github.com/cairnlabs/cairn/tray/notify"
	"github.com/cairnlabs/cairn/tray/supervisor"
	"github.com/cairnlabs/cairn/tray/ui"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("cairn-tray", flag.ContinueOnError)
	fs.SetOutput(stderr)
	daemonBin := fs.String("daemon-bin", "", "path of the cairn binary (default: beside cairn-tray, then PATH)")
	port := fs.Int("port", 0, "daemon port on 127.0.0.1 (default $CAIRN_PORT or 7070)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	refresh := fs.Duration("refresh", 30*time.Second, "how often the menu is redrawn while nothing changes (uptime, the login checkbox)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *refresh <= 0 {
		fmt.Fprintf(stderr, "cairn-tray: --refresh %s must be positive\n", *refresh)
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stderr, "cairn-tray %s\n", version.Version)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cairn-tray: unexpected arguments %q\n", fs.Args())
		return 2
	}
	p, err := paths.Resolve()
	if err != nil {
		fmt.Fprintf(stderr, "cairn-tray: %v\n", err)
		return 5
	}
	if err := p.EnsureDataDir(); err != nil {
		fmt.Fprintf(stderr, "cairn-tray: the data dir %s is unusable: %v. Fix its permissions or set CAIRN_HOME.\n", p.DataDir, err)
		return 5
	}
	portN, err := daemon.ResolvePort(*port)
	if err != nil {
		fmt.Fprintf(stderr, "cairn-tray: %v\n", err)
		return 2
	}
	bin, err := findDaemon(*daemonBin)
	if err != nil {
		fmt.Fprintf(stderr, "cairn-tray: %v\n", err)
		return 1
	}

	// lumberjack opens tray.log by name; a symlink or FIFO planted there is
	// refused first. Once is enough: EnsureDataDir made sure no other user
	// can write logs/.
	if err := safefile.Check(p.TrayLog); err != nil {
		fmt.Fprintf(stderr, "cairn-tray: %v\n", err)
		return 5
	}
	logFile := &lumberjack.Logger{Filename: p.TrayLog, MaxSize: 5, MaxBackups: 2}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, nil))

	notifier, err := notify.New("Cairn")
	if err != nil {
		log.Warn("notifications unavailable", "err", err)
	}

	// One tray per user: a second one says so and leaves.
	trayLock, err := lock.Acquire(filepath.Join(p.DataDir, "tray.lock"), os.Getpid())
	if errors.Is(err, lock.ErrHeld) {
		fmt.Fprintf(stderr, "Cairn is already in the %s.\n", menu.Place)
		log.Info("second tray refused")
		if notifier != nil {
			notifier.Notify(notify.Notification{Title: "Cairn is already in the " + menu.Place, Body: "Look for the cairn icon.", Icon: assets.AppIconPNG()})
			notifier.Close()
		}
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "cairn-tray: %v\n", err)
		return 5
	}
	defer trayLock.Release()
	log.Info("tray starting", "version", version.Version, "pid", os.Getpid(), "daemon_bin", bin, "port", portN)

	u := ui.New(ui.Options{
		AppName:   "Cairn",
		Icons:     func(i menu.Icon) []byte { return assets.Icon(string(i)) },
		DarkIcons: func(i menu.Icon) []byte { return assets.DarkPanelIcon(string(i)) },
		Log:       log,
		Stderr:    stderr,
	})
	var app *tray.App
	daemon := supervisor.LocalDaemon{Paths: p, Port: portN, Clients: client.NewCached(p), Log: log.Info}
	sup := supervisor.New(supervisor.Config{
		Port:     portN,
		Daemon:   daemon,
		Spawner:  supervisor.ExecSpawner{Bin: bin, Paths: p},
		Log:      log,
		OnChange: func(st supervisor.Status) { app.OnStatus(st) },
	})
	app = tray.New(sup)
	app.UI = u
	if notifier != nil {
		app.Notifier = notifier
		defer notifier.Close()
	}
	app.Log = log
	app.Version = version.Version
	app.Open = tray.OpenDefault
	app.DashboardURL = daemon.DashboardURL
	app.LogDir, app.DataDir = p.LogDir, p.DataDir
	app.Copy = tray.CopyText
	app.Refresh = *refresh
	app.Scheme = appearance.Watcher{Log: log}.Watch
	if feed := update.URL(); feed != "" {
		app.Updates = &update.Notice{
			Checker:    &update.Checker{URL: feed, Current: version.Version, StateFile: p.UpdateState},
			ConfigFile: p.Config,
		}
		log.Info("update checks use the release feed", "url", feed)
	} else {
		log.Info("update checks off: this build has no release feed and " + update.EnvURL + " is not set")
	}
	if exe, err := os.Executable(); err != nil {
		log.Warn("start at login unavailable: cannot find this program's path", "err", err)
	} else {
		app.LoginItem = tray.OSLoginItem{Exe: exe}
		// A login item left pointing at where the app used to live is
		// moved along, never turned on.
		if moved, err := loginitem.UpdatePath(exe); err != nil {
			log.Warn("cannot check the login item", "err", err)
		} else if moved {
			log.Info("login item now starts this cairn-tray", "path", exe)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rundump.OnSignal(ctx, p.TrayDump, "cairn-tray", log)
	// While no icon is shown (no session bus, or no tray host yet), the
	// status line goes to stderr instead.
	app.Echo, app.IconShown = stderr, u.IconShown
	u.Run(func() {
		go func() {
			app.Run(ctx) // a signal cancels ctx, which quits like the menu does
			log.Info("tray exiting")
			u.Quit()
		}()
	})
	return 0
}

// findDaemon finds cairn beside this executable, then on PATH.
func findDaemon(flagBin string) (string, error) {
	if flagBin != "" {
		if _, err := os.Stat(flagBin); err != nil {
			return "", fmt.Errorf("--daemon-bin %s: %w", flagBin, err)
		}
		return filepath.Abs(flagBin)
	}
	path, err := exepath.BesideOrOnPath("cairn")
	if err != nil {
		return "", fmt.Errorf("%w; pass --daemon-bin", err)
	}
	return path, nil
}
