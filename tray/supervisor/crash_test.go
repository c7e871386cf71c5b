package supervisor

import (
	"slices"
	"testing"
)

func TestCrashLines(t *testing.T) {
	trace := []string{"Cairn 1.0 is serving at 127.0.0.1:7070 (PID 9).", "panic: the store is corrupt", "", "goroutine 1 [running]:", "main.main()", "\t/src/main.go:12 +0x1d"}
	for _, tc := range []struct {
		name  string
		lines []string
		n     int
		want  []string
	}{
		{"killed silently", nil, 4, []string{"The daemon (PID 9) ended without a word (signal: killed)."}},
		{"panic line kept above the trace", trace, 4, []string{
			"The daemon (PID 9) ended: signal: killed.", "panic: the store is corrupt", "main.main()", "\t/src/main.go:12 +0x1d"}},
		{"panic line not repeated", trace[:2], 4, []string{
			"The daemon (PID 9) ended: signal: killed.", "panic: the store is corrupt", "Cairn 1.0 is serving at 127.0.0.1:7070 (PID 9)."}},
		{"no panic", trace[:1], 3, []string{
			"The daemon (PID 9) ended: signal: killed.", "Cairn 1.0 is serving at 127.0.0.1:7070 (PID 9)."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := crashLines(9, "signal: killed", tc.lines, tc.n); !slices.Equal(got, tc.want) {
				t.Errorf("crashLines:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}
