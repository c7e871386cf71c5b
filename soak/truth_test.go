package soak

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	if !TrayPromises.FollowsOutside {
		t.Error("this tree's tray follows the data dir and the event stream: TrayPromises.FollowsOutside must be true")
	}
	// First a tray that only looks when clicked: a stale Stopped is a gap.
	p := TrayPromises
	p.FollowsOutside = false
	running := "Running · 127.0.0.1:7070 · PID 42 · up less than a minute"
	counted := "Running · 1,204 memories · 127.0.0.1:7070 · PID 42 · up 5 min"
	cases := []struct {
		w    World
		line string
		want Verdict
	}{
		{World{Port: 7070, Serving: 42}, running, Right},
		{World{Port: 7070, Serving: 42}, counted, Right},
		{World{Port: 7070, Serving: 43}, running, Wrong},
		{World{Port: 7071, Serving: 42}, running, Wrong},
		{World{Port: 7070, Serving: 42}, "Starting…", Wrong},
		{World{Port: 7070, Serving: 42}, "Stopped", Gap},
		{World{Port: 7070, Serving: 42}, "Crashed 5 times — gave up", Gap},
		{World{Port: 7070, Serving: 42}, "Not responding", Wrong},
		{World{Port: 7070, Frozen: 42}, "Not responding", Right},
		{World{Port: 7070, Frozen: 42}, "Not responding · PID 42", Right},
		{World{Port: 7070, Frozen: 42}, "Not responding · PID 43", Wrong},
		{World{Port: 7070, Frozen: 42}, running, Right},
		{World{Port: 7070, Frozen: 42}, "Stopped", Wrong},
		{World{Port: 7070, Foreign: true}, "Port 7070 in use by holdport (PID 9)", Right},
		{World{Port: 7070, Foreign: true}, "Port 7071 in use by holdport (PID 9)", Wrong},
		{World{Port: 7070, Foreign: true}, "Stopped", Gap},
		{World{Port: 7070, Foreign: true}, running, Wrong},
		{World{Port: 7070}, "Stopped", Right},
		{World{Port: 7070}, "Crashed 5 times — gave up", Right},
		{World{Port: 7070}, running, Wrong},
		{World{Port: 7070}, "Restarting after a crash (2)…", Wrong},
	}
	for _, c := range cases {
		if got := p.Judge(c.w, c.line); got != c.want {
			t.Errorf("Judge(%v, %q) = %d, want %d", c.w, c.line, got, c.want)
		}
	}
	// A tray that follows the outside world has no gaps: stale is wrong.
	p.FollowsOutside = true
	if got := p.Judge(World{Port: 7070, Serving: 42}, "Stopped"); got != Wrong {
		t.Errorf("with FollowsOutside, a stale Stopped is %d, want Wrong", got)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := Percentile(ds, 50); p != 50*time.Millisecond {
		t.Errorf("p50 = %v", p)
	}
	if p := Percentile(ds, 99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v", p)
	}
	if p := Percentile(ds[:1], 99); p != time.Millisecond {
		t.Errorf("p99 of one = %v", p)
	}
	if p := Percentile(nil, 50); p != 0 {
		t.Errorf("p50 of none = %v", p)
	}
}

func TestReportTable(t *testing.T) {
	r := NewReport(7)
	r.Fault("kill9", 2*time.Second)
	r.Fault("kill9", 4*time.Second)
	r.Violation("two daemons listening: %d and %d", 1, 2)
	r.Acked = 10
	r.Resources = []Resource{{What: "tray fds", Start: 12, End: 12}}
	var b bytes.Buffer
	r.Print(&b, time.Minute)
	out := b.String()
	for _, want := range []string{"seed 7", "| kill9 | 2 | 2s | 4s |", "| invariant violations | 1 |", "| writes acknowledged | 10 |", "| tray fds | 12 | 12 |", "two daemons listening: 1 and 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if ev := r.Events(); len(ev) != 1 || !strings.Contains(ev[0], "VIOLATION") {
		t.Errorf("events %q", ev)
	}
}
