// Package proc is process identity and signalling: who a PID is (name, user,
// command line, start time), who listens on a port, and the one rule for
// which processes Cairn may signal. The daemon and the management engine
// (package instance) both use it; it knows nothing of either.
package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

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

// Lookup describes the live process pid. A zombie counts as dead.
func Lookup(ctx context.Context, pid int) (*Process, error) {
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
	// Another user names their process and writes its arguments: escape
	// what a terminal or notification would act on (escape sequences that
	// retitle the window, move the cursor over the fix a message gives,
	// or write the clipboard; bidi overrides) before anything prints them.
	name, _ := pr.NameWithContext(ctx)
	p.Name = Printable(name)
	user, _ := pr.UsernameWithContext(ctx)
	p.User = Printable(user)
	if uids, err := pr.UidsWithContext(ctx); err == nil && len(uids) > 0 {
		p.UID = int(uids[0])
	}
	args, _ := pr.CmdlineSliceWithContext(ctx)
	for _, a := range args {
		p.Cmdline = append(p.Cmdline, Printable(a))
	}
	p.CreateTime, _ = pr.CreateTimeWithContext(ctx)
	return p, nil
}

// Printable is s with every byte that is not valid UTF-8 and every rune
// that is neither graphic nor a space (control characters, escape
// sequences' ESC, format characters such as bidi overrides) written as a
// Go escape (\x1b, \u202e), so it shows as what it is and does nothing.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r < 0x80 && !unicode.IsGraphic(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case !unicode.IsGraphic(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
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

// Same reports whether p still names the process it named when it was
// looked up: same PID and same start time.
func Same(ctx context.Context, p *Process) bool {
	now, err := Lookup(ctx, p.PID)
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
	// The kernel's table says at once whether anything listens at all; the
	// walk over every process is paid only when something does.
	if socks, ok := ListeningSockets(uint16(port)); ok && len(socks) == 0 {
		return nil, nil
	}
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
			l.Process, _ = Lookup(ctx, l.PID)
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

// Environ reads the environment of pid, where the OS lets this user.
func Environ(ctx context.Context, pid int) ([]string, error) {
	pr, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return nil, ErrNoProcess
	}
	return pr.EnvironWithContext(ctx)
}

// MaySignal is the one rule for which processes Cairn signals: never PID 1,
// this process or its parent, never another user's; and with cairnOnly,
// nothing but a `cairn serve` daemon. It says why not in a sentence.
func MaySignal(p *Process, cairnOnly bool) error {
	switch {
	case p == nil:
		return errors.New("refusing to signal a process that cannot be identified")
	case p.PID <= 1 || p.PID == os.Getpid() || p.PID == os.Getppid():
		return fmt.Errorf("refusing to signal %s: Cairn never stops PID 1, itself or its parent", p)
	case cairnOnly && !p.IsCairnDaemon():
		return fmt.Errorf("%s is not a Cairn daemon; not stopping it (run 'cairn doctor')", p)
	case !p.OwnedByMe():
		return fmt.Errorf("%s belongs to user %q; Cairn only stops your own processes", p, p.User)
	}
	return nil
}
