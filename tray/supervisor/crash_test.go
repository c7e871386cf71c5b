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
		{"panic line kept above the trace", trace, 5, []string{
			"The daemon (PID 9) ended: signal: killed.", "panic: the store is corrupt", "Its last lines before that:", "main.main()", "\t/src/main.go:12 +0x1d"}},
		{"panic line not repeated, banner never quoted", trace[:2], 5, []string{
			"The daemon (PID 9) ended: signal: killed.", "panic: the store is corrupt"}},
		{"only the banner is no word", trace[:1], 3, []string{
			"The daemon (PID 9) ended without a word (signal: killed)."}},
		{"tagged banner too", []string{"[9] Cairn 1.0 is serving at 127.0.0.1:7070 (PID 9, data in /d).", "[9] store: disk full"}, 4, []string{
			"The daemon (PID 9) ended: signal: killed.", "Its last lines before that:", "[9] store: disk full"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := crashLines(9, "signal: killed", tc.lines, tc.n); !slices.Equal(got, tc.want) {
				t.Errorf("crashLines:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}
