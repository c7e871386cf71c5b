//go:build !windows

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/store"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// damagedStore makes env's store with 300 memories, written one commit
// each (so its pages are laid out the same every run), and closes it.
func damagedStore(t *testing.T, env *proctest.Env) string {
	t.Helper()
	if err := os.MkdirAll(env.CairnHome, 0o700); err != nil {
		t.Fatal(err)
	}
	path := env.Paths().Store
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if _, err := s.Put(context.Background(), store.NewMemory{Text: fmt.Sprintf("memory %d about deployment pipelines and the staging rotation", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// overwrite writes b over path at off, as a disk error or a stray write
// would.
func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestStoreCutShortIsNamed: a store file cut to half its length refuses
// the start (exit 5) before the daemon says it is ready, and `cairn
// doctor`, with no daemon running, names it and says what to do.
func TestStoreCutShortIsNamed(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	path := damagedStore(t, env)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	p := serve(t, env)
	if code := p.Wait(t, 20*time.Second); code != exitcode.DataDirBad || !strings.Contains(p.Stderr(), "cut short") {
		t.Fatalf("serve on a store cut short: exit %d, want 5 saying it was cut short: %s", code, p.Stderr())
	}
	code, out, errOut := cairn(t, env, "doctor")
	if code != 1 || !strings.Contains(out, "cut short") || !strings.Contains(out, "fix: move") {
		t.Fatalf("doctor with no daemon and a store cut short: exit %d, want 1 naming it:\n%s%s", code, out, errOut)
	}
}

// TestDamagedPagesAre503: with two pages of a store overwritten while it
// was stopped, the daemon still starts (SQLite reads only what it needs),
// and every request that reaches the damage is answered 503 naming it,
// never 500; `cairn doctor` fails the integrity check and says to copy
// the file before anything else.
func TestDamagedPagesAre503(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	path := damagedStore(t, env)
	junk := make([]byte, 2*4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	overwrite(t, path, 3*4096, junk)

	d := serveReady(t, env)
	damaged := 0
	for _, args := range [][]string{{"recall", "deployment"}, {"tags"}, {"export"}, {"recall"}} {
		code, out, errOut := cairn(t, env, args...)
		switch {
		case code == 0:
		case code == 1 && strings.Contains(errOut, "the memory store is damaged") && strings.Contains(errOut, "cairn doctor"):
			damaged++
		default:
			t.Errorf("%v on a damaged store: exit %d, want 0 or 1 naming the damage: %s%s", args, code, out, errOut)
		}
		if strings.Contains(errOut, "500") || strings.Contains(errOut, "failed; see daemon.log") {
			t.Errorf("%v answered as a failure of the daemon's: %s", args, errOut)
		}
	}
	if damaged == 0 {
		t.Fatal("no request reached the damaged pages; the test damages the wrong part of the file")
	}
	code, out, errOut := cairn(t, env, "doctor")
	if code != 1 || !strings.Contains(out, "integrity check failed") || !strings.Contains(out, "copy cairn.db") {
		t.Errorf("doctor on a damaged store: exit %d, want 1 with the integrity failure and the copy-first fix:\n%s%s", code, out, errOut)
	}
	d.Signal(t, syscall.SIGTERM)
	d.Wait(t, 20*time.Second)
}

// TestRacingStartsOnABrokenStoreAllSayWhy: ten `cairn remember` at once,
// no daemon running, the store's schema overwritten (its header intact, so
// the daemon serves a moment before the open fails): each fails with the
// store's reason (exit 5, from a start that met it) or, when its request
// reached the daemon as it stopped, says so and names 'cairn doctor' (exit
// 1). None says "already running" of a daemon that won the race and
// stopped at once.
func TestRacingStartsOnABrokenStoreAllSayWhy(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	overwrite(t, damagedStore(t, env), 100, []byte(strings.Repeat("\xa5", 4096-100)))
	var ps []*proctest.Proc
	for i := range 10 {
		ps = append(ps, proctest.Start(t, env, cairnBin, "remember", fmt.Sprintf("note %d", i)))
	}
	for i, p := range ps {
		code := p.Wait(t, 60*time.Second)
		// Exit 5 from a start that met the damage itself; 1 from a
		// request the daemon answered 503 (or closed) as it stopped.
		errOut := p.Stderr()
		if code != exitcode.DataDirBad && code != exitcode.Failure || strings.Contains(errOut, "already running") ||
			!strings.Contains(errOut, "memory store") && !strings.Contains(errOut, "cairn doctor") {
			t.Errorf("remember %d: exit %d, want 5 or 1 with the store's reason or 'cairn doctor': %s", i, code, errOut)
		}
	}
}
