package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/service"
)

// Schemas of the --json outputs, one per shape, documented in
// docs/cli-json.md. Every object starts with "schema". Within a version,
// fields are only ever added; one that is removed or changes meaning gets a
// new version.
const (
	schemaStatus           = "cairn.status/v1"
	schemaDoctor           = "cairn.doctor/v1"
	schemaStart            = "cairn.start/v1"
	schemaStop             = "cairn.stop/v1"
	schemaPort             = "cairn.port/v1"
	schemaTakeover         = "cairn.takeover/v1"
	schemaVersion          = "cairn.version/v1"
	schemaUpdateCheck      = "cairn.update-check/v1"
	schemaLoginItem        = "cairn.login-item/v1"
	schemaServiceInstall   = "cairn.service-install/v1"
	schemaServiceUninstall = "cairn.service-uninstall/v1"
	schemaServiceStatus    = "cairn.service-status/v1"
	schemaRemember         = "cairn.remember/v1"
	schemaMemories         = "cairn.memories/v1"
	schemaMemory           = "cairn.memory/v1"
	schemaTags             = "cairn.tags/v1"
	schemaError            = "cairn.error/v1"
)

// printJSON writes v, which must encode as a JSON object, indented, with
// "schema" as its first field.
func printJSON(w io.Writer, schema string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("internal error: %s output is not a JSON object", schema)
	}
	head, _ := json.Marshal(schema)
	var obj bytes.Buffer
	obj.WriteString(`{"schema":`)
	obj.Write(head)
	if len(body) > 2 {
		obj.WriteByte(',')
	}
	obj.Write(body[1:])
	var out bytes.Buffer
	if err := json.Indent(&out, obj.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// errorJSON is what a command run with --json prints on standard output
// when it fails, instead of the plain message on standard error.
type errorJSON struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
	Usage    bool   `json:"usage"` // the command line was wrong (exit 2)
}

// statusJSON is the shape `cairn status --json` prints and `cairn doctor
// --json` starts with: the daemon and who holds the port, the same way in
// both.
type statusJSON struct {
	State   string      `json:"state"`   // running, stopped, conflict, not_responding
	Summary string      `json:"summary"` // the line `cairn status` prints
	Port    int         `json:"port"`    // the port asked about
	Daemon  *daemonJSON `json:"daemon"`  // null when no Cairn daemon of this data dir answers
	// PortHolders are the listeners on Port: this data dir's daemon
	// ("daemon": true) when it serves there, else whoever is in the way.
	PortHolders []portHolderJSON `json:"port_holders"`
	// LockHolder is the process that holds daemon.lock, when known.
	LockHolder *proc.Process `json:"lock_holder"`
	Takeover   takeoverJSON  `json:"takeover"`
}

// daemonJSON is the healthy daemon, as its /health and /v1/status say.
type daemonJSON struct {
	PID        int           `json:"pid"`
	Addr       string        `json:"addr"`
	Version    string        `json:"version"`
	UptimeS    float64       `json:"uptime_s"`
	Supervisor string        `json:"supervisor"` // tray, cli, systemd, launchd, terminal, unknown; "" when it cannot be asked
	Service    *service.Unit `json:"service"`    // the service manager's unit that runs it, or null
}

// stopJSON is `cairn stop --json`.
type stopJSON struct {
	WasRunning bool          `json:"was_running"`
	PID        int           `json:"pid"`     // 0 when none ran
	Method     string        `json:"method"`  // api, signal, kill, service; "" when none ran
	Service    *service.Unit `json:"service"` // the unit it was stopped through (method service), or null
	Cleaned    bool          `json:"cleaned"` // stale lock or discovery files were removed
}

func stopOf(r instance.StopResult) stopJSON {
	return stopJSON{WasRunning: r.WasRunning, PID: r.PID, Method: r.Method, Service: r.Service, Cleaned: r.Cleaned}
}

// portHolderJSON is one listener on the port.
type portHolderJSON struct {
	Addr    string        `json:"addr"`
	PID     int           `json:"pid"`
	Process *proc.Process `json:"process"` // null when this user cannot see it
	Daemon  bool          `json:"daemon"`  // it is this data dir's healthy daemon
}

// takeoverJSON is what `cairn takeover` would do.
type takeoverJSON struct {
	Kind    string          `json:"kind"`    // none, stale, cairn, cairn_wedged, cairn_service, foreign, untouchable
	Offered bool            `json:"offered"` // cairn takeover may stop it
	Reason  string          `json:"reason"`
	Stops   []*proc.Process `json:"stops"` // what a takeover would stop
}

func takeoverOf(h instance.Holder) takeoverJSON {
	t := takeoverJSON{Kind: h.Kind, Offered: h.CanTakeOver(), Reason: h.Reason, Stops: []*proc.Process{}}
	if t.Offered {
		t.Stops = append(t.Stops, h.Processes...)
	}
	return t
}

func statusOf(d instance.Diagnosis) statusJSON {
	s := statusJSON{State: d.State, Summary: statusLine(d), Port: d.Port, PortHolders: portHolders(d), LockHolder: d.Lock.Holder,
		Takeover: takeoverOf(d.Holder)}
	if d.Daemon != nil {
		s.Daemon = &daemonJSON{PID: d.Daemon.PID, Addr: d.Addr, Version: d.Daemon.Version, UptimeS: d.Daemon.Uptime,
			Supervisor: d.Supervisor, Service: d.Service}
	}
	return s
}

// portHolders is who listens on the port: the diagnosis lists the
// listeners only when its daemon does not serve there (a scan costs
// time), so the daemon itself is added when it does.
func portHolders(d instance.Diagnosis) []portHolderJSON {
	out := []portHolderJSON{}
	if d.Daemon != nil && d.Addr == fmt.Sprintf("127.0.0.1:%d", d.Port) && len(d.PortHolders) == 0 {
		p := d.Lock.Holder
		if p == nil || p.PID != d.Daemon.PID {
			p = &proc.Process{PID: d.Daemon.PID, Name: "cairn", UID: -1}
		}
		return append(out, portHolderJSON{Addr: d.Addr, PID: d.Daemon.PID, Process: p, Daemon: true})
	}
	for _, l := range d.PortHolders {
		out = append(out, portHolderJSON{Addr: l.Addr, PID: l.PID, Process: l.Process, Daemon: d.Daemon != nil && l.PID == d.Daemon.PID})
	}
	return out
}

// doctorJSON is `cairn doctor --json`: the status shape, then every check.
type doctorJSON struct {
	statusJSON
	DataDir      string                     `json:"data_dir"`
	DataDirCheck instance.DataDirReport     `json:"data_dir_check"`
	Lock         instance.LockReport        `json:"lock"`
	Discovery    []instance.DiscoveryReport `json:"discovery"`
	Token        instance.TokenReport       `json:"token"`
	Impostor     *instance.ImpostorReport   `json:"impostor"`
	Store        any                        `json:"store"` // null unless the daemon ran the store's checks
	// LoginItem is the tray's start-at-login entry, null when this
	// desktop cannot be asked.
	LoginItem *loginItemJSON     `json:"login_item"`
	Problems  []instance.Problem `json:"problems"`
}

func doctorOf(d instance.Diagnosis) doctorJSON {
	j := doctorJSON{statusJSON: statusOf(d), DataDir: d.DataDir, DataDirCheck: d.DataDirUse, Lock: d.Lock,
		Discovery: d.Discovery, Token: d.Token, Impostor: d.Impostor, Problems: d.Problems}
	if d.Store != nil {
		j.Store = d.Store
	}
	if j.Discovery == nil {
		j.Discovery = []instance.DiscoveryReport{}
	}
	return j
}
