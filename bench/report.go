package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report prints the markdown table the issue asks for, then the context a
// reader needs to trust it: run count, machine, spread, and the exit codes
// of refused second instances.
func report(w io.Writer, results map[string]map[string][]sample, progs [2]*program, n, warmup int) {
	cairn, floor := progs[0], progs[1]
	fmt.Fprintf(w, "Median of %d runs per cell (%d warm-up runs discarded), cairn and floor interleaved; %s/%s, %d CPUs, %s, %s.\n\n",
		n, warmup, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), time.Now().Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(w, "| measurement | cairn median | floor median | ratio cairn/floor | goal | status |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, m := range measurements {
		c, f := median(results[m.name][cairn.name]), median(results[m.name][floor.name])
		ratio := float64(c) / float64(f)
		status := "ok"
		if ratio > goalRatio {
			status = "MISSED"
		}
		fmt.Fprintf(w, "| %s | %.2f ms | %.2f ms | %.2f | ≤ %.1f | %s |\n", m.name, ms(c), ms(f), ratio, goalRatio, status)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Spread (min / p90 / max, ms):")
	fmt.Fprintln(w)
	for _, m := range measurements {
		for _, p := range progs {
			ss := results[m.name][p.name]
			fmt.Fprintf(w, "- %s, %s: %.2f / %.2f / %.2f\n", m.name, p.name, ms(quantile(ss, 0)), ms(quantile(ss, 0.9)), ms(quantile(ss, 1)))
		}
	}

	fmt.Fprintln(w)
	refusal := results["second-instance refusal"]
	var parts []string
	for _, p := range progs {
		parts = append(parts, fmt.Sprintf("%s %s (expected %d)", p.name, describeCodes(codeCounts(refusal[p.name])), p.refusalCode))
	}
	fmt.Fprintf(w, "Second-instance exit codes: %s.\n", strings.Join(parts, ", "))
	for _, p := range progs {
		if codes := codeCounts(refusal[p.name]); len(codes) != 1 || codes[p.refusalCode] != n {
			fmt.Fprintf(w, "WARNING: %s's second instance did not always exit %d; its refusal latency measures something else.\n", p.name, p.refusalCode)
		}
	}
}

// describeCodes renders {0: 25} as "0 ×25" and mixed results as "0 ×20, 4 ×5".
func describeCodes(m map[int]int) string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d ×%d", code, m[code]))
	}
	return strings.Join(parts, ", ")
}
