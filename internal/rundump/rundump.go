// Package rundump writes what a long-running process is doing, its
// goroutines and memory figures, to a file when asked (SIGUSR1 on Unix):
// a user can attach it to a bug report, and the soak counts goroutines
// from outside, without a debug port that another local user could reach.
// The file goes in the private log dir, written whole (atomicfile).
package rundump

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
)

// Write writes the dump of this process, named name, to w: a header of
// figures, then the goroutine profile grouped by stack.
func Write(w io.Writer, name string) error {
	// After a collection, so heap_live_bytes is what is still reachable:
	// a leak shows there, a burst of garbage does not.
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(w, "%s runtime dump, %s\n", name, time.Now().Format(time.RFC3339))
	fmt.Fprintf(w, "goroutines: %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "heap_live_bytes: %d\nheap_inuse_bytes: %d\nheap_idle_bytes: %d\nheap_released_bytes: %d\n",
		m.HeapAlloc, m.HeapInuse, m.HeapIdle, m.HeapReleased)
	fmt.Fprintf(w, "stack_inuse_bytes: %d\nsys_bytes: %d\nnum_gc: %d\n\n", m.StackInuse, m.Sys, m.NumGC)
	return pprof.Lookup("goroutine").WriteTo(w, 1)
}

// ToFile writes the dump to path, replacing it whole.
func ToFile(path, name string) error {
	var b bytes.Buffer
	if err := Write(&b, name); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes(), 0o600)
}

// OnSignal writes the dump to path each time the process is sent the dump
// signal (SIGUSR1; none on Windows, where it does nothing), until ctx ends.
func OnSignal(ctx context.Context, path, name string, log *slog.Logger) {
	onSignal(ctx, func() {
		if err := ToFile(path, name); err != nil {
			log.Warn("cannot write the runtime dump", "path", path, "err", err)
			return
		}
		log.Info("wrote a runtime dump", "path", path)
	})
}

var figureLine = regexp.MustCompile(`(?m)^([a-z_]+): (\d+)$`)

// Figures reads the figures of a dump's header ("goroutines",
// "heap_inuse_bytes", …).
func Figures(dump []byte) map[string]int64 {
	head, _, _ := bytes.Cut(dump, []byte("\n\n"))
	fs := map[string]int64{}
	for _, m := range figureLine.FindAllSubmatch(head, -1) {
		if n, err := strconv.ParseInt(string(m[2]), 10, 64); err == nil {
			fs[string(m[1])] = n
		}
	}
	return fs
}
