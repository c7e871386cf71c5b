package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/launch"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/service"
)

// ExecSpawner spawns the real `cairn serve --foreground`.
type ExecSpawner struct {
	Bin   string // the cairn binary
	Paths paths.Paths
}

// Spawn starts the daemon through the one launcher (daemon/launch): in
// its own session, so a Ctrl-C aimed at the tray's terminal does not reach
// it and it outlives a killed tray, its output appended to logs/daemon.out.
// The file, not a pipe, is the child's stdout: a pipe would break, and
// kill it with SIGPIPE, when the tray dies.
func (e ExecSpawner) Spawn(port int) (Process, error) {
	if err := e.Paths.EnsureDataDir(); err != nil {
		return nil, fmt.Errorf("the data dir %s is unusable: %w", e.Paths.DataDir, err)
	}
	run, err := launch.Start(launch.Options{Exe: e.Bin, Port: port, Supervisor: "tray", Out: e.Paths.DaemonOut})
	if err != nil {
		return nil, err
	}
	p := &execProcess{run: run, done: make(chan struct{}), logDir: e.Paths.LogDir, out: e.Paths.DaemonOut}
	go func() {
		run.Cmd.Wait()
		p.code = run.Cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	return p, nil
}

type execProcess struct {
	run    *launch.Run
	done   chan struct{}
	code   int
	out    string // daemon.out
	logDir string
}

func (p *execProcess) PID() int              { return p.run.PID() }
func (p *execProcess) Done() <-chan struct{} { return p.done }
func (p *execProcess) ExitCode() int         { <-p.done; return p.code }
func (p *execProcess) Kill() error           { return p.run.Cmd.Process.Kill() }
func (p *execProcess) Terminate() error      { return terminate(p.run.Cmd.Process) }

func (p *execProcess) LastLine() string {
	if l := p.run.LastLine(); l != "" {
		return l
	}
	return fmt.Sprintf("the daemon exited with code %d", p.ExitCode())
}

// CrashReport keeps the crash output (the first and last 200 lines, which
// hold the panic message and its goroutine traces) in
// logs/crash-<time>-<pid>.log, as Syncthing keeps its panic logs.
func (p *execProcess) CrashReport(n int) ([]string, string) {
	lines := p.run.Output()
	kept := lines
	if len(kept) > 400 {
		kept = append(append(kept[:200:200], fmt.Sprintf("… %d lines left out …", len(lines)-400)), lines[len(lines)-200:]...)
	}
	<-p.done
	how := p.run.Cmd.ProcessState.String() // "exit status 2", "signal: killed"
	name := filepath.Join(p.logDir, fmt.Sprintf("crash-%s-%d.log", time.Now().Format("20060102-150405"), p.PID()))
	body := fmt.Sprintf("cairn daemon PID %d ended: %s\n\n%s\n", p.PID(), how, strings.Join(kept, "\n"))
	if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
		name = p.out
	}
	return crashLines(p.PID(), how, lines, n), name
}

// LocalDaemon is the real Daemon: the data dir's files, the local API and
// the OS's service manager.
type LocalDaemon struct {
	Paths paths.Paths
	Port  int
	// Services finds the service manager; nil means service.Detect.
	Services func() (service.Manager, error)
	// Clients keeps the proven connection the probes ride; nil dials anew
	// each time.
	Clients *client.Cached
	// Log gets the take over engine's every step; nil drops them.
	Log func(msg string, args ...any)
}

// client is the daemon's client as the data dir names it now.
func (d LocalDaemon) client() (*client.Client, func(), error) {
	if d.Clients != nil {
		c, err := d.Clients.Get()
		return c, func() {}, err
	}
	c, err := client.Discover(d.Paths)
	if err != nil {
		return nil, nil, err
	}
	return c, c.CloseIdle, nil
}

func (d LocalDaemon) Diagnose(ctx context.Context, port int) instance.Diagnosis {
	return instance.Diagnose(ctx, d.Paths, port)
}

func (d LocalDaemon) CleanStale() bool { return instance.CleanStale(d.Paths) }

func (d LocalDaemon) WaitReady(ctx context.Context, pid int, exited <-chan struct{}) (string, error) {
	codes := make(chan int, 1)
	go func() {
		select {
		case <-exited:
			codes <- -1
		case <-ctx.Done():
		}
	}()
	addr, err := instance.WaitReady(ctx, d.Paths, pid, codes)
	if err != nil {
		return "", err
	}
	return addr.String(), nil
}

// DashboardURL asks the daemon for a one-time dashboard sign-in link.
func (d LocalDaemon) DashboardURL(ctx context.Context) (string, error) {
	c, done, err := d.client()
	if err != nil {
		return "", err
	}
	defer done()
	if !c.Proven() {
		return "", client.ErrNoToken
	}
	s, err := c.Session(ctx)
	return s.URL, err
}

// Health asks /v1/status on the proven connection: with the token, so the
// daemon counts the connection as its owner's and keeps it open under
// another user's connection flood, and with the memory count for the menu.
func (d LocalDaemon) Health(ctx context.Context) (Health, error) {
	c, done, err := d.client()
	if err != nil {
		return Health{}, err
	}
	defer done()
	if !c.Proven() {
		return Health{}, client.ErrNoToken
	}
	st, err := c.Status(ctx)
	if err != nil {
		return Health{}, err
	}
	return Health{PID: st.PID, Addr: c.Addr().String(), Memories: st.Memories}, nil
}

func (d LocalDaemon) ManagedBy(ctx context.Context) string {
	c, done, err := d.client()
	if err != nil {
		return ""
	}
	defer done()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return ""
	}
	return st.Supervisor
}

func (d LocalDaemon) Events(ctx context.Context, memories func(count int64), stopping func()) error {
	c, done, err := d.client()
	if err != nil {
		return err
	}
	defer done()
	return c.Events(ctx, func(name, data string) bool {
		var ev api.MemoryEvent
		switch {
		case name == api.EventMemory && json.Unmarshal([]byte(data), &ev) == nil:
			memories(ev.Count)
		case name == api.EventDraining || name == api.EventStopping:
			stopping()
		}
		return true
	})
}

// Changes watches the data dir (not the files: they are replaced by
// renames and removed) and calls changed for every event on the discovery
// file or the lock.
func (d LocalDaemon) Changes(ctx context.Context, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(d.Paths.DataDir); err != nil {
		w.Close()
		return fmt.Errorf("watch %s: %w", d.Paths.DataDir, err)
	}
	names := map[string]bool{filepath.Base(d.Paths.AddrFile): true, filepath.Base(d.Paths.Lock): true, filepath.Base(d.Paths.Lock) + ".pid": true}
	go func() {
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if names[filepath.Base(ev.Name)] {
					changed()
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
				changed() // events were lost (queue overflow): look anyway
			}
		}
	}()
	return nil
}

func (d LocalDaemon) LastLines(pid, n int) []string {
	return launch.Lines(d.Paths.DaemonOut, 0, pid, n)
}

func (d LocalDaemon) OutputFile() string { return d.Paths.DaemonOut }

func (d LocalDaemon) Takeover(ctx context.Context, port int, expect *instance.Holder) (string, error) {
	return instance.Takeover(ctx, d.Paths, port, instance.TakeoverOptions{Expect: expect, Log: d.Log})
}

// Shutdown asks the daemon at the discovered address to stop, but only
// when it is the process we mean.
func (d LocalDaemon) Shutdown(ctx context.Context, pid int) error {
	c, done, err := d.client()
	if err != nil {
		return err
	}
	defer done()
	h, err := c.Health(ctx)
	if err != nil {
		return err
	}
	if h.PID != pid {
		return errors.New("the daemon at the discovered address is another process")
	}
	return c.Shutdown(ctx)
}

// ServiceInstalled reports an installed Cairn service that runs this data
// dir on this port; one installed for another data dir or port is not
// ours to start.
func (d LocalDaemon) ServiceInstalled(ctx context.Context) (string, bool) {
	m, err := d.manager()
	if err != nil {
		return "", false
	}
	st, err := m.Status(ctx)
	if err != nil || !st.Installed {
		return "", false
	}
	if st.Port != 0 && st.Port != d.Port || st.DataDir != "" && !sameDir(st.DataDir, d.Paths.DataDir) {
		return "", false
	}
	return m.Name(), true
}

func (d LocalDaemon) StartService(ctx context.Context) error {
	m, err := d.manager()
	if err != nil {
		return err
	}
	return m.Start(ctx)
}

func (d LocalDaemon) RestartService(ctx context.Context) error {
	m, err := d.manager()
	if err != nil {
		return err
	}
	return m.Restart(ctx)
}

func (d LocalDaemon) manager() (service.Manager, error) {
	if d.Services != nil {
		return d.Services()
	}
	return service.Detect()
}

// WaitServing waits until this data dir's daemon answers and proves
// itself, or the service manager reports that its daemon exited: the one
// wait of "start through the service manager" (instance.WaitService).
func (d LocalDaemon) WaitServing(ctx context.Context) error {
	m, _ := d.manager()
	timeout := 20 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	var status instance.ServiceStatus
	if m != nil {
		status = m
	}
	_, err := instance.WaitService(ctx, status, d.Paths, timeout)
	return err
}

func sameDir(a, b string) bool {
	return filepath.Clean(a) == filepath.Clean(b)
}

func (d LocalDaemon) Stop(ctx context.Context) error {
	_, err := instance.Stop(ctx, d.Paths, instance.StopOptions{})
	return err
}
