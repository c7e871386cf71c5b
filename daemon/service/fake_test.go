package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeRunner records every command and answers from a script: the first
// rule whose prefix matches the command line gives the output and error.
type fakeRunner struct {
	mu    sync.Mutex
	calls []string
	rules []rule
}

type rule struct {
	prefix string
	out    string
	code   int // non-zero: the command fails with this exit code
}

func (f *fakeRunner) on(prefix, out string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append([]rule{{prefix, out, code}}, f.rules...) // newest wins
}

func (f *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, line)
	for _, r := range f.rules {
		if strings.HasPrefix(line, r.prefix) {
			if r.code != 0 {
				return []byte(r.out), &CommandError{Command: append([]string{name}, args...), ExitCode: r.code, Stderr: r.out, Err: errors.New("exit status")}
			}
			return []byte(r.out), nil
		}
	}
	return nil, nil
}

// take returns the commands run since the last take.
func (f *fakeRunner) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// oddNames are folder names the generated files must carry intact.
var oddNames = []string{
	"plain",
	"with space",
	`double"quote`,
	"single'quote",
	`back\slash`,
	"dollar$HOME and ${X}",
	"100% sure %h",
	"semi;colon & pipe|<>~#*?()",
	"Zoë Ångström 日本語",
	`mix "it's" \$ 50% ünïcode`,
}

// fakeCairn creates an executable named cairn in a new folder called name.
func fakeCairn(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "cairn")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

func testConfig(t *testing.T, name string) Config {
	t.Helper()
	return Config{Exe: fakeCairn(t, name), Port: 7070, DataDir: filepath.Join(t.TempDir(), name, "data")}
}

func equalCalls(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s ran:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
