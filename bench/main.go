// Command bench is `make bench`: it compares cairn's lifecycle latencies
// with those of a floor program (bench/floor) that does only what the
// contract needs on the happy path — bind 127.0.0.1:<port>, write the
// discovery file atomically, answer /health, stop on SIGTERM — and prints
// medians and the ratio cairn/floor as a markdown table. The goal is every
// ratio ≤ 1.5; a miss is reported, not turned into a failure, so the number
// is always seen. It exits non-zero only when the harness itself fails.
//
// A second table reports the tray: cairn-tray's idle CPU and RSS over 60 s
// with its daemon running, and crash-to-serving-again, the time from kill -9
// of the tray's daemon until a new one answers, against the goal of the
// first restart backoff plus 100 ms. -idle 0 skips the idle minute for a
// quick run.
//
// A third table (store.go) reports the memory store on a generated corpus
// of -store-n memories: durable writes/s, recall latency, bytes per memory,
// the daemon's RSS and WAL under write load, start-to-ready with the corpus;
// each through the daemon's API beside the same operation in process.
// -store=false skips it.
//
// Run it from the repository root: go run ./bench [-n 25] [-idle 60s] [-store-n 100000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const (
	modulePath = "github.com/cairnlabs/cairn"
	minRuns    = 20
	goalRatio  = 1.5
)

func main() {
	n := flag.Int("n", 25, fmt.Sprintf("timed runs per program and measurement (at least %d)", minRuns))
	warmup := flag.Int("warmup", 2, "untimed runs first, so page cache and CPU frequency settle")
	cairnBin := flag.String("cairn-bin", "", "benchmark this cairn binary instead of building ./cmd/cairn")
	floorBin := flag.String("floor-bin", "", "use this floor binary instead of building ./bench/floor")
	trayBin := flag.String("tray-bin", "", "benchmark this cairn-tray binary instead of building ./cmd/cairn-tray")
	idle := flag.Duration("idle", 60*time.Second, "how long to watch the idle tray (0 skips it, for a quick run)")
	withStore := flag.Bool("store", true, "measure the memory store (false skips it)")
	storeN := flag.Int("store-n", 100_000, "memories in the store's corpus")
	flag.Parse()
	if *n < minRuns || *warmup < 0 || *idle < 0 || *storeN < 1 {
		fmt.Fprintf(os.Stderr, "bench: -n must be at least %d, -warmup and -idle not negative, -store-n positive\n", minRuns)
		os.Exit(2)
	}
	// Ctrl-C ends the loops through ctx so the deferred cleanup still kills
	// children and removes the temp dirs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	storeCorpus := 0 // none: skip the store section
	if *withStore {
		storeCorpus = *storeN
	}
	if err := run(ctx, *n, *warmup, *cairnBin, *floorBin, *trayBin, *idle, storeCorpus); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, n, warmup int, cairnBin, floorBin, trayBin string, idleWindow time.Duration, storeN int) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cairn-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	progs, err := build(ctx, root, tmp, cairnBin, floorBin)
	if err != nil {
		return err
	}
	loadStart := loadAvg()
	results := map[string]map[string][]sample{}
	for _, m := range measurements {
		fmt.Fprintf(os.Stderr, "%-24s ", m.name)
		res, err := runMeasurement(ctx, m, progs, tmp, n, warmup)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		results[m.name] = res
	}
	var st *storeResult
	if storeN > 0 {
		if st, err = runStore(ctx, tmp, progs, storeN, n, warmup); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	idle, crashes, err := runTray(ctx, root, tmp, trayBin, progs[0].bin, idleWindow, n, warmup)
	if err != nil && !errors.Is(err, errTrayUnsupported) {
		return err
	}
	fmt.Fprintf(os.Stdout, "Machine load (1-minute average, /proc/loadavg) at the start %s, at the end %s, on %d CPUs.\n\n", loadStart, loadAvg(), runtime.NumCPU())
	report(os.Stdout, results, progs, n, warmup)
	reportTray(os.Stdout, idle, idleWindow, crashes, warmup)
	if st != nil {
		reportStore(os.Stdout, st, n)
	}
	return nil
}

// runMeasurement alternates the two programs, and swaps which goes first
// every iteration, so a burst of machine noise or a drift in CPU frequency
// lands on both alike instead of on whichever ran in that stretch.
func runMeasurement(ctx context.Context, m measurement, progs [2]*program, tmp string, n, warmup int) (map[string][]sample, error) {
	res := map[string][]sample{}
	for i := -warmup; i < n; i++ {
		order := progs
		if i%2 != 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, p := range order {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s, err := m.run(ctx, p, tmp)
			if err != nil {
				return nil, err
			}
			if i >= 0 {
				res[p.name] = append(res[p.name], s)
			}
		}
		fmt.Fprint(os.Stderr, ".")
	}
	return res, nil
}

// repoRoot walks up from the working directory to this module's go.mod, so
// `go run ./bench` works from the root and `go run .` from bench/.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for %s above the working directory; run from the repository", modulePath)
		}
		dir = parent
	}
}

// build compiles both programs the same way, into tmp, so they differ only
// in what they do. A binary given on the command line is used as is, to
// compare a release build or an experiment without touching the tree.
func build(ctx context.Context, root, tmp, cairnBin, floorBin string) ([2]*program, error) {
	cairn := &program{
		name: "cairn", refusalCode: 0, query: func(port int) []string { return []string{"status", "--port", fmt.Sprint(port)} },
		version: []string{"version"},
		args:    func(port int) []string { return []string{"serve", "--foreground", "--port", fmt.Sprint(port)} },
	}
	floor := &program{
		name: "floor", refusalCode: 3, query: func(int) []string { return []string{"-get"} },
		version: []string{"-version"},
		args:    func(port int) []string { return []string{"--port", fmt.Sprint(port)} },
	}
	for _, b := range []struct {
		prog       *program
		given, pkg string
	}{{cairn, cairnBin, "./cmd/cairn"}, {floor, floorBin, "./bench/floor"}} {
		if b.given != "" {
			abs, err := filepath.Abs(b.given)
			if err != nil {
				return [2]*program{}, err
			}
			b.prog.bin = abs
			continue
		}
		b.prog.bin = filepath.Join(tmp, b.prog.name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.prog.bin, b.pkg)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return [2]*program{}, fmt.Errorf("go build %s: %w", b.pkg, err)
		}
	}
	return [2]*program{cairn, floor}, nil
}
