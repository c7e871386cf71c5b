// Package instance answers "who holds the daemon's lock and port?" and acts
// on the answer: diagnosis for `cairn doctor` and `cairn status`, starting a
// detached daemon for `cairn start`, stopping one for `cairn stop`. It is
// GUI-free so the tray uses the same engine.
package instance

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// ErrNoProcess means no live process has the PID.
var ErrNoProcess = errors.New("no such process")

// Process identifies a live process. PID plus CreateTime is its identity:
// a PID alone may have been reused by the time anyone acts on it.
type Process struct {
	PID        int      `json:"pid"`
	Name       string   `json:"name"`
	User       string   `json:"user,omitempty"`
	UID        int      `json:"uid"` // -1 when unknown
	Cmdline    []string `json:"cmdline,omitempty"`
	CreateTime int64    `json:"create_time_ms"` // Unix ms; 0 when unknown
}

// String names the process the way messages do: "python3 (PID 4242)".
func (p *Process) String() string {
	if p == nil {
		return "an unknown process"
	}
	if p.Name == "" {
		return fmt.Sprintf("PID %d", p.PID)
	}
	return fmt.Sprintf("%s (PID %d)", p.Name, p.PID)
}

// LookupProcess describes the live process pid. A zombie counts as dead.
func LookupProcess(ctx context.Context, pid int) (*Process, error) {
	if pid <= 0 {
		return nil, ErrNoProcess
	}
	pr, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return nil, ErrNoProcess
	}
	if st, err := pr.StatusWithContext(ctx); err == nil && len(st) > 0 && st[0] == process.Zombie {
		return nil, ErrNoProcess
	}
	p := &Process{PID: pid, UID: -1}
	p.Name, _ = pr.NameWithContext(ctx)
	p.User, _ = pr.UsernameWithContext(ctx)
	if uids, err := pr.UidsWithContext(ctx); err == nil && len(uids) > 0 {
		p.UID = int(uids[0])
	}
	p.Cmdline, _ = pr.CmdlineSliceWithContext(ctx)
	p.CreateTime, _ = pr.CreateTimeWithContext(ctx)
	return p, nil
}

// Alive reports whether pid names a live (not zombie) process.
func Alive(ctx context.Context, pid int) bool {
	if pid <= 0 {
		return false
	}
	pr, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return false
	}
	if st, err := pr.StatusWithContext(ctx); err == nil && len(st) > 0 && st[0] == process.Zombie {
		return false
	}
	return true
}

// SameProcess reports whether p still names the process it named when it
// was looked up: same PID and same start time.
func SameProcess(ctx context.Context, p *Process) bool {
	now, err := LookupProcess(ctx, p.PID)
	if err != nil {
		return false
	}
	return p.CreateTime == 0 || now.CreateTime == p.CreateTime
}

// IsCairnDaemon reports whether the process runs `cairn serve`: its
// executable is named cairn and its arguments hold "serve".
func (p *Process) IsCairnDaemon() bool {
	if p == nil || len(p.Cmdline) == 0 {
		return false
	}
	exe := strings.TrimSuffix(filepath.Base(p.Cmdline[0]), ".exe")
	if exe != "cairn" && !strings.EqualFold(strings.TrimSuffix(p.Name, ".exe"), "cairn") {
		return false
	}
	for _, a := range p.Cmdline[1:] {
		if a == "serve" {
			return true
		}
	}
	return false
}

// Listener is a process listening on a TCP port.
type Listener struct {
	Addr    string   `json:"addr"`
	PID     int      `json:"pid"`
	Process *Process `json:"process,omitempty"` // nil when the PID cannot be read (another user's)
}

// Listeners lists the TCP listeners on port across IPv4 and IPv6, with the
// process behind each where the OS lets us see it. This walks the whole
// socket table (about 10 ms), so it runs after a collision, never before.
func Listeners(ctx context.Context, port int) ([]Listener, error) {
	conns, err := net.ConnectionsWithContext(ctx, "tcp")
	if err != nil {
		return nil, fmt.Errorf("list listening sockets: %w", err)
	}
	var out []Listener
	for _, c := range conns {
		if c.Status != "LISTEN" || int(c.Laddr.Port) != port {
			continue
		}
		l := Listener{Addr: joinHostPort(c.Laddr.IP, port), PID: int(c.Pid)}
		if l.PID > 0 {
			l.Process, _ = LookupProcess(ctx, l.PID)
		}
		out = append(out, l)
	}
	return out, nil
}

func joinHostPort(ip string, port int) string {
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

// DescribeHolders names the processes in ls for a one-line message:
// "python3 (PID 4242)", or "an unknown process" when none can be named.
func DescribeHolders(ls []Listener) string {
	seen := map[int]bool{}
	var names []string
	for _, l := range ls {
		if l.PID <= 0 || seen[l.PID] {
			continue
		}
		seen[l.PID] = true
		if l.Process != nil {
			names = append(names, l.Process.String())
		} else {
			names = append(names, fmt.Sprintf("PID %d", l.PID))
		}
	}
	if len(names) == 0 {
		return "a process this user cannot see"
	}
	return strings.Join(names, ", ")
}

// OtherListeners returns the listeners in ls that belong to another
// process than pid.
func OtherListeners(ls []Listener, pid int) []Listener {
	var out []Listener
	for _, l := range ls {
		if l.PID != pid {
			out = append(out, l)
		}
	}
	return out
}

// processEnviron reads the environment of pid, where the OS lets this user.
func processEnviron(ctx context.Context, pid int) ([]string, error) {
	pr, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return nil, ErrNoProcess
	}
	return pr.EnvironWithContext(ctx)
}
