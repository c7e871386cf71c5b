package soak

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Report gathers a run's figures: faults and their recovery times per
// kind, violations, gaps, writes, and the resources at start and end.
// Safe for concurrent use.
type Report struct {
	mu         sync.Mutex
	Seed       uint64
	faults     map[string][]time.Duration // kind → recovery times (one per fault)
	violations []string
	gaps       []string
	events     []string // the last events, for a failure's story
	Acked      int      // writes acknowledged
	Lost       int      // acknowledged writes missing at the end
	Resources  []Resource
	start      time.Time
	// Log, when set, gets every event as it happens (the report keeps
	// only the last 200).
	Log io.Writer
}

// Resource is one process's resource figure at the start (after warm-up)
// and the end.
type Resource struct {
	What       string // e.g. "tray fds"
	Start, End int64
}

// NewReport starts a report for a run with seed.
func NewReport(seed uint64) *Report {
	return &Report{Seed: seed, faults: map[string][]time.Duration{}, start: time.Now()}
}

// Event records something that happened, keeping the last 200.
func (r *Report) Event(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf("%8.1fs  ", time.Since(r.start).Seconds()) + fmt.Sprintf(format, args...)
	if r.Log != nil {
		fmt.Fprintln(r.Log, line)
	}
	r.events = append(r.events, line)
	if len(r.events) > 200 {
		r.events = r.events[len(r.events)-200:]
	}
}

// Fault records one injected fault and how long the tray and daemon took
// to reach the true state again.
func (r *Report) Fault(kind string, recovery time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults[kind] = append(r.faults[kind], recovery)
}

// Violation records a broken invariant.
func (r *Report) Violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Event("VIOLATION: %s", msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, msg)
}

// Gap records a stale tray the tray does not promise to fix
// (Promises.FollowsOutside).
func (r *Report) Gap(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Event("gap: %s", msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaps = append(r.gaps, msg)
}

// Violations are the invariants broken so far.
func (r *Report) Violations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.violations)
}

// Events are the last events.
func (r *Report) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Percentile is the p-th percentile (0–100) of ds by nearest rank; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Print writes the table.
func (r *Report) Print(w io.Writer, elapsed time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "soak: seed %d, %s\n\n", r.Seed, elapsed.Round(time.Second))
	fmt.Fprintf(w, "| fault | injected | recovery p50 | recovery p99 |\n| --- | ---: | ---: | ---: |\n")
	kinds := make([]string, 0, len(r.faults))
	total := 0
	for k := range r.faults {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		ds := r.faults[k]
		total += len(ds)
		fmt.Fprintf(w, "| %s | %d | %s | %s |\n", k, len(ds), round(Percentile(ds, 50)), round(Percentile(ds, 99)))
	}
	fmt.Fprintf(w, "| all | %d | | |\n\n", total)
	fmt.Fprintf(w, "| figure | value |\n| --- | ---: |\n")
	fmt.Fprintf(w, "| invariant violations | %d |\n", len(r.violations))
	fmt.Fprintf(w, "| tray gaps (only for a tray that does not follow; none with this one) | %d |\n", len(r.gaps))
	fmt.Fprintf(w, "| writes acknowledged | %d |\n", r.Acked)
	fmt.Fprintf(w, "| acknowledged writes lost | %d |\n\n", r.Lost)
	if len(r.Resources) > 0 {
		fmt.Fprintf(w, "| resource | start | end |\n| --- | ---: | ---: |\n")
		for _, res := range r.Resources {
			fmt.Fprintf(w, "| %s | %d | %d |\n", res.What, res.Start, res.End)
		}
		fmt.Fprintln(w)
	}
	if len(r.violations) > 0 {
		fmt.Fprintf(w, "VIOLATIONS:\n  %s\n", strings.Join(r.violations, "\n  "))
	}
	if len(r.gaps) > 0 {
		fmt.Fprintf(w, "gaps:\n  %s\n", strings.Join(firstN(r.gaps, 10), "\n  "))
	}
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), fmt.Sprintf("… and %d more", len(s)-n))
	}
	return s
}

func round(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
