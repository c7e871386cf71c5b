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
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/poll"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/safefile"
	"github.com/cairnlabs/cairn/daemon/server"
	"github.com/cairnlabs/cairn/daemon/store"
	"github.com/cairnlabs/cairn/daemon/token"
	"github.com/cairnlabs/cairn/daemon/version"
	"github.com/cairnlabs/cairn/internal/rundump"
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
	// ReadyWait bounds how long a start that lost the lock waits for the
	// winner, a Cairn daemon still starting, to serve.
	ReadyWait time.Duration
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
	if o.ReadyWait == 0 {
		o.ReadyWait = 15 * time.Second
	}
}

// RunForeground runs the daemon until a shutdown signal (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT; on Windows Ctrl-C, Ctrl-Break and console close), POST
// /v1/shutdown or ctx ends it. It returns nil after a clean shutdown or when a healthy
// daemon already runs, and an *exitcode.Error otherwise.
func RunForeground(ctx context.Context, opts Options) error {
	opts.defaults()
	// Every signal that would otherwise end the process leaves nothing
	// behind: it shuts down in order, like SIGTERM.
	if sigs := handledSignals(); len(sigs) > 0 { // none would mean "every signal"
		var stopSignals func()
		ctx, stopSignals = signal.NotifyContext(ctx, sigs...)
		defer stopSignals()
	}

	p, err := paths.Resolve()
	if err != nil {
		return exitcode.New(exitcode.DataDirBad, err.Error())
	}

	// Single-instance guard, before touching anything: a supervisor such as
	// launchd KeepAlive must see exit 0 here, not a respawn loop.
	if h, addr, err := client.Probe(ctx, p); err == nil {
		fmt.Fprintln(opts.Stdout, launch.AlreadyRunning(addr.String(), h.PID))
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
	// Atomic writes killed half-way leave temp files; under the lock no
	// live writer can be about to rename one.
	if err := p.RemoveStaleTemps(); err != nil {
		fmt.Fprintf(opts.Stderr, "cairn: warning: could not remove stale temp files: %v\n", err)
	}

	// lumberjack opens daemon.log by name and cannot take an opener, so
	// refuse a symlink, FIFO or folder there first. Checking once is
	// enough: EnsureDataDir made sure no other user can write the data dir
	// or logs/, so nobody else can swap the file in afterwards.
	if err := safefile.Check(p.DaemonLog); err != nil {
		return dataDirError(p, err)
	}

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
	rundump.OnSignal(ctx, p.DaemonDump, "cairn daemon", log)

	// The store's header, before anyone is told the daemon runs: a database
	// a newer Cairn wrote refuses the start (exit 5) in microseconds.
	if err := store.CheckHeader(p.Store); err != nil {
		log.Error("memory store unusable", "path", p.Store, "err", err)
		return exitcode.New(exitcode.DataDirBad, storeError(p, err))
	}

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

	// The store opens now, and the daemon serves without waiting for it:
	// opening is milliseconds of SQLite, and a new process pays to page its
	// code in, which would double start-to-ready. Memory requests that come
	// first wait for it (server.MemoriesOpening). A store that then fails
	// to open (damaged; a newer schema only in the WAL) stops the daemon
	// with exit 5, as a failed start. It opens only once the discovery
	// files are written, also when it exists: opened alongside them, its
	// CPU and file work held their fsyncs up by ~1 ms, and ready came
	// later (docs/ARCHITECTURE.md, "A seventh look"). Only the lock holder
	// ever opens it.
	type storeResult struct {
		st  *store.Store
		err error
	}
	feed := server.NewFeed() // the store's changes, for the event streams
	// A stop that comes while the store still opens need not wait for it
	// (an upgrade's migration): it is cut short and rolled back, and the
	// next start opens it again.
	openCtx, stopOpening := context.WithCancel(context.Background())
	defer stopOpening()
	storeStarted := time.Now()
	storeCh := make(chan storeResult, 1)
	go func() {
		st, err := store.OpenContext(openCtx, p.Store, store.Options{Log: log,
			OnWrite:  func(m store.Memory) { feed.Changed(m.ID, "written") },
			OnDelete: func(id string) { feed.Changed(id, "deleted") },
		})
		storeCh <- storeResult{st, err}
	}()

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
	opened := api.MemoriesOpening()
	api.SetFeed(feed)
	api.SetLog(log)
	hs := api.HTTPServer()
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)

	// The open's result goes to the API at once (requests wait on it, not
	// on this goroutine) and then to the loop below.
	storeDone := make(chan storeResult, 1)
	go func() {
		sr := <-storeCh
		switch {
		case openCtx.Err() != nil:
			opened(nil, errors.New("the daemon is shutting down; retry in a moment"))
		case sr.err != nil:
			opened(nil, errors.New(storeError(p, sr.err)+" The daemon is stopping."))
		default:
			opened(sr.st, nil)
		}
		storeDone <- sr
	}()

	serveErr := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { serveErr <- hs.Serve(api.Listener(ln)) }()
	}
	log.Info("serving", "addr", addr, "pid", os.Getpid(), "version", version.Version, "data_dir", p.DataDir)
	fmt.Fprintf(opts.Stdout, "Cairn %s is serving at %s (PID %d, data in %s).\n", version.Version, addr, os.Getpid(), p.DataDir)

	var failure error
	var mem *store.Store
	opening := storeDone // nil once the open's result is in
wait:
	for {
		select {
		case sr := <-opening:
			opening = nil
			if sr.err != nil {
				log.Error("memory store unusable; stopping", "path", p.Store, "err", sr.err)
				failure = exitcode.New(exitcode.DataDirBad, storeError(p, sr.err))
				break wait
			}
			mem = sr.st
			log.Info("memory store open", "memories", mem.Count(), "took", time.Since(storeStarted).Round(time.Microsecond))
		case <-ctx.Done():
			log.Info("shutting down", "reason", "signal")
			break wait
		case <-shutdownReq:
			log.Info("shutting down", "reason", "api")
			break wait
		case err := <-serveErr:
			log.Error("server failed", "err", err)
			failure = exitcode.New(exitcode.Failure, fmt.Sprintf("serving %s failed: %v; see %s", addr, err, p.DaemonLog))
			break wait
		}
	}

	// Stop accepting and drain in flight, bounded; then remove the discovery
	// files while the lock still orders us before any successor; then the lock.
	// A store still opening is stopped first: requests waiting for it are
	// answered 503 rather than hold up the drain.
	if opening != nil {
		stopOpening()
	}
	api.BeginDrain()
	drainCtx, cancel := context.WithTimeout(context.Background(), opts.DrainTimeout)
	if err := hs.Shutdown(drainCtx); err != nil {
		log.Warn("drain timed out; closing remaining connections", "timeout", opts.DrainTimeout)
		hs.Close()
	}
	cancel()
	// Shutdown closes only the listeners a Serve goroutine has taken up; a
	// stop that comes first (a store that fails at once) would leave one
	// bound past the lock's release, and a successor would find the port
	// held by us. Closing twice is harmless.
	closeAll(lns)
	if opening != nil { // stopped while the store was still opening
		if sr := <-opening; sr.err == nil {
			mem = sr.st // it finished first
		}
	}
	// Every acknowledged write is already durable; Close drains what is
	// queued and checkpoints the WAL.
	if mem != nil {
		if err := mem.Close(); err != nil {
			log.Warn("close the memory store", "err", err)
		}
	}
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

// lockRecordWait bounds how long a refused start waits for the holder to be
// named: between taking the lock and writing it, and while a diagnosis
// probes the lock for an instant, the record can be missing; and a daemon
// that has just written its discovery file serves a moment later.
const lockRecordWait = time.Second

// takeLock takes the data dir's lock. Losing it to a Cairn daemon that is
// still starting (what 20 tools auto-starting at login do) is not a
// failure: the loser waits, bounded by opts.ReadyWait from the winner's
// start, for the winner to serve, and then exits 0 like the guard. Exit 4
// is for a holder that stays unhealthy.
func takeLock(ctx context.Context, p paths.Paths, opts Options) (*lock.Lock, error) {
	firstLook := time.Now()
	graceEnd := firstLook.Add(lockRecordWait)
	var holder *proc.Process
	wait := poll.New(2*time.Millisecond, 50*time.Millisecond)
	for {
		lk, err := lock.Acquire(p.Lock, os.Getpid())
		if err == nil {
			return lk, nil
		}
		if errors.Is(err, safefile.ErrNotRegular) {
			// The message names the file and says to remove it; the
			// permissions advice below would send the user the wrong way.
			return nil, exitcode.New(exitcode.DataDirBad, "cannot use the daemon lock: "+err.Error())
		}
		if !errors.Is(err, lock.ErrHeld) {
			return nil, exitcode.New(exitcode.DataDirBad, fmt.Sprintf(
				"cannot use the daemon lock: %v. Fix the permissions of %s or point CAIRN_HOME at a writable folder.", err, p.DataDir))
		}
		if h, addr, err := client.Probe(ctx, p); err == nil {
			fmt.Fprintln(opts.Stdout, launch.AlreadyRunning(addr.String(), h.PID))
			return nil, errAlreadyRunning
		}
		holder = nil
		if pid, err := lock.ReadRecord(p.Lock); err == nil {
			holder, _ = proc.Lookup(ctx, pid)
		}
		now := time.Now()
		starting := holder.IsCairnDaemon() && stillStarting(p, holder, firstLook) &&
			now.Before(startedAt(holder, firstLook).Add(opts.ReadyWait))
		if !starting && now.After(graceEnd) {
			return nil, lockHeldError(p, holder)
		}
		if !wait.Sleep(ctx) {
			// A shutdown signal while waiting: nothing was started.
			return nil, errAlreadyRunning
		}
	}
}

// servingGrace is how long after writing its discovery file a daemon may
// take to answer its first probe. It writes the file the moment it binds
// and serves right after, but 30 starts racing on a loaded two-core machine
// (what CI does under -race) were measured taking over a second for that
// step; a daemon still silent this long after binding is hung.
const servingGrace = 5 * time.Second

// stillStarting reports whether the Cairn daemon holder is still on its way
// to serving: it has not written a discovery file since it started (it holds
// the lock but has not bound), or it wrote one less than servingGrace ago.
// One that wrote it longer ago and does not answer is hung, not starting.
func stillStarting(p paths.Paths, holder *proc.Process, firstLook time.Time) bool {
	fi, err := os.Lstat(p.AddrFile)
	if err != nil || fi.ModTime().Before(startedAt(holder, firstLook)) {
		return true
	}
	return time.Since(fi.ModTime()) < servingGrace
}

// startedAt is when holder started; an unknown start time counts as the
// moment we first saw it, so the wait stays bounded.
func startedAt(holder *proc.Process, firstLook time.Time) time.Time {
	if holder.CreateTime == 0 {
		return firstLook
	}
	return time.UnixMilli(holder.CreateTime)
}

// errAlreadyRunning ends RunForeground with exit 0 after the guard's message.
var errAlreadyRunning = exitcode.New(exitcode.OK, "")

func lockHeldError(p paths.Paths, holder *proc.Process) error {
	switch {
	case holder == nil:
		return exitcode.New(exitcode.LockHeld, fmt.Sprintf(
			"the daemon lock %s is held by a process that cannot be identified; run 'cairn doctor' to see who holds it.", p.Lock))
	case holder.IsCairnDaemon():
		return exitcode.New(exitcode.LockHeld, fmt.Sprintf(
			"the daemon lock %s is held, and its record names %s, a Cairn daemon that is not answering; run 'cairn doctor' (it checks who really holds the lock), then 'cairn stop --force' to end it.", p.Lock, holder))
	default:
		return exitcode.New(exitcode.LockHeld, fmt.Sprintf(
			"the daemon lock %s is held, and its record names %s, which is not a Cairn daemon; run 'cairn doctor' to see who holds it.", p.Lock, holder))
	}
}

func dataDirError(p paths.Paths, err error) error {
	if de := (*paths.DirError)(nil); errors.As(err, &de) {
		return exitcode.New(exitcode.DataDirBad, de.Error()) // already names the fix
	}
	return exitcode.New(exitcode.DataDirBad, paths.UnusableMessage(p.DataDir, err))
}

// storeError says what is wrong with cairn.db and what to do.
func storeError(p paths.Paths, err error) string {
	if errors.Is(err, store.ErrTooNew) {
		return fmt.Sprintf("the memory store %s was written by a newer Cairn; upgrade Cairn (it is never downgraded)", p.Store)
	}
	if errors.Is(err, store.ErrOrphanWAL) {
		return err.Error()
	}
	return fmt.Sprintf("cannot open the memory store %s: %v. Run 'cairn doctor'; if the file is damaged, move it aside with its %s-wal and %s-shm files and start again (a fresh store is created).",
		p.Store, err, filepath.Base(p.Store), filepath.Base(p.Store))
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

// handledSignals are the shutdown signals this process was not told to
// ignore: Notify would undo the SIG_IGN of `nohup cairn serve --foreground`
// and end the daemon when the terminal closes.
func handledSignals() []os.Signal {
	var sigs []os.Signal
	for _, sig := range shutdownSignals {
		if !signal.Ignored(sig) {
			sigs = append(sigs, sig)
		}
	}
	return sigs
}
