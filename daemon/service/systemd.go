package service

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
)

// UnitName is the systemd user unit `cairn service install` writes.
const UnitName = "cairn.service"

// Restart policy of the unit, as the exit-code contract of `cairn serve
// --foreground` dictates (package exitcode):
//
//   - 0 is a clean stop, or "a healthy Cairn daemon already serves": success,
//     never restarted (Restart=on-failure), so a duplicate cannot loop.
//   - 3 (the port is held by another program) and 5 (the data dir is
//     unusable) cannot be fixed by trying again: RestartPreventExitStatus.
//   - 1 is restarted: it covers transient failures.
//   - 2 is restarted although it also means bad usage: Go's runtime exits 2
//     on a panic, and a crash must come back.
//   - 4 (the lock is held) is restarted: it is also what the loser of a
//     start race with another Cairn daemon that is not ready yet sees, and
//     the retry then finds that daemon healthy and exits 0.
//   - A kill by SIGKILL (OOM, a takeover that did not use systemctl) is
//     restarted; SIGTERM and SIGINT end the daemon with 0.
//
// The start limit (5 starts in 2 minutes) ends a crash loop in about 10 s.
const (
	restartSec          = 2
	startLimitInterval  = 120
	startLimitBurst     = 5
	restartPreventCodes = "3 5"
	stopTimeoutSec      = 15 // the daemon drains for at most 5 s
)

// SystemdUnit returns the text of the user unit that runs c. Paths are
// quoted and escaped by systemd's rules (specifiers: %% for %; variables in
// arguments: $$ for $). systemd refuses an executable path holding a quote
// or a backslash, so such a path is run through /usr/bin/env.
func SystemdUnit(c Config) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	var exec []string
	if strings.ContainsAny(c.Exe, `"'\`) {
		exec = append(exec, "/usr/bin/env", systemdArg(c.Exe))
	} else {
		exec = append(exec, systemdExe(c.Exe))
	}
	for _, a := range c.Args() {
		exec = append(exec, systemdArg(a))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# The Cairn daemon as a systemd user service. Written by
# "cairn service install", which rewrites it: change settings with
# "systemctl --user edit cairn" (a drop-in) instead of editing this file.
[Unit]
Description=Cairn local memory daemon
# A crash loop gives up after %[1]d starts in %[2]d s; "systemctl --user reset-failed cairn" clears it.
StartLimitIntervalSec=%[2]d
StartLimitBurst=%[1]d

[Service]
Type=exec
ExecStart=%[3]s
Environment=%[4]s
Environment=CAIRN_SUPERVISOR=systemd
# Exit codes of "cairn serve --foreground": 0 is success (a clean stop, or
# another healthy Cairn daemon already serves) and is never restarted;
# 3 (port taken by another program) and 5 (data dir unusable) cannot be
# fixed by a restart; 1, 2 (also a Go panic) and 4 (lock held, e.g. by a
# daemon still starting) are retried.
Restart=on-failure
RestartSec=%[5]d
RestartPreventExitStatus=%[6]s
TimeoutStopSec=%[7]d

[Install]
WantedBy=default.target
`, startLimitBurst, startLimitInterval, strings.Join(exec, " "),
		systemdQuote("CAIRN_HOME="+c.DataDir, false), restartSec, restartPreventCodes, stopTimeoutSec)
	return b.String(), nil
}

// systemdExe quotes the executable path: specifiers are expanded there,
// variables are not.
func systemdExe(s string) string { return systemdQuote(s, false) }

// systemdArg quotes an argument, where $ must be doubled as well.
func systemdArg(s string) string { return systemdQuote(s, true) }

func systemdQuote(s string, dollars bool) string {
	plain := s != ""
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			plain = false
		case r == '%':
			b.WriteByte('%')
		case r == '$' && dollars:
			b.WriteByte('$')
		case r == ' ' || r == '\'' || r == ';' || r > unicode.MaxASCII:
			plain = false
		}
		b.WriteRune(r)
	}
	if plain {
		return b.String()
	}
	return `"` + b.String() + `"`
}

// splitSystemd splits a command line or Environment= value the way systemd
// does (quotes, C escapes), without expanding specifiers or variables.
func splitSystemd(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			case 'r':
				cur.WriteByte('\r')
			case 's':
				cur.WriteByte(' ')
			case 'x':
				if i+2 < len(s) {
					if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
						cur.WriteByte(byte(v))
						i += 2
						break
					}
				}
				cur.WriteByte(e)
			default:
				cur.WriteByte(e)
			}
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, inWord = c, true
		case quote == 0 && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unbalanced quotes in %s", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// systemdUnitInfo is what Status reads back from a unit file.
type systemdUnitInfo struct {
	Command []string
	DataDir string
}

// parseSystemdUnit reads ExecStart= and CAIRN_HOME from a unit file, undoing
// the quoting SystemdUnit applies.
func parseSystemdUnit(text string) (systemdUnitInfo, error) {
	var info systemdUnitInfo
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch strings.TrimSpace(k) {
		case "ExecStart":
			words, err := splitSystemd(strings.TrimSpace(v))
			if err != nil {
				return info, err
			}
			for i, w := range words {
				w = strings.ReplaceAll(w, "%%", "%")
				if i > 0 {
					w = strings.ReplaceAll(w, "$$", "$")
				}
				words[i] = w
			}
			if len(words) > 1 && words[0] == "/usr/bin/env" {
				words = words[1:]
			}
			info.Command = words
		case "Environment":
			words, err := splitSystemd(strings.TrimSpace(v))
			if err != nil {
				return info, err
			}
			for _, w := range words {
				if d, ok := strings.CutPrefix(w, "CAIRN_HOME="); ok {
					info.DataDir = strings.ReplaceAll(d, "%%", "%")
				}
			}
		}
	}
	if len(info.Command) == 0 {
		return info, errors.New("no ExecStart= line")
	}
	return info, nil
}

// SystemdUser manages the daemon as a systemd user unit.
type SystemdUser struct {
	Dir    string // the user unit folder: $XDG_CONFIG_HOME/systemd/user
	Run    Runner
	Cgroup func(pid int) (string, error) // the process's /proc/<pid>/cgroup
	// Linger is systemd's per-user linger flag file; without it the user's
	// services stop at logout. Empty skips the check.
	Linger string
	// Session describes this process's way to the user manager, for the
	// message when systemctl --user cannot reach it.
	Session SessionInfo
}

// SessionInfo is what decides whether `systemctl --user` can reach a user
// manager: systemd must be PID 1, XDG_RUNTIME_DIR must name the user's
// runtime folder, and the user manager must run (a login session, or
// linger).
type SessionInfo struct {
	Booted     bool   // systemd is the init system (/run/systemd/system exists)
	RuntimeDir string // $XDG_RUNTIME_DIR
	User       string
	UID        int
}

// NoSessionError means `systemctl --user` found no user manager to talk to.
// Missing says what is missing, Fix how to get it.
type NoSessionError struct {
	Missing string
	Fix     string
	Said    string // what systemctl printed
}

func (e *NoSessionError) Error() string {
	return fmt.Sprintf("there is no systemd user session to run it in: %s (systemctl said: %s). %s", e.Missing, e.Said, e.Fix)
}

// noSession turns a failed systemctl --user call that could not reach the
// user manager into a *NoSessionError; other errors are returned as they are.
func (s *SystemdUser) noSession(err error) error {
	var ce *CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Stderr, "Failed to connect to") || !strings.Contains(ce.Stderr, "bus") {
		return err
	}
	e := &NoSessionError{Said: strings.TrimSpace(ce.Stderr)}
	who, uid := s.Session.User, s.Session.UID
	if who == "" {
		who = "$USER"
	}
	linger := fmt.Sprintf("'loginctl enable-linger %s' (as root: 'sudo loginctl enable-linger %s') starts your user manager at boot", who, who)
	switch {
	case !s.Session.Booted:
		e.Missing = "this system was not booted with systemd, so no user manager runs (a container, or another init system)"
		e.Fix = "Run the daemon with 'cairn start', at login with the tray ('cairn login-item on'), or run 'cairn serve --foreground' under your init system."
	case s.Session.RuntimeDir == "":
		e.Missing = "XDG_RUNTIME_DIR is not set in this shell, so systemctl cannot find your user manager (common after su or sudo, and in cron)"
		e.Fix = fmt.Sprintf("Log in as %s directly (a desktop, SSH, or 'machinectl shell %s@'); or, if your user manager runs, set XDG_RUNTIME_DIR=/run/user/%d and try again. Without a login session, %s.", who, who, uid, linger)
	default:
		e.Missing = fmt.Sprintf("the systemd user manager of %s is not running (nothing listens at %s)", who, filepath.Join(s.Session.RuntimeDir, "bus"))
		e.Fix = fmt.Sprintf("Log in through a session (a desktop or SSH) and try again, or %s.", linger)
	}
	return e
}

// wantsLink is where `systemctl enable` puts the link that starts the unit
// with the user's session (WantedBy=default.target).
func (s *SystemdUser) wantsLink() string {
	return filepath.Join(s.Dir, "default.target.wants", UnitName)
}

// NewSystemdUser resolves the unit folder from the environment now.
func NewSystemdUser() (*SystemdUser, error) {
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(cfg) {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return nil, errors.New("cannot find the systemd user unit folder: neither XDG_CONFIG_HOME nor HOME is set")
		}
		cfg = filepath.Join(home, ".config")
	}
	s := &SystemdUser{Dir: filepath.Join(cfg, "systemd", "user"), Run: ExecRunner{}, Cgroup: procCgroup}
	s.Session.RuntimeDir, s.Session.UID = os.Getenv("XDG_RUNTIME_DIR"), os.Getuid()
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		s.Session.Booted = true // sd_booted(3)
	}
	if u, err := user.Current(); err == nil {
		s.Linger = filepath.Join("/var/lib/systemd/linger", u.Username)
		s.Session.User = u.Username
	}
	return s, nil
}

func procCgroup(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return string(b), err
}

// Name is "systemd".
func (s *SystemdUser) Name() string { return Systemd }

func (s *SystemdUser) file() string { return filepath.Join(s.Dir, UnitName) }

func (s *SystemdUser) systemctl(ctx context.Context, args ...string) ([]byte, error) {
	out, err := s.Run.Run(ctx, "systemctl", append([]string{"--user"}, args...)...)
	return out, s.noSession(err)
}

// Install writes the unit, reloads systemd when it changed, enables it for
// login and restarts it when it runs on an older definition. When systemd
// cannot take the new unit (no user session), the file is put back as it
// was: no half-installed unit is left for a later login to find.
func (s *SystemdUser) Install(ctx context.Context, c Config) (Installed, error) {
	res := Installed{File: s.file()}
	text, err := SystemdUnit(c)
	if err != nil {
		return res, err
	}
	old, err := os.ReadFile(s.file())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, fmt.Errorf("read %s: %w", s.file(), err)
	}
	if string(old) != text {
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return res, fmt.Errorf("create %s: %w", s.Dir, err)
		}
		if err := atomicfile.Write(s.file(), []byte(text), 0o644); err != nil {
			return res, fmt.Errorf("write %s: %w", s.file(), err)
		}
		res.Changed = true
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return s.undoInstall(ctx, old, res, err)
		}
	}
	if _, err := s.systemctl(ctx, "enable", UnitName); err != nil {
		if res.Changed {
			return s.undoInstall(ctx, old, res, err)
		}
		return res, err
	}
	if res.Changed && old != nil {
		st, _ := s.show(ctx)
		if st["ActiveState"] == "active" || st["ActiveState"] == "activating" {
			if _, err := s.systemctl(ctx, "restart", UnitName); err != nil {
				return res, err
			}
			res.Restarted = true
		}
	}
	return res, nil
}

// undoInstall puts back the unit file as it was before Install wrote it
// (old, or none) after systemd refused to take it.
func (s *SystemdUser) undoInstall(ctx context.Context, old []byte, res Installed, cause error) (Installed, error) {
	var err error
	if old == nil {
		err = os.Remove(s.file())
	} else {
		err = atomicfile.Write(s.file(), old, 0o644)
	}
	if err != nil {
		return res, fmt.Errorf("%w; and %s could not be put back as it was: %v", cause, s.file(), err)
	}
	res.Changed = false
	s.Run.Run(ctx, "systemctl", "--user", "daemon-reload") // best effort: systemd may have read the new file
	var ns *NoSessionError
	if errors.As(cause, &ns) {
		return res, cause
	}
	return res, fmt.Errorf("%w; nothing was installed", cause)
}

// Uninstall stops and disables the unit, then removes it.
func (s *SystemdUser) Uninstall(ctx context.Context) (bool, error) {
	if _, err := os.Stat(s.file()); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	_, stopErr := s.systemctl(ctx, "disable", "--now", UnitName)
	var ns *NoSessionError
	if errors.As(stopErr, &ns) {
		// No user manager, so none runs the unit: what `disable` would
		// remove is the link, which is a file like the unit.
		stopErr = nil
		if err := os.Remove(s.wantsLink()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("remove %s: %w", s.wantsLink(), err)
		}
	}
	if err := os.Remove(s.file()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, fmt.Errorf("remove %s: %w", s.file(), err)
	}
	if stopErr != nil {
		return true, fmt.Errorf("removed %s, but could not stop and disable it: %w; if a daemon still runs, stop it with: cairn stop", s.file(), stopErr)
	}
	s.systemctl(ctx, "daemon-reload")
	s.systemctl(ctx, "reset-failed", UnitName) // forget a failed state; fails harmlessly when there is none
	return true, nil
}

func (s *SystemdUser) installed() error {
	if _, err := os.Stat(s.file()); err != nil {
		return ErrNotInstalled
	}
	return nil
}

// Start starts the unit (systemctl returns once the process runs, not once
// it serves).
func (s *SystemdUser) Start(ctx context.Context) error { return s.action(ctx, "start") }

// Stop stops the unit: SIGTERM, the daemon drains, SIGKILL after TimeoutStopSec.
func (s *SystemdUser) Stop(ctx context.Context) error { return s.action(ctx, "stop") }

// Restart restarts the unit, clearing a start-limit failure first.
func (s *SystemdUser) Restart(ctx context.Context) error { return s.action(ctx, "restart") }

func (s *SystemdUser) action(ctx context.Context, verb string) error {
	if err := s.installed(); err != nil {
		return err
	}
	if verb != "stop" {
		s.systemctl(ctx, "reset-failed", UnitName) // a unit that hit its start limit refuses to start
	}
	_, err := s.systemctl(ctx, verb, UnitName)
	return err
}

var showProps = []string{"LoadState", "ActiveState", "SubState", "MainPID", "UnitFileState", "ExecMainStatus", "Result"}

func (s *SystemdUser) show(ctx context.Context) (map[string]string, error) {
	out, err := s.systemctl(ctx, "show", UnitName, "--property="+strings.Join(showProps, ","))
	if err != nil {
		return nil, err
	}
	return parseProperties(out), nil
}

func parseProperties(out []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

// Status reads the unit file back and asks systemd about the unit. When
// systemd cannot be reached the file part is still returned, with a note.
func (s *SystemdUser) Status(ctx context.Context) (Status, error) {
	st := Status{Manager: Systemd, Unit: UnitName, File: s.file()}
	text, err := os.ReadFile(s.file())
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read %s: %w", s.file(), err)
	}
	st.Installed = true
	info, err := parseSystemdUnit(string(text))
	if err != nil {
		return st, fmt.Errorf("read %s: %w", s.file(), err)
	}
	st.Command, st.DataDir = info.Command, info.DataDir
	st.Exe, st.Port = readConfig(info.Command)
	if s.Linger != "" {
		if _, err := os.Stat(s.Linger); err != nil {
			st.Notes = append(st.Notes, "systemd stops your user services when you log out; to keep Cairn running without a session, run 'loginctl enable-linger'")
		}
	}
	props, err := s.show(ctx)
	if err != nil {
		// Nobody to ask: say so, and read what the files say.
		st.State = "unknown"
		if _, lerr := os.Lstat(s.wantsLink()); lerr == nil {
			st.AtLogin = true
		}
		st.Notes = append(st.Notes, err.Error())
		return st, nil
	}
	st.State = props["ActiveState"]
	if sub := props["SubState"]; sub != "" && sub != st.State {
		st.State += " (" + sub + ")"
	}
	st.AtLogin = props["UnitFileState"] == "enabled"
	st.PID, _ = strconv.Atoi(props["MainPID"])
	st.Running = props["ActiveState"] == "active" && st.PID > 0
	if code, _ := strconv.Atoi(props["ExecMainStatus"]); code != 0 && props["Result"] != "success" {
		st.LastExit = code
	}
	return st, nil
}

// userServiceRe finds the user manager in a cgroup path.
var userServiceRe = regexp.MustCompile(`^user@\d+\.service$`)

// unitFromCgroup names the service unit a cgroup path (from /proc/<pid>/cgroup,
// unified or the v1 name=systemd hierarchy) belongs to, and whether it is a
// system unit. Scopes (terminals, sessions, apps) are no service: "".
func unitFromCgroup(cgroup string) (unit string, system bool) {
	var path string
	for _, line := range strings.Split(cgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" && parts[2] != "/" {
			path = parts[2]
			break
		}
		if parts[1] == "name=systemd" {
			path = parts[2]
		}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	user := -1
	for i, seg := range segs {
		if userServiceRe.MatchString(seg) {
			user = i
		}
	}
	for i := len(segs) - 1; i > user; i-- {
		if strings.HasSuffix(segs[i], ".service") {
			return segs[i], user < 0
		}
		if strings.HasSuffix(segs[i], ".scope") {
			return "", false // a process of a scope (a terminal's) is in no service
		}
	}
	return "", false
}

// ServiceOf finds the unit whose main process is pid: the cgroup names the
// unit, and systemd confirms its MainPID. A process that only lives inside
// a unit (a shell in a terminal's service) is not its main process, and
// systemd would not respawn it, so it is reported as no service.
func (s *SystemdUser) ServiceOf(ctx context.Context, pid int) (*Unit, error) {
	cg, err := s.Cgroup(pid)
	if err != nil {
		// No cgroup to read: only our own unit can be checked.
		if s.installed() != nil {
			return nil, nil
		}
		return s.confirm(ctx, pid, UnitName, false)
	}
	unit, system := unitFromCgroup(cg)
	if unit == "" {
		return nil, nil
	}
	return s.confirm(ctx, pid, unit, system)
}

func (s *SystemdUser) confirm(ctx context.Context, pid int, unit string, system bool) (*Unit, error) {
	args := []string{"show", unit, "--property=MainPID", "--value"}
	var out []byte
	var err error
	if system {
		out, err = s.Run.Run(ctx, "systemctl", args...)
	} else {
		out, err = s.systemctl(ctx, args...)
	}
	if err != nil {
		return nil, err
	}
	if main, _ := strconv.Atoi(strings.TrimSpace(string(out))); main != pid {
		return nil, nil
	}
	return &Unit{Manager: Systemd, Name: unit, System: system, Ours: !system && unit == UnitName}, nil
}

// StopUnit runs `systemctl --user stop`. A system unit needs root: it is
// refused with the command to run.
func (s *SystemdUser) StopUnit(ctx context.Context, u Unit) error {
	if u.Manager != Systemd || u.Name == "" {
		return fmt.Errorf("cannot stop %s through systemd", u)
	}
	if u.System {
		return fmt.Errorf("%s is a system service; stop it as root: %s", u, u.StopCommand())
	}
	_, err := s.systemctl(ctx, "stop", u.Name)
	return err
}
