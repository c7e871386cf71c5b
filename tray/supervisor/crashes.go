package supervisor

import (
	"fmt"
	"strings"
	"time"
)

// crashBook is the crash bookkeeping, Syncthing-style: the last few crash
// times (a crash loop is limit of them within window) and how many came
// in a row since the daemon last ran stably (which sets the backoff).
type crashBook struct {
	limit       int
	window      time.Duration
	times       []time.Time // the last limit crash times
	consecutive int
}

// record notes a crash at now of a run that started at startedAt and
// returns how many crashes fall within the window.
func (b *crashBook) record(now, startedAt time.Time) int {
	if now.Sub(startedAt) >= b.window {
		b.consecutive = 0 // it ran stably before this crash
	}
	b.consecutive++
	b.times = append(b.times, now)
	if len(b.times) > b.limit {
		b.times = b.times[len(b.times)-b.limit:]
	}
	recent := 0
	for _, t := range b.times {
		if now.Sub(t) <= b.window {
			recent++
		}
	}
	return recent
}

// looping reports whether recent crashes are a crash loop.
func (b *crashBook) looping(recent int) bool { return recent >= b.limit }

// backoff is lo doubled for each consecutive crash, capped at hi.
func (b *crashBook) backoff(lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < b.consecutive && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func (b *crashBook) reset() { b.times, b.consecutive = nil, 0 }

// pendingRestart is the timer of a restart after a crash; its gen voids a
// timer that fired after it was cancelled.
type pendingRestart struct {
	stop func() bool
	gen  int
}

func (r *pendingRestart) cancel() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	r.gen++
}

// crashLines is what the tray shows of a crash: how the process ended,
// the line that says why when there is one (a Go panic's first line is
// far above the goroutine traces at the end), then, labelled as such, the
// last lines it printed before it ended, up to n lines in all. The
// daemon's own start-up banner ("Cairn … is serving at …") is never
// quoted: it says nothing about the end, and beside "ended" it reads as if
// the daemon still served.
func crashLines(pid int, how string, lines []string, n int) []string {
	lines = withoutBanner(lines)
	out := []string{fmt.Sprintf("The daemon (PID %d) ended: %s.", pid, how)}
	if len(lines) == 0 {
		out[0] = fmt.Sprintf("The daemon (PID %d) ended without a word (%s).", pid, how)
		return out
	}
	why := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			why = l
			out = append(out, l)
			break
		}
	}
	var last []string
	for _, l := range tail(lines, n-len(out)-1) {
		if l != why { // the panic line once, not again in the tail
			last = append(last, l)
		}
	}
	if len(last) > 0 {
		out = append(append(out, lastLinesLabel), last...)
	}
	return out
}

// lastLinesLabel introduces the lines a daemon printed before it ended.
const lastLinesLabel = "Its last lines before that:"

// lastWords is lines (an adopted daemon's last output) without its
// banner, under the label, or nothing.
func lastWords(lines []string) []string {
	lines = withoutBanner(lines)
	if len(lines) == 0 {
		return nil
	}
	return append([]string{lastLinesLabel}, lines...)
}

// withoutBanner drops blank lines and the daemon's "is serving at" line.
func withoutBanner(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || isBanner(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// isBanner reports whether l is the daemon's start-up line, "Cairn <version>
// is serving at <addr> (PID <pid>, data in <dir>).", tagged or not.
func isBanner(l string) bool {
	i := strings.Index(l, "Cairn ")
	return i >= 0 && strings.Contains(l[i:], " is serving at ")
}

func tail(lines []string, n int) []string {
	if n <= 0 {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
