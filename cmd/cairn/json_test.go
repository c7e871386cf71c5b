//go:build !windows

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// topKeys returns the keys of the JSON object out, in order; it fails the
// test unless out is exactly one JSON object.
func topKeys(t *testing.T, what, out string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not a JSON object: %v\n%s", what, err, out)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
	}
	if _, err := dec.Token(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if dec.More() {
		t.Fatalf("%s: more than one JSON value on stdout:\n%s", what, out)
	}
	return keys
}

// checkShape runs a --json command and checks the output against its
// golden keys (schema first, then exactly these, in this order), that
// nothing else went to stdout, and decodes it into v.
func checkShape(t *testing.T, env *proctest.Env, wantCode int, schema string, keys []string, v any, args ...string) string {
	t.Helper()
	code, out, errOut := cairn(t, env, args...)
	if code != wantCode {
		t.Fatalf("%q: exit %d, want %d\n%s%s", args, code, wantCode, out, errOut)
	}
	got := topKeys(t, strings.Join(args, " "), out)
	if want := append([]string{"schema"}, keys...); !slices.Equal(got, want) {
		t.Errorf("%q: keys\n  %q\nwant\n  %q", args, got, want)
	}
	var head struct{ Schema string }
	json.Unmarshal([]byte(out), &head)
	if head.Schema != schema {
		t.Errorf("%q: schema %q, want %q", args, head.Schema, schema)
	}
	if v != nil {
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields() // every key is a field of the documented type
		if err := dec.Decode(v); err != nil {
			t.Errorf("%q: %v\n%s", args, err, out)
		}
	}
	return errOut
}

var (
	statusKeys = []string{"state", "summary", "port", "daemon", "port_holders", "lock_holder", "takeover"}
	doctorKeys = append(slices.Clone(statusKeys), "data_dir", "data_dir_check", "lock", "discovery", "token", "impostor", "store", "login_item", "problems")
)

// withSchema is v's type with the schema field every output starts with,
// so that decoding with DisallowUnknownFields checks every other key.
type withSchema[T any] struct {
	Schema string `json:"schema"`
	Body   T      `json:"-"`
}

func (w *withSchema[T]) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	json.Unmarshal(m["schema"], &w.Schema)
	delete(m, "schema")
	rest, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	return dec.Decode(&w.Body)
}

// Every --json output of the daemon's lifecycle, in every state: one JSON
// object on stdout with its schema and its documented keys, whatever
// happened, and nothing on stderr.
func TestJSONShapes(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)

	var st withSchema[statusJSON]
	if errOut := checkShape(t, env, 3, schemaStatus, statusKeys, &st, "status", "--json"); errOut != "" {
		t.Errorf("status --json wrote to stderr: %q", errOut)
	}
	if st.Body.State != instance.StateStopped || st.Body.Daemon != nil || len(st.Body.PortHolders) != 0 || st.Body.Summary != "stopped; run 'cairn start'" {
		t.Errorf("status of a stopped daemon: %+v", st.Body)
	}
	var errJ withSchema[errorJSON]
	checkShape(t, env, 1, schemaError, []string{"error", "exit_code", "usage"}, &errJ, "port", "--json")
	if errJ.Body.ExitCode != 1 || errJ.Body.Usage || !strings.Contains(errJ.Body.Error, "run 'cairn start'") {
		t.Errorf("port --json without a daemon: %+v", errJ.Body)
	}
	checkShape(t, env, 2, schemaError, []string{"error", "exit_code", "usage"}, &errJ, "start", "--json", "--timeout", "5")
	if !errJ.Body.Usage || errJ.Body.ExitCode != 2 || !strings.Contains(errJ.Body.Error, "use a unit, e.g. 5s") {
		t.Errorf("start --json --timeout 5: %+v", errJ.Body)
	}
	// --json after the flag that fails to parse, which stops the parse.
	for _, args := range [][]string{
		{"start", "--timeout", "5", "--json"},
		{"recall", "deploy", "--limit", "abc", "--json"},
		{"remember", "hi", "--bogus", "--json"},
	} {
		errJ = withSchema[errorJSON]{}
		checkShape(t, env, 2, schemaError, []string{"error", "exit_code", "usage"}, &errJ, args...)
		if !errJ.Body.Usage || errJ.Body.ExitCode != 2 {
			t.Errorf("%q: %+v", args, errJ.Body)
		}
	}

	var start withSchema[instance.StartResult]
	checkShape(t, env, 0, schemaStart, []string{"pid", "addr", "already_running", "log"}, &start, "start", "--json")
	pid := start.Body.PID
	if pid == 0 || start.Body.AlreadyRunning || start.Body.Addr != fmt.Sprintf("127.0.0.1:%d", env.Port) {
		t.Errorf("start --json: %+v", start.Body)
	}

	// status and doctor say the same about the daemon and the port: the
	// daemon holds it.
	checkShape(t, env, 0, schemaStatus, statusKeys, &st, "status", "--json")
	var doc withSchema[doctorJSON]
	checkShape(t, env, 0, schemaDoctor, doctorKeys, &doc, "doctor", "--json")
	for name, s := range map[string]statusJSON{"status": st.Body, "doctor": doc.Body.statusJSON} {
		if s.State != instance.StateRunning || s.Daemon == nil || s.Daemon.PID != pid || s.Daemon.Supervisor != "cli" ||
			len(s.PortHolders) != 1 || s.PortHolders[0].PID != pid || !s.PortHolders[0].Daemon ||
			s.LockHolder == nil || s.LockHolder.PID != pid || s.Takeover.Kind != instance.HolderCairn {
			t.Errorf("%s --json of a running daemon: %+v", name, s)
		}
	}
	if doc.Body.LoginItem == nil || doc.Body.LoginItem.State != "off" || len(doc.Body.Problems) != 0 {
		t.Errorf("doctor --json: login item %+v, problems %+v", doc.Body.LoginItem, doc.Body.Problems)
	}

	var port withSchema[portJSON]
	checkShape(t, env, 0, schemaPort, []string{"addr", "port", "pid"}, &port, "port", "--json")
	if port.Body.PID != pid || port.Body.Port != env.Port {
		t.Errorf("port --json: %+v", port.Body)
	}
	var ver withSchema[versionJSON]
	checkShape(t, env, 0, schemaVersion, []string{"version", "go", "os", "arch"}, &ver, "version", "--json")

	// takeover --json without a terminal and without --yes: the refusal
	// is JSON on stdout too; with --yes, the result.
	if errOut := checkShape(t, env, 2, schemaError, []string{"error", "exit_code", "usage"}, &errJ, "takeover", "--json"); errOut != "" {
		t.Errorf("takeover --json wrote to stderr: %q", errOut)
	}
	if !strings.Contains(errJ.Body.Error, fmt.Sprintf("a Cairn daemon (PID %d) already serves at", pid)) || !strings.Contains(errJ.Body.Error, "pass --yes") {
		t.Errorf("takeover --json without --yes: %+v", errJ.Body)
	}
	var tk withSchema[takeoverResultJSON]
	checkShape(t, env, 0, schemaTakeover, []string{"holder", "did", "pid", "addr"}, &tk, "takeover", "--json", "--yes")
	if tk.Body.Holder.Kind != instance.HolderCairn || len(tk.Body.Holder.Stops) != 1 || tk.Body.Holder.Stops[0].PID != pid ||
		tk.Body.PID == pid || tk.Body.PID == 0 || !strings.Contains(tk.Body.Did, "Stopped the Cairn daemon") {
		t.Errorf("takeover --json: %+v", tk.Body)
	}

	var stop withSchema[stopJSON]
	checkShape(t, env, 0, schemaStop, []string{"was_running", "pid", "method", "service", "cleaned"}, &stop, "stop", "--json")
	if !stop.Body.WasRunning || stop.Body.PID != tk.Body.PID || stop.Body.Method != "api" {
		t.Errorf("stop --json: %+v", stop.Body)
	}
	checkShape(t, env, 0, schemaStop, []string{"was_running", "pid", "method", "service", "cleaned"}, &stop, "stop", "--json")
	if stop.Body.WasRunning {
		t.Errorf("second stop --json: %+v", stop.Body)
	}
}

// A foreign program on the port: status and doctor name it the same way,
// as a port holder that is not the daemon, and say what works.
func TestJSONShapesInAConflict(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	holder := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port))
	var st withSchema[statusJSON]
	checkShape(t, env, 3, schemaStatus, statusKeys, &st, "status", "--json")
	var doc withSchema[doctorJSON]
	checkShape(t, env, 1, schemaDoctor, doctorKeys, &doc, "doctor", "--json")
	for name, s := range map[string]statusJSON{"status": st.Body, "doctor": doc.Body.statusJSON} {
		if s.State != instance.StateConflict || s.Daemon != nil || len(s.PortHolders) == 0 ||
			s.PortHolders[0].PID != holder.PID() || s.PortHolders[0].Daemon || s.PortHolders[0].Process == nil ||
			!s.Takeover.Offered || s.Takeover.Kind != instance.HolderForeign {
			t.Errorf("%s --json in a conflict: %+v", name, s)
		}
		if !strings.Contains(s.Summary, "run 'cairn takeover' to stop it and start Cairn, or 'cairn start --port") {
			t.Errorf("%s --json summary does not say what works: %q", name, s.Summary)
		}
	}
	code, _, errOut := cairn(t, env, "port")
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("port %d is in use by", env.Port)) || !strings.Contains(errOut, "'cairn takeover'") ||
		!strings.Contains(errOut, "'cairn start --port ") {
		t.Errorf("port in a conflict: exit %d, %q", code, errOut)
	}
}

// The memory commands' --json is the API's answer with the schema first.
func TestMemoryJSONShapes(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	var put withSchema[api.PutResult]
	checkShape(t, env, 0, schemaRemember, []string{"id", "status", "created_at"}, &put, "remember", "--json", "-t", "build", "the build needs Go 1.26")
	if put.Body.ID == "" || put.Body.Status != "created" {
		t.Errorf("remember --json: %+v", put.Body)
	}
	var page withSchema[api.Page]
	checkShape(t, env, 0, schemaMemories, []string{"memories", "truncated"}, &page, "recall", "--json", "build")
	if len(page.Body.Memories) != 1 || page.Body.Memories[0].ID != put.Body.ID {
		t.Errorf("recall --json: %+v", page.Body)
	}
	var m withSchema[api.Memory]
	checkShape(t, env, 0, schemaMemory, []string{"id", "text", "tags", "source", "created_at", "updated_at"}, &m, "get", "--json", put.Body.ID)
	if m.Body.Text != "the build needs Go 1.26" {
		t.Errorf("get --json: %+v", m.Body)
	}
	var tags withSchema[api.Tags]
	checkShape(t, env, 0, schemaTags, []string{"tags"}, &tags, "tags", "--json")
	if len(tags.Body.Tags) != 1 || tags.Body.Tags[0].Tag != "build" || tags.Body.Tags[0].Count != 1 {
		t.Errorf("tags --json: %+v", tags.Body)
	}
	var errJ withSchema[errorJSON]
	checkShape(t, env, 1, schemaError, []string{"error", "exit_code", "usage"}, &errJ, "get", "--json", "01JE5000000000000000000000")
	if errJ.Body.Usage || errJ.Body.Error == "" {
		t.Errorf("get --json of a missing id: %+v", errJ.Body)
	}
}

// The service and login-item shapes, under the fake systemd.
func TestServiceAndLoginItemJSONShapes(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	withFakeSystemd(t, env)
	var inst withSchema[serviceInstallJSON]
	checkShape(t, env, 0, schemaServiceInstall, []string{"installed", "started"}, &inst, "service", "install", "--json")
	if !inst.Body.Installed.Changed || inst.Body.Started == nil || inst.Body.Started.PID == 0 {
		t.Errorf("service install --json: %+v", inst.Body)
	}
	var st withSchema[serviceStatusJSON]
	checkShape(t, env, 0, schemaServiceStatus, []string{"service", "running", "daemon"}, &st, "service", "status", "--json")
	if !st.Body.Running || !st.Body.Service.Running || st.Body.Daemon.Daemon == nil || st.Body.Daemon.Daemon.PID != inst.Body.Started.PID ||
		st.Body.Daemon.Daemon.Supervisor != "systemd" {
		t.Errorf("service status --json: %+v", st.Body)
	}
	var un withSchema[serviceUninstallJSON]
	checkShape(t, env, 0, schemaServiceUninstall, []string{"removed"}, &un, "service", "uninstall", "--json")
	if !un.Body.Removed {
		t.Errorf("service uninstall --json: %+v", un.Body)
	}
	var li withSchema[loginItemJSON]
	checkShape(t, env, 0, schemaLoginItem, []string{"state", "login_item", "tray_bin", "fix"}, &li, "login-item", "status", "--json")
	if li.Body.State != "off" || li.Body.LoginItem.Enabled || li.Body.TrayBin == "" {
		t.Errorf("login-item status --json: %+v", li.Body)
	}
}
