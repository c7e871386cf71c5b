//go:build !windows

package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// Every failure is one sentence on stderr; the pointer to --help follows
// usage errors only, and names the command that was wrong.
func TestMessagesReadAsSentences(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	withFakeSystemd(t, env)
	for _, tc := range []struct {
		args []string
		code int
		msg  string // the whole first line, after "cairn: "
		help string // the command in "Run '<help> --help' for usage.", or "" for none
	}{
		{[]string{"bogus"}, 2, `cairn has no command "bogus"`, "cairn"},
		{[]string{"stauts"}, 2, `cairn has no command "stauts"; did you mean 'cairn start' or 'cairn status'?`, "cairn"},
		{[]string{"service", "stat"}, 2, `cairn service has no command "stat"; did you mean 'cairn service status', 'cairn service start' or 'cairn service stop'?`, "cairn service"},
		{[]string{"status", "extra"}, 2, `cairn status takes no arguments, got ["extra"]`, "cairn status"},
		{[]string{"status", "--bogus"}, 2, "cairn status has no flag --bogus", "cairn status"},
		{[]string{"status", "--port"}, 2, "--port needs a value", "cairn status"},
		{[]string{"status", "--port", "x"}, 2, `--port "x" is not a whole number`, "cairn status"},
		{[]string{"status", "--port", "99999"}, 2, "--port 99999 is out of range; use 1-65535", "cairn status"},
		{[]string{"status", "--json=maybe"}, 2, "--json=maybe: a switch is on with --json and off with --json=false", "cairn status"},
		{[]string{"start", "--timeout", "5"}, 2, "--timeout 5 has no unit; use a unit, e.g. 5s (or ms, m, h)", "cairn start"},
		{[]string{"stop", "--timeout=1.5"}, 2, "--timeout 1.5 has no unit; use a unit, e.g. 1.5s (or ms, m, h)", "cairn stop"},
		{[]string{"takeover", "--grace", "soon"}, 2, `--grace "soon" is not a duration; use a number with a unit, e.g. 5s, 500ms or 2m`, "cairn takeover"},
		{[]string{"service", "install", "--timeout", "30"}, 2, "--timeout 30 has no unit; use a unit, e.g. 30s (or ms, m, h)", "cairn service install"},
		{[]string{"login-item"}, 2, "cairn login-item needs one word: on, off or status", "cairn login-item"},
		{[]string{"login-item", "maybe"}, 2, `cairn login-item takes on, off or status, not "maybe"`, "cairn login-item"},
		{[]string{"login-item", "on", "off"}, 2, "cairn login-item takes one word (on, off or status), not 2: on off", "cairn login-item"},
		{[]string{"service", "frobnicate"}, 2, `cairn service has no command "frobnicate"`, "cairn service"},
		{[]string{"get"}, 2, "cairn get takes one memory id ('cairn recall' shows them)", "cairn get"},
		{[]string{"forget"}, 2, "cairn forget takes the ids of the memories to delete ('cairn recall' shows them)", "cairn forget"},
		{[]string{"get", ""}, 2, "cairn get takes one memory id ('cairn recall' shows them); the one given is empty", "cairn get"},
		{[]string{"open", "extra"}, 2, `cairn open takes no arguments, got ["extra"]`, "cairn open"},
		{[]string{"remember"}, 2, "standard input is empty, and a memory needs text; give it as arguments or on standard input", "cairn remember"},
		{[]string{"export", "a", "b"}, 2, "cairn export takes at most one file name", "cairn export"},
		{[]string{"remember", "-x is a flag"}, 2, "cairn remember has no flag -x; words that start with '-' are read as flags, so put -- before them: cairn remember -- '-x is a flag'", "cairn remember"},
		{[]string{"remember", "-----BEGIN notes"}, 2, "bad flag syntax: -----BEGIN notes; words that start with '-' are read as flags, so put -- before them: cairn remember -- '-x is a flag'", "cairn remember"},
		{[]string{"recall", "--c++"}, 2, "cairn recall has no flag --c++; words that start with '-' are read as flags, so put -- before them: cairn recall -- '-x is a flag'", "cairn recall"},
		// Not usage errors: no pointer to --help.
		{[]string{"import", "/no/such/file"}, 1, "cannot read /no/such/file: no such file or directory", ""},
		{[]string{"import", "/"}, 1, "cannot read /: it is a folder; give the file 'cairn export' wrote", ""},
		{[]string{"export", "/no/such/folder/memories.jsonl"}, 1, "cannot write /no/such/folder/memories.jsonl: the folder /no/such/folder does not exist", ""},
		{[]string{"port"}, 1, "no Cairn daemon answers: stopped; run 'cairn start'", ""},
		{[]string{"service", "start"}, 1, "the Cairn service is not installed; run 'cairn service install'", ""},
		{[]string{"stop", "--timeout", "1s"}, 0, "", ""},
	} {
		code, out, errOut := cairn(t, env, tc.args...)
		want := ""
		if tc.msg != "" {
			want = "cairn: " + tc.msg + "\n"
		}
		if tc.help != "" {
			want += fmt.Sprintf("Run '%s --help' for usage.\n", tc.help)
		}
		if code != tc.code || errOut != want {
			t.Errorf("%q: exit %d, stderr\n  %q\nwant exit %d,\n  %q\n%s", tc.args, code, errOut, tc.code, want, out)
		}
	}
}

// takeover without a terminal names what it would stop in a sentence, and
// how to confirm.
func TestTakeoverWithoutATerminalSaysWhatItWouldStop(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	holder := holdPort(t, env, fmt.Sprintf("127.0.0.1:%d", env.Port))
	code, _, errOut := cairn(t, env, "takeover")
	want := fmt.Sprintf("cairn: port %d is in use by holdport (PID %d); takeover stops it only when confirmed, and there is no terminal to ask: pass --yes to confirm\n"+
		"Run 'cairn takeover --help' for usage.\n", env.Port, holder.PID())
	if code != 2 || errOut != want {
		t.Errorf("takeover of a foreign holder without a terminal: exit %d\n  %q\nwant\n  %q", code, errOut, want)
	}
	holder.Signal(t, syscall.SIGKILL)
	holder.Wait(t, 10*time.Second)

	p := serveReady(t, env)
	code, _, errOut = cairn(t, env, "takeover")
	want = fmt.Sprintf("cairn: a Cairn daemon (PID %d) already serves at 127.0.0.1:%d; takeover stops it only when confirmed", p.PID(), env.Port)
	if code != 2 || !strings.HasPrefix(errOut, want) {
		t.Errorf("takeover of a Cairn daemon without a terminal: exit %d\n  %q\nwant\n  %q…", code, errOut, want)
	}
}

// A daemon that holds the lock but hangs: status names it and what works,
// and doctor gives the one fix that works, not "rm" of the files the hung
// daemon still owns.
func TestDoctorOfAHungDaemon(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := serveReady(t, env)
	proctest.Freeze(t, p.PID())
	code, out, _ := cairn(t, env, "status")
	want := fmt.Sprintf("not responding: the Cairn daemon cairn (PID %d) holds the lock but does not answer; run 'cairn takeover' to replace it with a new daemon ('cairn doctor' says more)\n", p.PID())
	if code != 3 || out != want {
		t.Errorf("status: exit %d\n  %q\nwant\n  %q", code, out, want)
	}
	var d doctorJSON
	code, out, _ = cairn(t, env, "doctor", "--json")
	if err := jsonUnmarshal(out, &d); err != nil || code != 1 || d.State != "not_responding" || len(d.Problems) != 1 ||
		!strings.HasPrefix(d.Problems[0].Fix, "cairn takeover") {
		t.Errorf("doctor --json: exit %d, %v, problems %+v", code, err, d.Problems)
	}
}

// The daemon's complaints about bad input name the flag the user typed,
// as a mistake on the command line (exit 2, the usage line), and ids are
// quoted alike whoever says they are missing (exit 1).
func TestMemoryMessagesNameTheFlag(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	stopDetached(t, env)
	serveReady(t, env)
	for _, tc := range []struct {
		args []string
		msg  string
		code int
	}{
		{[]string{"remember", "-t", "Bad Tag", "hello"}, `--tag "Bad Tag" is not a valid tag`, 2},
		{[]string{"remember", "--expires-in", "5", "hello"}, `--expires-in "5" is not a duration; use a unit`, 2},
		{[]string{"recall", "-t", "Bad Tag", "hello"}, `--tag "Bad Tag" is not a valid tag`, 2},
		{[]string{"get", "nope"}, `no memory with id "nope"`, 1},
		{[]string{"forget", "nope"}, `no memory with id "nope"`, 1},
	} {
		code, _, errOut := cairn(t, env, tc.args...)
		usageLine := strings.Contains(errOut, "Run 'cairn "+tc.args[0]+" --help' for usage.")
		if code != tc.code || !strings.HasPrefix(errOut, "cairn: "+tc.msg) || usageLine != (tc.code == 2) {
			t.Errorf("%q: exit %d, %q; want %q, exit %d", tc.args, code, errOut, tc.msg, tc.code)
		}
	}
	code, out, _ := cairn(t, env, "remember", "--json", "-t", "Bad Tag", "hello")
	var e struct {
		ExitCode int  `json:"exit_code"`
		Usage    bool `json:"usage"`
	}
	if err := jsonUnmarshal(out, &e); err != nil || code != 2 || e.ExitCode != 2 || !e.Usage {
		t.Errorf("remember --json with a bad tag: exit %d, %q (%v); want exit 2 and \"usage\": true", code, out, err)
	}
}

// A data dir that 'cairn start' refuses: status says so, with the fix,
// instead of suggesting the start that would fail.
func TestStatusOfAnUnusableDataDir(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	if err := env.Paths().EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(env.CairnHome, 0o777); err != nil {
		t.Fatal(err)
	}
	code, out, _ := cairn(t, env, "status")
	if code != 3 || !strings.HasPrefix(out, "stopped; 'cairn start' refuses the data dir "+env.CairnHome+", which can be written by group or others") ||
		!strings.HasSuffix(out, "; to fix it: chmod 700 "+env.CairnHome+"\n") {
		t.Errorf("status: exit %d, %q", code, out)
	}
}
