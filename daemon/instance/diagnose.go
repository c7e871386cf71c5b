package instance

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/lock"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/safefile"
	"github.com/cairnlabs/cairn/daemon/service"
	"github.com/cairnlabs/cairn/daemon/token"
)

// States of a diagnosis.
const (
	StateRunning       = "running"        // a healthy Cairn daemon answers
	StateStopped       = "stopped"        // nothing holds the lock or the port
	StateConflict      = "conflict"       // the port or lock is held by something that is not our healthy daemon
	StateNotResponding = "not_responding" // a Cairn daemon holds the lock but does not answer
)

// Diagnosis is the full picture of one data dir and port, the engine behind
// `cairn doctor`, `cairn status` and the tray's startup.
type Diagnosis struct {
	State       string            `json:"state"`
	DataDir     string            `json:"data_dir"`
	DataDirUse  DataDirReport     `json:"data_dir_check"`
	Port        int               `json:"port"`
	Daemon      *api.Health       `json:"daemon,omitempty"`
	Addr        string            `json:"addr,omitempty"`
	Lock        LockReport        `json:"lock"`
	PortHolders []proc.Listener   `json:"port_holders"`
	Discovery   []DiscoveryReport `json:"discovery"`
	Token       TokenReport       `json:"token"`
	// Impostor is a listener at the discovered address that answered like
	// Cairn but failed the proof: not this data dir's daemon.
	Impostor *ImpostorReport `json:"impostor,omitempty"`
	// Store is the memory store's integrity check, when asked for.
	Store *api.StoreCheck `json:"store,omitempty"`
	// Supervisor is who started the healthy daemon, in its own words
	// (/v1/status): tray, cli, systemd, launchd, terminal, unknown.
	Supervisor string `json:"supervisor,omitempty"`
	// Service is the service manager's unit that runs the daemon (healthy
	// or not answering), when one does: stopping it any other way gets it
	// respawned.
	Service  *service.Unit `json:"service,omitempty"`
	Holder   Holder        `json:"holder"` // who is in the way, and whether `cairn takeover` may stop it
	Problems []Problem     `json:"problems"`
}

// DiagnoseOptions configure DiagnoseWith.
type DiagnoseOptions struct {
	// Services finds the service that runs a daemon; nil means none is
	// consulted.
	Services Services
	// CheckStore asks a running daemon to run the memory store's integrity
	// checks (`cairn doctor`; too slow for the tray's every decision).
	CheckStore bool
}

// DataDirReport says whether the data dir is fit for Cairn's files: the
// checks a start makes (paths.CheckDataDir), which refuse it with exit 5.
type DataDirReport struct {
	Exists  bool   `json:"exists"`
	Problem string `json:"problem,omitempty"` // why a start refuses it
	Fix     string `json:"fix,omitempty"`
	Private bool   `json:"private"` // group and others cannot list it (allowed either way)
}

// LockReport describes daemon.lock. Holder is the process that holds the
// lock, set only when confirmed (confirmLockHolder) to be the PID the record
// names: the record is text anyone holding the lock could have written.
type LockReport struct {
	Path        string        `json:"path"`
	Exists      bool          `json:"exists"`
	Held        bool          `json:"held"`
	PID         int           `json:"pid,omitempty"`
	RecordError string        `json:"record_error,omitempty"`
	Holder      *proc.Process `json:"holder,omitempty"`

	// Unconfirmed says why the record's PID is not trusted as the holder
	// (another process holds the lock); the holder is then unknown.
	Unconfirmed string `json:"unconfirmed,omitempty"`
}

// DiscoveryReport describes one http_addr file.
type DiscoveryReport struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
	Addr   string `json:"addr,omitempty"`
	Error  string `json:"error,omitempty"`
	Stale  bool   `json:"stale"`
}

// ImpostorReport describes a listener that failed the proof.
type ImpostorReport struct {
	Addr   string `json:"addr"`
	Reason string `json:"reason"`
}

// TokenReport describes control.token.
type TokenReport struct {
	Path    string `json:"path"`
	Exists  bool   `json:"exists"`
	Valid   bool   `json:"valid"`
	Private bool   `json:"private"`
}

// Problem is something wrong and the exact command that fixes it.
type Problem struct {
	Summary string `json:"summary"`
	Fix     string `json:"fix"`
}

// Diagnose inspects the data dir of p and the given port, asking the OS's
// service manager whether it runs the daemon. It changes nothing.
func Diagnose(ctx context.Context, p paths.Paths, port int) Diagnosis {
	return DiagnoseWith(ctx, p, port, DiagnoseOptions{Services: DefaultServices()})
}

// DiagnoseWith is Diagnose with the service manager chosen by the caller.
func DiagnoseWith(ctx context.Context, p paths.Paths, port int, opts DiagnoseOptions) Diagnosis {
	c, h, err := client.ProbeClient(ctx, p)
	return diagnoseProbed(ctx, p, port, opts, c, h, err)
}

// diagnoseProbed is DiagnoseWith after its probe (client.ProbeClient's
// results).
func diagnoseProbed(ctx context.Context, p paths.Paths, port int, opts DiagnoseOptions, c *client.Client, h api.Health, err error) Diagnosis {
	d := Diagnosis{DataDir: p.DataDir, Port: port, PortHolders: []proc.Listener{}, Problems: []Problem{}}

	// A healthy daemon at the discovered address that proves itself is
	// the common case. One that answers but fails the proof is an impostor.
	var addr netip.AddrPort
	if c != nil {
		defer c.CloseIdle()
		addr = c.Addr()
	}
	var pe *client.ProofError
	switch {
	case err == nil:
		d.Daemon, d.Addr = &h, addr.String()
	case errors.As(err, &pe):
		d.Impostor = &ImpostorReport{Addr: pe.Addr.String(), Reason: pe.Reason}
	}

	d.DataDirUse = inspectDataDir(p)
	d.Lock = inspectLock(ctx, p, d.Daemon)
	if errors.Is(err, client.ErrNoToken) && d.Lock.Held && d.Lock.PID == h.PID {
		// No token to prove it with, but the lock says it is ours; the
		// missing token is reported below.
		d.Daemon, d.Addr = &h, addr.String()
	}
	d.Discovery = inspectDiscovery(p, d.Addr)
	d.Token = inspectToken(p)

	runningOnPort := d.Daemon != nil && d.Addr == fmt.Sprintf("127.0.0.1:%d", port)
	if !runningOnPort {
		ls, err := proc.Listeners(ctx, port)
		if err == nil {
			d.PortHolders = ls
		}
	}

	switch {
	case d.Daemon != nil:
		d.State = StateRunning
	case d.Lock.Held && d.Lock.Holder != nil && d.Lock.Holder.IsCairnDaemon() && !startLosingToPort(d):
		d.State = StateNotResponding
	case d.Lock.Held || len(d.PortHolders) > 0:
		d.State = StateConflict
	default:
		d.State = StateStopped
	}
	switch d.State {
	case StateRunning:
		d.Service, d.Supervisor = findService(ctx, c, opts.Services, d.Daemon.PID)
	case StateNotResponding:
		d.Service, _ = findService(ctx, nil, opts.Services, d.Lock.Holder.PID)
	}
	if opts.CheckStore && d.State == StateRunning && c != nil && c.Proven() {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		res, err := c.CheckStore(cctx)
		cancel()
		if err != nil {
			res = api.StoreCheck{Error: "the daemon could not run the check: " + err.Error()}
		}
		d.Store = &res
	}
	d.Holder = Classify(d)
	d.Problems = problems(d)
	return d
}

// damagedStoreFix is what to do about a damaged cairn.db. The export may
// stop at the first page it cannot read, so the file itself is copied
// first and moved aside only once an export has come through whole.
const damagedStoreFix = "cairn stop; copy cairn.db (and cairn.db-wal, if there is one) somewhere safe; cairn start, then cairn export > memories.jsonl: " +
	"if it completes, cairn stop, move cairn.db aside, and cairn import memories.jsonl; if it stops with the store damaged, " +
	"memories.jsonl holds what Cairn could read, and the copy is what is left to recover the rest from (sqlite3's .recover reads around damaged pages)"

// Status is Diagnose for `cairn status`: when a healthy daemon that proves
// itself (its PID is the lock's holder: client.Probe checks) answers at
// 127.0.0.1:port, it returns only that much of the picture, with the
// service that runs it. The full inspection (the lock holder's process,
// discovery files, token, data dir) only explains a daemon that is not
// simply running, and took most of status's time; otherwise it is the
// full Diagnose, on the same probe.
func Status(ctx context.Context, p paths.Paths, port int) Diagnosis {
	c, h, err := client.ProbeClient(ctx, p)
	if c == nil || err != nil || c.Addr() != netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port)) {
		return diagnoseProbed(ctx, p, port, DiagnoseOptions{Services: DefaultServices()}, c, h, err)
	}
	defer c.CloseIdle()
	d := Diagnosis{State: StateRunning, DataDir: p.DataDir, Port: port, Daemon: &h, Addr: c.Addr().String(),
		PortHolders: []proc.Listener{}, Problems: []Problem{}}
	d.Service, d.Supervisor = findService(ctx, c, DefaultServices(), h.PID)
	// The lock's holder and what a takeover would stop are part of the
	// status shape (`status --json` names them as `doctor --json` does);
	// with the daemon's PID known, the lock costs one record read and a
	// look at the daemon's open files (proc.HoldsFlock), not a probe.
	d.Lock = inspectLock(ctx, p, d.Daemon)
	d.Holder = Classify(d)
	return d
}

// startLosingToPort: the Cairn daemon holding the lock does not listen on
// the port, and something else does. That is a start losing to the port's
// holder (an MCP bridge or `cairn remember` starting a daemon while
// another program has the port: it holds the lock for the moment it takes
// to fail its bind), not a daemon that stopped answering. The conflict is
// the port's holder; calling it "not responding" made the tray flap to a
// start that was already gone, and a takeover of the confirmed program
// refuse it as a changed holder.
func startLosingToPort(d Diagnosis) bool {
	if len(d.PortHolders) == 0 {
		return false
	}
	for _, l := range d.PortHolders {
		if l.PID == d.Lock.Holder.PID {
			return false
		}
	}
	return true
}

func inspectDataDir(p paths.Paths) DataDirReport {
	var r DataDirReport
	if _, err := os.Stat(p.DataDir); err != nil {
		return r // a start creates it
	}
	r.Exists, r.Private = true, p.DataDirPrivate()
	var de *paths.DirError
	switch err := p.CheckDataDir(); {
	case errors.As(err, &de):
		r.Problem, r.Fix = de.Problem, de.Fix
	case err != nil:
		r.Problem, r.Fix = fmt.Sprintf("cannot be checked (%v)", err), "point CAIRN_HOME at a folder of your own"
	}
	return r
}

func inspectLock(ctx context.Context, p paths.Paths, daemon *api.Health) LockReport {
	r := LockReport{Path: p.Lock}
	if _, err := os.Stat(p.Lock); err != nil {
		return r
	}
	r.Exists = true
	pid, err := lock.ReadRecord(p.Lock)
	if err != nil {
		r.RecordError = err.Error()
	} else {
		r.PID = pid
		r.Holder, _ = proc.Lookup(ctx, pid)
	}
	if daemon != nil && daemon.PID == pid {
		r.Held = true // the healthy daemon holds it; no need to probe
		r.confirm(ctx, p)
		return r
	}
	held, err := lock.Probe(p.Lock)
	if err != nil {
		r.RecordError = fmt.Sprintf("cannot probe the lock: %v", err)
	}
	r.Held = held
	if !held {
		r.Holder = nil // a dead holder's PID may have been reused
	}
	r.confirm(ctx, p)
	return r
}

// confirm drops a held lock's Holder unless it is confirmed to hold the
// lock: anyone holding it can write any PID into the record, and a record
// naming a daemon of another data dir must not get that daemon stopped.
func (r *LockReport) confirm(ctx context.Context, p paths.Paths) {
	if !r.Held || r.Holder == nil {
		return
	}
	if err := confirmLockHolder(ctx, p, r.Holder); err != nil {
		r.Holder, r.Unconfirmed = nil, err.Error()
	}
}

func inspectDiscovery(p paths.Paths, liveAddr string) []DiscoveryReport {
	var out []DiscoveryReport
	for _, f := range p.AddrFiles() {
		r := DiscoveryReport{Path: f}
		addr, err := discovery.Read(f)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			r.Exists, r.Error, r.Stale = true, err.Error(), true
		default:
			r.Exists, r.Addr = true, addr.String()
			r.Stale = addr.String() != liveAddr
		}
		out = append(out, r)
	}
	return out
}

func inspectToken(p paths.Paths) TokenReport {
	r := TokenReport{Path: p.Token}
	if _, err := os.Stat(p.Token); err != nil {
		return r
	}
	r.Exists = true
	_, err := token.Read(p.Token)
	r.Valid = err == nil
	r.Private = token.Private(p.Token)
	return r
}

func problems(d Diagnosis) []Problem {
	ps := []Problem{}
	add := func(summary, fix string) { ps = append(ps, Problem{summary, fix}) }

	switch {
	case d.DataDirUse.Problem != "":
		add(fmt.Sprintf("the data dir %s %s (cairn start refuses it)", d.DataDir, d.DataDirUse.Problem), d.DataDirUse.Fix)
	case d.DataDirUse.Exists && !d.DataDirUse.Private:
		add(fmt.Sprintf("the data dir %s can be listed by other users (allowed, every file in it is owner-only, but it shows what is there)", d.DataDir),
			"chmod 700 "+paths.Quote(d.DataDir))
	}
	switch d.State {
	case StateNotResponding:
		fix := "cairn takeover   (or: cairn stop --force)"
		if d.Service != nil {
			fix = "cairn takeover   (or: " + d.Service.StopCommand() + ")"
		}
		add(fmt.Sprintf("%s holds the daemon lock but does not answer /health", d.Lock.Holder), fix)
	case StateConflict:
		if d.Lock.Held && (d.Lock.Holder == nil || !d.Lock.Holder.IsCairnDaemon()) {
			add(fmt.Sprintf("the daemon lock %s is held by %s, which is not a Cairn daemon", d.Lock.Path, d.Lock.Holder),
				fmt.Sprintf("stop %s, then run 'cairn start'", d.Lock.Holder))
		}
		if len(d.PortHolders) > 0 {
			fix := fmt.Sprintf("cairn start --port %d", d.Port+1)
			first := d.PortHolders[0]
			switch {
			case d.Holder.CanTakeOver():
				fix = fmt.Sprintf("cairn takeover   (or: kill %d; or another port: %s)", first.PID, fix)
			case first.Process != nil && first.Process.OwnedByMe():
				fix = fmt.Sprintf("kill %d   (or another port: %s)", first.PID, fix)
			}
			summary := fmt.Sprintf("port %d is already in use by %s", d.Port, proc.DescribeHolders(d.PortHolders))
			if d.Impostor != nil {
				summary += fmt.Sprintf(", which answers like Cairn at %s but is not your daemon (%s); the token was not sent to it", d.Impostor.Addr, d.Impostor.Reason)
			}
			add(summary, fix)
		}
	}
	if d.Lock.Exists && !d.Lock.Held && d.State != StateRunning {
		what := "a stale lock file (harmless: the next start reclaims it)"
		switch {
		case strings.Contains(d.Lock.RecordError, safefile.ErrNotRegular.Error()):
			// A FIFO or symlink there: every start refuses it (exit 5).
			what = "the daemon lock cannot be used: " + d.Lock.RecordError
		case d.Lock.PID > 0:
			what = fmt.Sprintf("a stale lock file left by PID %d, which no longer holds it (harmless: the next start reclaims it)", d.Lock.PID)
		}
		add(what, "rm -f "+paths.Quote(d.Lock.Path))
	}
	for _, f := range d.Discovery {
		if d.State == StateNotResponding {
			// The files name the daemon that holds the lock and hangs:
			// they are its own, and the takeover above clears them.
			break
		}
		if !f.Exists {
			if d.State != StateRunning {
				continue
			}
			// A restart makes it again, unless its folder cannot be
			// written (a read-only HOME): then that is the fix.
			if dir := unwritableFolder(f.Path); dir != "" {
				add(fmt.Sprintf("discovery file %s is missing: you cannot write in %s", f.Path, dir),
					fmt.Sprintf("make %s writable for you (clients find the daemon by the other file meanwhile), then cairn stop && cairn start", paths.Quote(dir)))
				continue
			}
			add(fmt.Sprintf("discovery file %s is missing", f.Path), "cairn stop && cairn start")
			continue
		}
		if f.Stale {
			why := "no daemon answers there"
			if f.Error != "" {
				why = f.Error
			} else if d.State == StateRunning {
				why = "the daemon runs at " + d.Addr
			}
			fix := "rm -f " + paths.Quote(f.Path)
			if d.State == StateRunning {
				fix = "cairn stop && cairn start"
			}
			add(fmt.Sprintf("discovery file %s is stale (%s)", f.Path, why), fix)
		}
	}
	switch {
	case d.Token.Exists && !d.Token.Private:
		add(fmt.Sprintf("control token %s can be read by other users", d.Token.Path),
			"cairn stop && cairn start   (the daemon replaces a token others could read)")
	case d.Token.Exists && !d.Token.Valid:
		add(fmt.Sprintf("control token %s is malformed", d.Token.Path),
			"cairn stop && cairn start   (the daemon writes a new one)")
	case !d.Token.Exists && d.State == StateRunning:
		add(fmt.Sprintf("control token %s is missing; clients cannot authenticate", d.Token.Path),
			"cairn stop --force && cairn start")
	}
	if d.Store != nil && !d.Store.OK {
		add("the memory store failed its integrity check: "+d.Store.Error, damagedStoreFix)
	}
	return ps
}
