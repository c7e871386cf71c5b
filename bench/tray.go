package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

const (
	// firstBackoff is the tray supervisor's first restart delay, the
	// default of supervisor.Config.BackoffMin: crash-to-serving-again is
	// reported as this plus the excess, and the goal is on the excess.
	firstBackoff = 500 * time.Millisecond

	goalIdleCPU     = 0.5 // percent of one core
	goalIdleRSS     = 30  // MiB
	goalCrashExcess = 100 * time.Millisecond

	// idleSampleEvery is how often RSS is read during the idle window.
	idleSampleEvery = time.Second
	// crashPoll is the /health poll interval after a kill: coarser than
	// pollInterval because it runs through the whole backoff, when a
	// tighter loop would only compete for the CPU with the restart it
	// times; it adds at most 1 ms to a result reported against 100 ms.
	crashPoll = time.Millisecond
)

// errTrayUnsupported is runTray's answer where the tray measurements do
// not run: they read /proc and play a D-Bus tray host, which is Linux.
var errTrayUnsupported = errors.New("the tray measurements run on Linux only")

// idleResult is the tray's (and, for context, its daemon's) cost while
// nothing happens.
type idleResult struct {
	window          time.Duration
	trayCPU, dmnCPU float64 // percent of one core over the window
	trayRSS, dmnRSS []int   // KiB, one sample per idleSampleEvery
}

// buildTray builds cairn-tray like build does the others, unless given.
func buildTray(ctx context.Context, root, tmp, given string) (string, error) {
	if given != "" {
		return filepath.Abs(given)
	}
	bin := filepath.Join(tmp, "cairn-tray")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/cairn-tray")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/cairn-tray: %w", err)
	}
	return bin, nil
}

func medianInt(xs []int) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}

func mib(kib float64) float64 { return kib / 1024 }
