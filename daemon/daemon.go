// Package daemon is `cairn serve --foreground`, the supervised entry point
// used by the tray, launchd, systemd and people. It keeps three guarantees:
// it owns the PID lock for its whole life, it binds exactly
// 127.0.0.1:<port> or exits 3, and it writes the discovery files the moment
// it binds, before serving the first request.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/server"
	"github.com/cairnlabs/cairn/daemon/token"
	"github.com/cairnlabs/cairn/daemon/version"
)

// DefaultPort is where Cairn listens unless --port or CAIRN_PORT says otherwise.
const DefaultPort = 7070

// Options configure RunForeground.
type Options struct {
	Port   int
	Stdout io.Writer // one line when serving, one when stopped
	Stderr io.Writer // warnings

	// DrainTimeout bounds how long shutdown waits for in-flight requests.
	DrainTimeout time.Duration
}

func (o *Options) defaults() {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 5 * time.Second
	}
}

// RunForeground runs the daemon until SIGINT, SIGTERM, POST /v1/shutdown or
// ctx ends it. It returns nil after a clean shutdown or when a healthy
// daemon already runs, and an *exitcode.Error otherwise.
func RunForeground(ctx context.Context, opts Options) error {
	opts.defaults()
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	p, err := paths.Resolve()
	if err != nil {
		return exitcode.New(exitcode.DataDirBad, err.Error())
	}

	// Single-instance guard, before touching anything: a supervisor such as
	// launchd KeepAlive must see exit 0 here, not a respawn loop.
	if pid, addr, ok := instance.Healthy(ctx, p); ok {
		fmt.Fprintf(opts.Stdout, "Cairn is already running at %s (PID %d); nothing to start.\n", addr, pid)
		return nil
	}

	if err := p.EnsureDataDir(); err != nil {
		return dataDirError(p, err)
	}

	lk, err := takeLock(ctx, p, opts)
	if err == errAlreadyRunning {
		return nil
	}
	if err != nil {
		return err
	}
	released := false
	release := func() {
		if !released {
			released = true
			lk.Release()
		}
	}
	defer release()

	// The token (an fsynced write on a first start) is made while we bind
	// and write discovery files; it must exist before the first request.
	type tokenResult struct {
		tok string
		err error
	}
	tokenCh := make(chan tokenResult, 1)
	go func() {
		tok, _, err := token.LoadOrCreate(p.Token)
		tokenCh <- tokenResult{tok, err}
	}()

	logFile := &lumberjack.Logger{Filename: p.DaemonLog, MaxSize: 10, MaxBackups: 3}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, nil))

	lns, addr, err := bind(ctx, opts.Port)
	if err != nil {
		log.Error("bind failed", "port", opts.Port, "err", err)
		return err
	}

	files, err := writeDiscovery(p, addr, opts.Stderr, log)
	tr := <-tokenCh
	if err == nil && tr.err != nil {
		err = tr.err
	}
	if err != nil {
		closeAll(lns)
		discovery.RemoveIfAddr(files, addr)
		return dataDirError(p, err)
	}
	tok := tr.tok

	started := time.Now()
	shutdownReq := make(chan struct{})
	api := server.New(server.Info{
		PID:        os.Getpid(),
		Addr:       addr.String(),
		Version:    version.Version,
		DataDir:    p.DataDir,
		Supervisor: detectSupervisor(),
		StartedAt:  started,
	}, tok, func() { close(shutdownReq) })
	hs := api.HTTPServer()
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)

	serveErr := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { serveErr <- hs.Serve(api.Listener(ln)) }()
	}
	log.Info("serving", "addr", addr, "pid", os.Getpid(), "version", version.Version, "data_dir", p.DataDir)
	fmt.Fprintf(opts.Stdout, "Cairn %s is serving at %s (PID %d, data in %s).\n", version.Version, addr, os.Getpid(), p.DataDir)

	var failure error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", "signal")
	case <-shutdownReq:
		log.Info("shutting down", "reason", "api")
	case err := <-serveErr:
		log.Error("server failed", "err", err)
		failure = exitcode.New(exitcode.Failure, fmt.Sprintf("serving %s failed: %v; see %s", addr, err, p.DaemonLog))
	}

	// Stop accepting and drain in flight, bounded; then remove the discovery
	// files while the lock still orders us before any successor; then the lock.
	api.BeginDrain()
	drainCtx, cancel := context.WithTimeout(context.Background(), opts.DrainTimeout)
	if err := hs.Shutdown(drainCtx); err != nil {
		log.Warn("drain timed out; closing remaining connections", "timeout", opts.DrainTimeout)
		hs.Close()
	}
	cancel()
	if err := discovery.RemoveIfAddr(files, addr); err != nil {
		log.Warn("remove discovery files", "err", err)
	}
	release()
	log.Info("stopped")
	if failure == nil {
		fmt.Fprintln(opts.Stdout, "Cairn stopped.")
	}
	return failure
}

// writeDiscovery writes both discovery files at once (each is an fsynced
// atomic write; in sequence they would double the start-to-ready time). The
// data dir's file is the contract; the dotfile is a convenience for tools
// that cannot resolve OS dirs, so failing it only warns. It returns the
// files that hold our address.
func writeDiscovery(p paths.Paths, addr netip.AddrPort, stderr io.Writer, log *slog.Logger) ([]string, error) {
	files := p.AddrFiles()
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() { errs[i] = discovery.Write([]string{f}, addr) })
	}
	wg.Wait()
	if errs[0] != nil {
		return files, errs[0]
	}
	if len(files) > 1 && errs[1] != nil {
		fmt.Fprintf(stderr, "cairn: warning: %v; tools that read %s will not find the daemon\n", errs[1], files[1])
		log.Warn("dotfile discovery not written", "err", errs[1])
		files = files[:1]
	}
	return files, nil
}

// lockRecordWait bounds how long a refused start waits for the holder's PID
// record to appear: between taking the lock and writing it, and while a
// diagnosis probes the lock for an instant, the record can be missing.
const lockRecordWait = 300 * time.Millisecond

func takeLock(ctx context.Context, p paths.Paths, opts Options) (*lock.Lock, error) {
	deadline := time.Now().Add(lockRecordWait)
	for {
		lk, err := lock.Acquire(p.Lock, os.Getpid())
		if err == nil {
			return lk, nil
		}
		if !errors.Is(err, lock.ErrHeld) {
			return nil, exitcode.New(exitcode.DataDirBad, fmt.Sprintf(
				"cannot use the daemon lock: %v. Fix the permissions of %s or point CAIRN_HOME at a writable folder.", err, p.DataDir))
		}
		// The holder may have become healthy since the guard looked.
		if pid, addr, ok := instance.Healthy(ctx, p); ok {
			fmt.Fprintf(opts.Stdout, "Cairn is already running at %s (PID %d); nothing to start.\n", addr, pid)
			return nil, errAlreadyRunning
		}
		pid, recErr := lock.ReadRecord(p.Lock)
		holder, _ := proc.Lookup(ctx, pid)
		if (recErr != nil || holder == nil) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		return nil, lockHeldError(p, holder)
	}
}

// errAlreadyRunning ends RunForeground with exit 0 after the guard's message.
var errAlreadyRunning = exitcode.New(exitcode.OK, "")

func lockHeldError(p paths.Paths, holder *proc.Process) error {
	switch {
	case holder == nil:
		return exitcode.New(exitcode.LockHeld, fmt.Sprintf(
			"the daemon lock %s is held by a process that cannot be identified; run `cairn doctor` to see who holds it.", p.Lock))
	case holder.IsCairnDaemon():
		return exitcode.New(exitcode.LockHeld, fmt.Sprintf(
			"the daemon lock %s is held by %s, a Cairn daemon that is not answering; run `cairn doctor`, or `cairn stop --force` to end it.", p.Lock, holder))
	default:
		return exitcode.New(exitcode.LockHeld, fmt.Sprintf(
			"the daemon lock %s is held by %s, which is not a Cairn daemon; run `cairn doctor` to see why.", p.Lock, holder))
	}
}

func dataDirError(p paths.Paths, err error) error {
	return exitcode.New(exitcode.DataDirBad, fmt.Sprintf(
		"the data dir %s is unusable: %v. Fix its permissions, or point CAIRN_HOME at a writable folder.", p.DataDir, err))
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// detectSupervisor says who started this daemon, for /v1/status and the tray.
func detectSupervisor() string {
	if s := os.Getenv("CAIRN_SUPERVISOR"); s != "" {
		return s
	}
	if os.Getenv("INVOCATION_ID") != "" {
		return "systemd"
	}
	// launchd names the job here; apps opened from the Dock or Finder
	// (a terminal, and so its shells) carry "application.<bundle id>...",
	// and a plain login shell "0": neither is a launchd service.
	if s := os.Getenv("XPC_SERVICE_NAME"); s != "" && s != "0" && !strings.HasPrefix(s, "application.") {
		return "launchd"
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return "terminal"
	}
	return "unknown"
}
