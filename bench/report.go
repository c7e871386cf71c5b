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
		if m.context {
			fmt.Fprintf(w, "| %s | %.2f ms | %.2f ms | %.2f | — (context) | — |\n", m.name, ms(c), ms(f), ratio)
			continue
		}
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

// reportTray prints the tray's table: its idle cost and how long a crash
// of its daemon takes to be served again, then the spread and the context.
func reportTray(w io.Writer, idle *idleResult, idleWindow time.Duration, crashes []sample, warmup int) {
	fmt.Fprintln(w)
	if len(crashes) == 0 {
		fmt.Fprintf(w, "The tray: not measured on %s (%v).\n", runtime.GOOS, errTrayUnsupported)
		return
	}
	fmt.Fprintf(w, "The tray: the real cairn-tray (no -race) supervising the real cairn, on a private dbus-daemon with a Go tray host that owns org.kde.StatusNotifierWatcher and, as a panel does, reads the item's properties (icon included) and whole menu at registration and after every change signal; no notification server. Crash runs: %d timed (%d warm-up discarded), a fresh tray each, so every restart waits the first backoff (%.0f ms).\n\n",
		len(crashes), warmup, ms(firstBackoff))
	fmt.Fprintln(w, "| measurement | result | goal | status |")
	fmt.Fprintln(w, "|---|---|---|---|")
	if idle != nil {
		cpu := idle.trayCPU
		rss := mib(medianInt(idle.trayRSS))
		fmt.Fprintf(w, "| tray idle CPU over %.0f s, daemon running | %.3f %% of one core | < %.1f %% | %s |\n", idle.window.Seconds(), cpu, goalIdleCPU, status(cpu < goalIdleCPU))
		fmt.Fprintf(w, "| tray idle RSS, median of %d samples | %.1f MiB | < %d MiB | %s |\n", len(idle.trayRSS), rss, goalIdleRSS, status(rss < goalIdleRSS))
	} else {
		fmt.Fprintf(w, "| tray idle CPU | skipped (-idle %v) | < %.1f %% | — |\n", idleWindow, goalIdleCPU)
		fmt.Fprintf(w, "| tray idle RSS | skipped (-idle %v) | < %d MiB | — |\n", idleWindow, goalIdleRSS)
	}
	med := median(crashes)
	excess := med - firstBackoff
	fmt.Fprintf(w, "| crash-to-serving-again (kill -9 → /health with the new PID), median | %.1f ms = %.0f ms backoff + %.1f ms | backoff + < %.0f ms | %s |\n",
		ms(med), ms(firstBackoff), ms(excess), ms(goalCrashExcess), status(excess < goalCrashExcess))

	fmt.Fprintln(w)
	fmt.Fprintf(w, "- crash-to-serving-again minus backoff, min / p90 / max: %.1f / %.1f / %.1f ms\n",
		ms(quantile(crashes, 0)-firstBackoff), ms(quantile(crashes, 0.9)-firstBackoff), ms(quantile(crashes, 1)-firstBackoff))
	if idle != nil {
		fmt.Fprintf(w, "- tray RSS over the idle window, min / max: %.1f / %.1f MiB\n", mib(float64(slices.Min(idle.trayRSS))), mib(float64(slices.Max(idle.trayRSS))))
		fmt.Fprintf(w, "- its daemon over the same window (context, no goal here): %.3f %% CPU, %.1f MiB RSS (median)\n", idle.dmnCPU, mib(medianInt(idle.dmnRSS)))
	}
}

func status(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}
