package supervisor

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/instance"
)

// fakeClock fires timers only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	d       time.Duration
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves time forward and runs the timers that fall due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// pending lists the durations of live timers.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		if !t.stopped {
			ds = append(ds, t.d)
		}
	}
	return ds
}

type fakeProc struct {
	pid        int
	done       chan struct{}
	once       sync.Once
	code       int
	mu         sync.Mutex
	terminated bool
	killed     bool
	lastLine   string
}

func (p *fakeProc) PID() int              { return p.pid }
func (p *fakeProc) Done() <-chan struct{} { return p.done }
func (p *fakeProc) ExitCode() int         { <-p.done; return p.code }
func (p *fakeProc) exit(code int) {
	p.once.Do(func() { p.code = code; close(p.done) })
}
func (p *fakeProc) Terminate() error {
	p.mu.Lock()
	p.terminated = true
	p.mu.Unlock()
	return nil
}
func (p *fakeProc) Kill() error {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	p.exit(-1)
	return nil
}
func (p *fakeProc) CrashReport(n int) ([]string, string) {
	return []string{"panic: boom", "goroutine 1 [running]:"}, "/logs/crash.log"
}
func (p *fakeProc) LastLine() string { return p.lastLine }

type fakeSpawner struct {
	mu    sync.Mutex
	procs []*fakeProc
	next  int
	err   error
	ch    chan *fakeProc
}

func newFakeSpawner() *fakeSpawner { return &fakeSpawner{next: 1000, ch: make(chan *fakeProc, 100)} }

func (s *fakeSpawner) Spawn(port int) (Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.next++
	p := &fakeProc{pid: s.next, done: make(chan struct{})}
	s.procs = append(s.procs, p)
	s.ch <- p
	return p, nil
}

func (s *fakeSpawner) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.procs)
}

// fakeDaemon answers from what the test sets.
type fakeDaemon struct {
	mu             sync.Mutex
	diag           instance.Diagnosis
	ready          map[int]chan error // per PID: the test decides readiness
	served         map[int]bool       // PIDs that became ready: only they take an API shutdown
	waiters        map[int]int        // per PID: WaitReady calls so far
	healthy        func() (int, error)
	shutdowns      []int
	stops          int
	cleaned        int
	exitOnShutdown map[int]*fakeProc
	memories       chan int64 // counts the event stream delivers
	endStream      chan bool  // ends the stream; true announces a clean shutdown first
	changed        func()     // the data dir watcher's callback
	lastLines      []string   // what LastLines returns
	takeovers      []*instance.Holder
	takeoverGate   chan struct{} // when set, Takeover waits for it
	takeoverErr    error
	onTakeover     func()        // the engine's effect (the holder gone)
	diagnoseGate   chan struct{} // when set, Diagnose waits for it (a hung service manager)
	stopGate       chan struct{} // when set, Stop waits for it
	stale          bool          // a dead daemon's files are there for CleanStale
	diagnoses      int           // Diagnose calls so far

	// The service manager: installed names it ("" for none); serviceCalls
	// records "start" and "restart"; serviceErr fails them; onService
	// runs after a call (the test's stand-in for the manager acting).
	installed    string
	managedBy    string
	serviceCalls []string
	serviceErr   error
	onService    func(verb string)
}

func newFakeDaemon() *fakeDaemon {
	return &fakeDaemon{
		diag:           instance.Diagnosis{State: instance.StateStopped},
		ready:          map[int]chan error{},
		served:         map[int]bool{},
		waiters:        map[int]int{},
		exitOnShutdown: map[int]*fakeProc{},
		memories:       make(chan int64, 8),
		endStream:      make(chan bool, 8),
	}
}

func (d *fakeDaemon) setDiag(diag instance.Diagnosis) {
	d.mu.Lock()
	d.diag = diag
	d.mu.Unlock()
}

func (d *fakeDaemon) Diagnose(ctx context.Context, port int) instance.Diagnosis {
	d.mu.Lock()
	d.diagnoses++
	gate := d.diagnoseGate
	d.mu.Unlock()
	if gate != nil {
		<-gate
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.diag
}

func (d *fakeDaemon) CleanStale() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cleaned++
	stale := d.stale
	d.stale = false
	return stale
}

func (d *fakeDaemon) readyCh(pid int) chan error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.ready[pid]
	if !ok {
		ch = make(chan error, 1)
		d.ready[pid] = ch
	}
	return ch
}

func (d *fakeDaemon) WaitReady(ctx context.Context, pid int, exited <-chan struct{}) (string, error) {
	ch := d.readyCh(pid)
	d.mu.Lock()
	d.waiters[pid]++
	d.mu.Unlock()
	select {
	case err := <-ch:
		ch <- err // readiness is a state: every waiter sees it
		if err != nil {
			return "", err
		}
		d.mu.Lock()
		d.served[pid] = true
		d.mu.Unlock()
		return "127.0.0.1:7070", nil
	case <-exited:
		return "", errors.New("exited")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (d *fakeDaemon) Health(ctx context.Context) (Health, error) {
	d.mu.Lock()
	h := d.healthy
	d.mu.Unlock()
	if h == nil {
		return Health{}, errors.New("connection refused")
	}
	pid, err := h()
	return Health{PID: pid, Addr: "127.0.0.1:7070", Memories: -1}, err
}

func (d *fakeDaemon) ManagedBy(ctx context.Context) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.managedBy == "" {
		return "terminal"
	}
	return d.managedBy
}

func (d *fakeDaemon) ServiceInstalled(ctx context.Context) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.installed, d.installed != ""
}

func (d *fakeDaemon) StartService(ctx context.Context) error   { return d.service("start") }
func (d *fakeDaemon) RestartService(ctx context.Context) error { return d.service("restart") }

func (d *fakeDaemon) service(verb string) error {
	d.mu.Lock()
	d.serviceCalls = append(d.serviceCalls, verb)
	err, on := d.serviceErr, d.onService
	d.mu.Unlock()
	if err == nil && on != nil {
		on(verb)
	}
	return err
}

func (d *fakeDaemon) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.serviceCalls)
}

// WaitServing answers from the diagnosis the test set.
func (d *fakeDaemon) WaitServing(ctx context.Context) error {
	for {
		d.mu.Lock()
		st := d.diag.State
		d.mu.Unlock()
		if st == instance.StateRunning {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (d *fakeDaemon) Events(ctx context.Context, memories func(int64), stopping func()) error {
	for {
		select {
		case n := <-d.memories:
			memories(n)
		case clean := <-d.endStream:
			if clean {
				stopping()
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *fakeDaemon) Changes(ctx context.Context, changed func()) error {
	d.mu.Lock()
	d.changed = changed
	d.mu.Unlock()
	return nil
}

// change plays the data dir watcher seeing the discovery file change.
func (d *fakeDaemon) change() {
	d.mu.Lock()
	f := d.changed
	d.mu.Unlock()
	f()
}

func (d *fakeDaemon) LastLines(pid, n int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastLines
}

func (d *fakeDaemon) OutputFile() string { return "/logs/daemon.out" }

func (d *fakeDaemon) Takeover(ctx context.Context, port int, expect *instance.Holder) (string, error) {
	d.mu.Lock()
	d.takeovers = append(d.takeovers, expect)
	gate, err, on := d.takeoverGate, d.takeoverErr, d.onTakeover
	d.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if err != nil {
		return "", err
	}
	if on != nil {
		on()
	}
	return "Stopped the holder.", nil
}

func (d *fakeDaemon) Shutdown(ctx context.Context, pid int) error {
	d.mu.Lock()
	if !d.served[pid] {
		d.mu.Unlock()
		// Like the real one: no discovery file names it yet.
		return errors.New("http_addr: no such file or directory")
	}
	d.shutdowns = append(d.shutdowns, pid)
	p := d.exitOnShutdown[pid]
	d.mu.Unlock()
	if p != nil {
		p.exit(0)
	}
	return nil
}

func (d *fakeDaemon) Stop(ctx context.Context) error {
	d.mu.Lock()
	d.stops++
	gate := d.stopGate
	d.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return nil
}

func runningDiag(pid int) instance.Diagnosis {
	return instance.Diagnosis{State: instance.StateRunning, Addr: "127.0.0.1:7070",
		Daemon: &api.Health{Status: "ok", Service: "cairn", PID: pid, Uptime: 60}}
}

// harness runs a Supervisor against fakes and records its statuses.
type harness struct {
	t        *testing.T
	clock    *fakeClock
	spawner  *fakeSpawner
	daemon   *fakeDaemon
	sup      *Supervisor
	statuses chan Status
	done     chan struct{}
	cancel   context.CancelFunc
}

func newHarness(t *testing.T, diag instance.Diagnosis, tweak func(*Config)) *harness {
	h := &harness{t: t, clock: newFakeClock(), spawner: newFakeSpawner(), daemon: newFakeDaemon(),
		statuses: make(chan Status, 1000), done: make(chan struct{})}
	h.daemon.setDiag(diag)
	// The idle look's period differs from every other timer's, so
	// waitTimer never mistakes it for the one a test waits for.
	cfg := Config{Port: 7070, Daemon: h.daemon, Spawner: h.spawner, Clock: h.clock, IdleInterval: 7 * time.Second,
		OnChange: func(s Status) { h.statuses <- s }}
	if tweak != nil {
		tweak(&cfg)
	}
	h.sup = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.sup.Run(ctx); close(h.done) }()
	t.Cleanup(func() {
		cancel()
		for _, p := range h.spawner.procs {
			p.exit(0)
		}
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("supervisor did not stop")
		}
	})
	return h
}

// want waits for a status in the given state and returns it.
func (h *harness) want(state State) Status {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	var seen []State
	for {
		select {
		case s := <-h.statuses:
			if s.State == state {
				return s
			}
			seen = append(seen, s.State)
		case <-deadline:
			h.t.Fatalf("no %q status; saw %v", state, seen)
		}
	}
}

func (h *harness) spawned() *fakeProc {
	h.t.Helper()
	select {
	case p := <-h.spawner.ch:
		return p
	case <-time.After(5 * time.Second):
		h.t.Fatal("no spawn")
		return nil
	}
}

func (h *harness) noSpawn() {
	h.t.Helper()
	select {
	case p := <-h.spawner.ch:
		h.t.Fatalf("unexpected spawn of PID %d", p.pid)
	default:
	}
}

// wantCrash waits for the Starting status that follows crash number n.
func (h *harness) wantCrash(n int) Status {
	h.t.Helper()
	for {
		if st := h.want(Starting); st.Crashes == n {
			return st
		}
	}
}

// waitTimer waits until a timer of duration d is pending: the supervisor
// arms its next probe only after the previous probe's answer came back.
func (h *harness) waitTimer(d time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(h.clock.pending(), d) {
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s timer; pending %v", d, h.clock.pending())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// waitWaiters waits until n WaitReady calls for pid have been made.
func (h *harness) waitWaiters(pid, n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.daemon.mu.Lock()
		got := h.daemon.waiters[pid]
		h.daemon.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d WaitReady calls for PID %d, want %d", got, pid, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// settle waits until the supervisor has handled everything queued so far:
// a command round-trips through the same event queue.
func (h *harness) settle() {
	h.t.Helper()
	ch := make(chan struct{})
	h.sup.post(evSync{ch})
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		h.t.Fatal("supervisor stuck")
	}
}

// waitDiagnoses waits until Diagnose has been called n times in all.
func (h *harness) waitDiagnoses(n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.daemon.mu.Lock()
		got := h.daemon.diagnoses
		h.daemon.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d diagnoses, want %d", got, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (h *harness) diagnosesSoFar() int {
	h.daemon.mu.Lock()
	defer h.daemon.mu.Unlock()
	return h.daemon.diagnoses
}
