//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestMemoryCLI drives the CLI as a user would, starting from no daemon:
// the first command starts one.
func TestMemoryCLI(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })

	code, out, errOut := cairn(t, env, "remember", "--tag", "deploy", "--project", "web", "prod-east", "needs", "the", "c++", "toolchain")
	if code != 0 || !strings.HasPrefix(out, "Remembered ") || !strings.Contains(errOut, "started the daemon") {
		t.Fatalf("first remember: exit %d\n%s%s", code, out, errOut)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "Remembered "), ".")
	if code, out, _ = cairn(t, env, "remember", "--tag", "deploy", "--project", "web", "prod-east needs the c++ toolchain"); code != 0 || !strings.Contains(out, "Already remembered as "+id) {
		t.Fatalf("duplicate: exit %d %s", code, out)
	}
	// Standard input, and a key that a later memory replaces.
	if code, out, errOut = proctest.RunWithInput(t, env, "the staging password rotates monthly\n", cairnBin, "remember", "--key", "rotation"); code != 0 {
		t.Fatalf("remember from stdin: exit %d %s%s", code, out, errOut)
	}
	if code, out, _ = cairn(t, env, "remember", "--key", "rotation", "staging credentials rotate weekly now"); code != 0 || !strings.Contains(out, "replacing") {
		t.Fatalf("replace by key: exit %d %s", code, out)
	}
	// A secret is refused with the way out named.
	if code, _, errOut = cairn(t, env, "remember", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"); code == 0 || !strings.Contains(errOut, "pass --allow-secret") {
		t.Fatalf("secret: exit %d %s", code, errOut)
	}

	code, out, _ = cairn(t, env, "recall", "c++", "toolchain")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "#deploy") {
		t.Fatalf("recall: exit %d\n%s", code, out)
	}
	code, out, _ = cairn(t, env, "recall", "--json", "rotate")
	var page api.Page
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Memories) != 1 || !strings.Contains(page.Memories[0].Text, "weekly") {
		t.Fatalf("recall --json: exit %d %v\n%s", code, err, out)
	}
	for _, nasty := range []string{`"`, "OR", "NEAR(", "*", "?", "-", "AND NOT"} {
		if code, out, errOut = cairn(t, env, "recall", nasty); code != 0 {
			t.Errorf("recall %q: exit %d %s%s", nasty, code, out, errOut)
		}
	}
	// "No memories match." is a message, not a line of results.
	if code, out, errOut = cairn(t, env, "recall", "zzyzx"); code != 0 || out != "" || errOut != "No memories match.\n" {
		t.Errorf("recall with no match: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ = cairn(t, env, "get", id); code != 0 || !strings.Contains(out, "prod-east needs the c++ toolchain") {
		t.Fatalf("get: exit %d %s", code, out)
	}
	if code, out, _ = cairn(t, env, "tags"); code != 0 || !strings.Contains(out, "deploy") {
		t.Fatalf("tags: exit %d %s", code, out)
	}

	// Export, then import into a second data dir: byte-identical exports.
	file := filepath.Join(t.TempDir(), "memories.jsonl")
	if code, _, errOut = cairn(t, env, "export", file); code != 0 {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	other := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, other, "stop") })
	for round := 0; round < 2; round++ {
		code, out, errOut = cairn(t, other, "import", file)
		want := "Imported 3 new memories; 0 were already there."
		if round == 1 {
			want = "Imported 0 new memories; 3 were already there."
		}
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("import round %d: exit %d %s%s", round, code, out, errOut)
		}
	}
	file2 := filepath.Join(t.TempDir(), "again.jsonl")
	cairn(t, other, "export", file2)
	if a, b := mustRead(t, file), mustRead(t, file2); a != b {
		t.Fatalf("export → import → export changed:\n%s\nvs\n%s", a, b)
	}

	if code, out, _ = cairn(t, env, "forget", id, "01JE5ZZZZZZZZZZZZZZZZZZZZZ"); code == 0 || !strings.Contains(out, "Forgot "+id) {
		t.Fatalf("forget: exit %d %s", code, out)
	}
	if code, _, _ = cairn(t, env, "get", id); code == 0 {
		t.Fatal("a forgotten memory is still there")
	}
}

// TestImportAndInputEdges: an import whose memories expired since the
// export still goes in (twice, too), with the expired ones counted as
// skipped; a line with a second JSON value after the memory is refused; a
// file of garbage lists 20 of its bad lines and counts the rest. Text and
// fields that are not UTF-8 are refused, never stored changed, and a full
// 64 KiB line on standard input fits.
func TestImportAndInputEdges(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })

	file := filepath.Join(t.TempDir(), "backup.jsonl")
	lines := `{"id":"01KBQ1X9N3W4H6Q2Y8E5R7T0AB","text":"still good","created_at":"2026-01-02T03:04:05Z"}
{"id":"01KBQ1X9N3W4H6Q2Y8E5R7T0AC","text":"a reminder that lapsed","expires_at":"2026-02-01T00:00:00Z","created_at":"2026-01-02T03:04:05Z"}
{"id":"01KBQ1X9N3W4H6Q2Y8E5R7T0AD","text":"one"}{"x":1}
{"id":"01KBQ1X9N3W4H6Q2Y8E5R7T0AE","text":"two"}}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	for round, want := range []string{
		"Imported 1 new memory; 0 were already there. 1 had expired and was skipped.",
		"Imported 0 new memories; 1 was already there. 1 had expired and was skipped.",
	} {
		code, out, errOut := cairn(t, env, "import", file)
		if code != 1 || !strings.HasPrefix(out, want+"\n") || !strings.Contains(out, "  line 3: body: the line has more than one JSON value") ||
			!strings.Contains(out, "  line 4: body: the line has more than one JSON value") {
			t.Fatalf("import round %d: exit %d, want 1 (lines 3 and 4)\n%s%s", round, code, out, errOut)
		}
	}
	if code, out, _ := cairn(t, env, "recall", "lapsed"); code != 0 || strings.Contains(out, "lapsed") {
		t.Fatalf("the expired memory was stored: exit %d %s", code, out)
	}
	// The same id with other text (edited on one side since the export):
	// counted, and the memory here kept.
	edited := filepath.Join(t.TempDir(), "edited.jsonl")
	os.WriteFile(edited, []byte(`{"id":"01KBQ1X9N3W4H6Q2Y8E5R7T0AB","text":"edited elsewhere","created_at":"2026-01-02T03:04:05Z"}`+"\n"), 0o600)
	if code, out, errOut := cairn(t, env, "import", edited); code != 0 ||
		out != "Imported 0 new memories; 0 were already there. 1 had the id of a memory here with other content; the one here was kept.\n" {
		t.Fatalf("import of an edited memory: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := cairn(t, env, "get", "01KBQ1X9N3W4H6Q2Y8E5R7T0AB"); code != 0 || !strings.Contains(out, "still good") {
		t.Fatalf("the memory here was not kept: exit %d %s", code, out)
	}

	garbage := filepath.Join(t.TempDir(), "garbage.jsonl")
	os.WriteFile(garbage, []byte(strings.Repeat("not json at all\n", 500)), 0o600)
	code, out, _ := cairn(t, env, "import", garbage)
	if code != 1 || strings.Count(out, "\n  line ") != 20 || !strings.Contains(out, "  … and 480 more lines that could not be stored (500 in all)") {
		t.Fatalf("import of garbage: exit %d, want 1, 20 lines listed and the rest counted:\n%s", code, out)
	}

	for _, args := range [][]string{
		{"remember", "caf\xe9 au lait"},
		{"remember", "--project", "w\xffb", "text"},
		{"remember", "--key", "\xc3", "text"},
	} {
		code, out, errOut := cairn(t, env, args...)
		if code != 2 || !strings.Contains(errOut, "not valid UTF-8") {
			t.Errorf("%q: exit %d, want 2 and a UTF-8 refusal: %s%s", args, code, out, errOut)
		}
	}
	if code, out, _ := cairn(t, env, "recall", "--json", "lait"); code != 0 || strings.Contains(out, "lait") {
		t.Errorf("text that is not UTF-8 was stored: %s", out)
	}

	long := strings.Repeat("still good ", 10_000)
	if code, out, errOut := cairn(t, env, "recall", long); code != 0 || !strings.Contains(out, "still good") || !strings.Contains(errOut, "only its first") {
		t.Errorf("recall with a 110 KB question: exit %d, want 0, the match, and a note that it was cut: %s%s", code, out, errOut)
	}
	if code, _, errOut := cairn(t, env, "recall", "--max-bytes", "-5", "x"); code != 2 || !strings.Contains(errOut, "--max-bytes") {
		t.Errorf("recall --max-bytes -5: exit %d, want 2 naming the flag: %s", code, errOut)
	}

	full := strings.Repeat("x", 64<<10)
	if code, out, errOut := proctest.RunWithInput(t, env, full+"\n", cairnBin, "remember"); code != 0 {
		t.Errorf("64 KiB and a newline on standard input: exit %d %s%s", code, out, errOut)
	}
	// What standard input holds is data: exit 1, no usage line.
	if code, _, errOut := proctest.RunWithInput(t, env, full+"y\n", cairnBin, "remember"); code != 1 || !strings.Contains(errOut, "larger than 64 KiB") || strings.Contains(errOut, "--help") {
		t.Errorf("64 KiB and a byte on standard input: exit %d, want 1: %s", code, errOut)
	}
	if code, _, errOut := proctest.RunWithInput(t, env, "bad \xff bytes", cairnBin, "remember"); code != 1 || !strings.Contains(errOut, "not valid UTF-8 text (byte 5 is not)") || strings.Contains(errOut, "--help") {
		t.Errorf("invalid UTF-8 on standard input: exit %d, want 1: %s", code, errOut)
	}
}

// TestMemoryCLIStartsOneDaemon: ten `cairn remember` at once with no daemon
// running: all succeed, one daemon serves, every memory is stored.
func TestMemoryCLIStartsOneDaemon(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Go(func() {
			code, out, errOut := cairn(t, env, "remember", fmt.Sprintf("memory number %d", i))
			codes[i] = code
			if code != 0 {
				t.Errorf("remember %d: exit %d %s%s", i, code, out, errOut)
			}
		})
	}
	wg.Wait()
	assertOneDaemonHolds(t, env, 10)
}

// TestAcknowledgedWritesSurviveKill9: every write the API acknowledged is
// there after the daemon is killed mid-stream and started again, and the
// store's integrity checks pass.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	d := serveReady(t, env)
	c, err := client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				res, err := c.Remember(ctx, client.RememberRequest{Text: fmt.Sprintf("writer %d note %d", w, i)}, "")
				if err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, res.ID)
				mu.Unlock()
			}
		})
	}
	proctest.Eventually(t, 20*time.Second, "some writes acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 200
	})
	d.Signal(t, syscall.SIGKILL)
	d.Wait(t, 10*time.Second)
	cancel()
	wg.Wait()
	c.CloseIdle()

	serveReady(t, env)
	c, err = client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	for _, id := range acked {
		if _, err := c.Memory(context.Background(), id); err != nil {
			t.Fatalf("acknowledged memory %s lost after kill -9: %v (%d acknowledged)", id, err, len(acked))
		}
	}
	// More than were acknowledged may be there (committed, not yet answered).
	if _, out, _ := cairn(t, env, "doctor"); !strings.Contains(out, "integrity checks pass") {
		t.Fatalf("doctor after kill -9 does not report passing integrity checks:\n%s", out)
	}
}

// TestWritesSurviveATakeover: writers keep writing while `cairn takeover
// --yes` drains the healthy daemon and starts its own; every write that
// was acknowledged, before or after, is in the new daemon's store.
func TestWritesSurviveATakeover(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	old := serveReady(t, env)
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				// A fresh client each time finds whichever daemon serves now.
				c, err := client.Discover(env.Paths())
				if err != nil {
					continue
				}
				res, err := c.Remember(ctx, client.RememberRequest{Text: fmt.Sprintf("writer %d note %d", w, i)}, "")
				c.CloseIdle()
				if err == nil {
					mu.Lock()
					acked = append(acked, res.ID)
					mu.Unlock()
				}
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	proctest.Eventually(t, 20*time.Second, "writes before the takeover", func() bool { return count() >= 100 })
	code, out, errOut := cairn(t, env, "takeover", "--yes")
	if code != 0 {
		cancel()
		wg.Wait()
		t.Fatalf("takeover: exit %d\n%s%s", code, out, errOut)
	}
	t.Cleanup(func() { cairn(t, env, "stop") })
	old.Wait(t, 20*time.Second)
	before := count()
	proctest.Eventually(t, 20*time.Second, "writes after the takeover", func() bool { return count() >= before+100 })
	cancel()
	wg.Wait()

	c, err := client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	for _, id := range acked {
		if _, err := c.Memory(context.Background(), id); err != nil {
			t.Fatalf("acknowledged memory %s lost in the takeover: %v (%d acknowledged)", id, err, len(acked))
		}
	}
}

// assertOneDaemonHolds checks what concurrent auto-starts must leave: one
// daemon serving, nobody else on the port, and all n memories stored.
func assertOneDaemonHolds(t *testing.T, env *proctest.Env, n int) {
	t.Helper()
	pid, _, ok := proctest.Healthy(context.Background(), env.Paths())
	if !ok {
		t.Fatal("no daemon serves")
	}
	if ls, _ := proc.Listeners(context.Background(), env.Port); len(ls) == 0 || proc.OtherListeners(ls, pid) != nil {
		t.Fatalf("listeners %+v, want only PID %d", ls, pid)
	}
	c, err := client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	page, err := c.Memories(context.Background(), url.Values{"limit": {"50"}})
	if err != nil || len(page.Memories) != n {
		t.Fatalf("%d memories, %v; want %d", len(page.Memories), err, n)
	}
}

// A backup exported before export marked secret-looking text: its secret
// lines are refused with the way in named, and go in with --allow-secret.
func TestImportAllowSecret(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })
	file := filepath.Join(t.TempDir(), "old.jsonl")
	line := `{"id":"01M8ZD30000000000000000041","text":"db at postgres://app:hunter22@db.internal/app"}` + "\n"
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := cairn(t, env, "import", file)
	if code == 0 || !strings.Contains(out, "looks like a secret") || !strings.Contains(out, `add "allow_secret":true to the line`) || !strings.Contains(out, "cairn import --allow-secret") {
		t.Fatalf("import of a secret line: exit %d\n%s", code, out)
	}
	if code, out, _ := cairn(t, env, "import", "--allow-secret", file); code != 0 || !strings.Contains(out, "Imported 1 new memory;") {
		t.Fatalf("import --allow-secret: exit %d\n%s", code, out)
	}
}

// TestRememberAcrossAStop: `cairn stop` while a script writes. A remember
// whose daemon stops between being found and answering finds (or starts)
// the daemon again and sends the write once more, under the same
// Idempotency-Key: every one succeeds, and every one is stored once.
func TestRememberAcrossAStop(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	t.Cleanup(func() { cairn(t, env, "stop") })
	const rounds, writers = 6, 12
	for r := range rounds {
		if code, out, errOut := cairn(t, env, "start"); code != 0 {
			t.Fatalf("start: exit %d %s%s", code, out, errOut)
		}
		var wg sync.WaitGroup
		first := make(chan struct{})
		var once sync.Once
		for w := range writers {
			wg.Go(func() {
				code, out, errOut := cairn(t, env, "remember", fmt.Sprintf("round %d writer %d", r, w))
				once.Do(func() { close(first) })
				if code != 0 {
					t.Errorf("round %d writer %d: exit %d %s%s", r, w, code, out, errOut)
				}
			})
		}
		<-first // the others are on their way: stop the daemon under them
		if code, out, errOut := cairn(t, env, "stop"); code != 0 {
			t.Errorf("stop: exit %d %s%s", code, out, errOut)
		}
		wg.Wait()
	}
	code, out, errOut := cairn(t, env, "export")
	if code != 0 {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	for r := range rounds {
		for w := range writers {
			if n := strings.Count(out, fmt.Sprintf(`"round %d writer %d"`, r, w)); n != 1 {
				t.Errorf("round %d writer %d is stored %d times", r, w, n)
			}
		}
	}
}
