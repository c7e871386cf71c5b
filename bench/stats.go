package main

import (
	"slices"
	"time"
)

func durations(ss []sample) []time.Duration {
	ds := make([]time.Duration, len(ss))
	for i, s := range ss {
		ds[i] = s.d
	}
	slices.Sort(ds)
	return ds
}

// median of an even count is the mean of the two middle values.
func median(ss []sample) time.Duration {
	ds := durations(ss)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// quantile by nearest rank; used only for the spread line.
func quantile(ss []sample, q float64) time.Duration {
	ds := durations(ss)
	i := int(q*float64(len(ds)-1) + 0.5)
	return ds[i]
}

// codeCounts tallies the reported exit codes, skipping "none" (-1).
func codeCounts(ss []sample) map[int]int {
	m := map[int]int{}
	for _, s := range ss {
		if s.code >= 0 {
			m[s.code]++
		}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
