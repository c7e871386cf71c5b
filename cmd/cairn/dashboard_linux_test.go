package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// chromium is Debian's browser; scripts/test-deps.sh installs it. The
// tests never download one.
const chromium = "/usr/bin/chromium"

// browser starts a headless Chromium with its own profile and returns a
// tab's context; every action under it has the deadline.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: run scripts/test-deps.sh (apt-get install chromium)", chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the suite runs as root in CI
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	// The first call starts the browser, on a context without a deadline
	// (a deadline there would end the browser); the rest get one.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start %s: %v", chromium, err)
	}
	ctx, cancelTime := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}

func act(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that gives a value.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitJS waits until the expression is true in the page.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// colorScheme emulates prefers-color-scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

func remember(t *testing.T, env *proctest.Env, args ...string) string {
	t.Helper()
	code, out, errOut := cairn(t, env, append([]string{"remember"}, args...)...)
	if code != 0 || !strings.HasPrefix(out, "Remembered ") {
		t.Fatalf("remember %v: exit %d %s%s", args, code, out, errOut)
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "Remembered "), ".")
}

func openURL(t *testing.T, env *proctest.Env) string {
	t.Helper()
	code, out, errOut := cairn(t, env, "open", "--print")
	u := strings.TrimSpace(out)
	if code != 0 || !strings.Contains(u, "/open?code=") {
		t.Fatalf("cairn open --print: exit %d %q %s", code, out, errOut)
	}
	return u
}

func getMemory(t *testing.T, env *proctest.Env, id string) (api.Memory, bool) {
	t.Helper()
	code, out, _ := cairn(t, env, "get", "--json", id)
	if code != 0 {
		return api.Memory{}, false
	}
	var m api.Memory
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("get --json %s: %v\n%s", id, err, out)
	}
	return m, true
}

// TestDashboardInBrowser drives the dashboard in a real browser against a
// real daemon: the way in, status, search with highlighting, edit, delete
// with undo, and what a browser without the cookie sees.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	p := serveReady(t, env)
	base := "http://127.0.0.1:" + strconv.Itoa(env.Port)

	zebra := remember(t, env, "--tag", "roads", "The zebra crossing on Mill Lane needs repainting before winter")
	keep := remember(t, env, "--tag", "roads", "--tag", "council", "Council meeting about the zebra budget is on the 14th")
	remember(t, env, "--tag", "home", "Boiler service is booked for Thursday morning")
	remember(t, env, "--tag", "work", "The release checklist lives in docs/RELEASE.md")

	ctx := browser(t)

	// Without the cookie: how to get in, and no memory text.
	act(t, ctx, "visit without a session",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#gate")))
	body := value(t, ctx, "page text", chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(body, "cairn open") {
		t.Errorf("the sign-in page does not say how to get in:\n%s", body)
	}
	for _, private := range []string{"zebra", "Boiler", env.CairnHome, strconv.Itoa(p.PID())} {
		if strings.Contains(body, private) {
			t.Errorf("the sign-in page shows %q:\n%s", private, body)
		}
	}

	// The way in: the one-time link, then the status and the recent list.
	link := openURL(t, env)
	act(t, ctx, "open the one-time link",
		chromedp.Navigate(link),
		waitJS(`document.querySelector("#st-pid") && document.querySelector("#st-pid").textContent === "`+strconv.Itoa(p.PID())+`"`),
		waitJS(`document.querySelectorAll("#results li").length === 4`))
	loc := value(t, ctx, "location", chromedp.Location())
	dataDir := value(t, ctx, "data dir", chromedp.Text(chromedp.CSS("#st-datadir")))
	if loc != base+"/" {
		t.Errorf("after the exchange the address is %q, want %q (no code in it)", loc, base+"/")
	}
	if dataDir != env.CairnHome {
		t.Errorf("data dir shown %q, want %q", dataDir, env.CairnHome)
	}
	count := value(t, ctx, "status count", chromedp.Text(chromedp.CSS("#st-count")))
	if count != "4" {
		t.Errorf("memory count %q, want 4", count)
	}
	act(t, ctx, "the database size", waitJS(`/ (B|KiB|MiB)$/.test(document.querySelector("#st-dbsize").textContent)`))

	if os.Getenv("CAIRN_UPDATE_SCREENSHOTS") == "1" {
		for _, scheme := range []string{"light", "dark"} {
			act(t, ctx, "emulate "+scheme, colorScheme(scheme))
			png := value(t, ctx, "screenshot "+scheme, chromedp.FullScreenshot(90))
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard-"+scheme+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		act(t, ctx, "back to light", colorScheme("light"))
	}

	// A memory written elsewhere (the CLI) appears without a reload, through
	// the event stream, and goes again when it is forgotten elsewhere.
	code, out, errOut := cairn(t, env, "remember", "the heron came back to the pond")
	if code != 0 {
		t.Fatalf("remember: exit %d %s%s", code, out, errOut)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "Remembered "), ".")
	act(t, ctx, "the new memory appears live",
		waitJS(`document.querySelector("#st-count").textContent === "5"`),
		waitJS(`[...document.querySelectorAll("#results .text")].some(e => e.textContent.includes("heron came back"))`))
	if code, out, errOut = cairn(t, env, "forget", id); code != 0 {
		t.Fatalf("forget: exit %d %s%s", code, out, errOut)
	}
	act(t, ctx, "the forgotten memory goes live",
		waitJS(`document.querySelector("#st-count").textContent === "4"`),
		waitJS(`document.querySelectorAll("#results li").length === 4`))

	// Export from the page (the link's target, with the session cookie),
	// and import that file back: every memory is already there.
	exported := value(t, ctx, "export", chromedp.Evaluate[string](`fetch(document.querySelector("#export").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if n := strings.Count(exported, "\n"); n != 4 {
		t.Fatalf("the page's export has %d lines, want 4:\n%s", n, exported)
	}
	file := filepath.Join(t.TempDir(), "memories.jsonl")
	if err := os.WriteFile(file, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	act(t, ctx, "import the export",
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}),
		waitJS(`document.querySelector("#import-result").textContent.startsWith("Imported 0 new memories; 4 were already there.")`))

	// Usable at 360 px: nothing is wider than the screen.
	act(t, ctx, "360 px wide", chromedp.EmulateViewport(360, 800))
	if w := value(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
		t.Errorf("at 360 px the page is %d px wide", w)
	}
	act(t, ctx, "back to wide", chromedp.ResetViewport())

	// "/" focuses the search box; a search shows the word highlighted.
	act(t, ctx, "search",
		chromedp.Click(chromedp.CSS("#list-title")),
		chromedp.KeyEvent("/"),
		waitJS(`document.activeElement && document.activeElement.id === "q"`),
		chromedp.SendKeys(chromedp.CSS("#q"), "zebra"),
		chromedp.KeyEvent("\r"),
		waitJS(`document.querySelectorAll("#results li").length === 2 && document.querySelector("#results mark") !== null`))
	marks := value(t, ctx, "marks", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#results mark")].map(m => m.textContent)`))
	if len(marks) != 2 || marks[0] != "zebra" || marks[1] != "zebra" {
		t.Errorf("highlighted %q, want zebra in each result", marks)
	}

	// A tag chip filters the list.
	act(t, ctx, "filter by tag",
		chromedp.Click(chromedp.CSS(`#tags button[data-tag="council"]`)),
		waitJS(`document.querySelectorAll("#results li").length === 1 && document.querySelector('#results li[data-id="`+keep+`"]') !== null`),
		chromedp.Click(chromedp.CSS(`#tags button[data-tag="council"]`)),
		waitJS(`document.querySelectorAll("#results li").length === 2`))

	// Edit the text and tags of one memory.
	item := `#results li[data-id="` + keep + `"]`
	act(t, ctx, "edit",
		chromedp.Click(chromedp.CSS(item+" .edit")),
		chromedp.WaitVisible(chromedp.CSS(item+" .e-text")),
		chromedp.SetValue(chromedp.CSS(item+" .e-text"), "Council meeting about the zebra budget moved to the 21st"),
		chromedp.SetValue(chromedp.CSS(item+" .e-tags"), "roads budget"),
		chromedp.Click(chromedp.CSS(item+` .editor button[type="submit"]`)),
		waitJS(`document.querySelector('`+item+` .text') && document.querySelector('`+item+` .text').textContent.includes("21st")`))
	if m, ok := getMemory(t, env, keep); !ok || !strings.Contains(m.Text, "21st") || strings.Join(m.Tags, ",") != "budget,roads" {
		t.Errorf("after the edit the store holds %+v (found %v)", m, ok)
	}

	// Delete with undo: the undone one stays. The second delete's timer
	// runs after the first's would have, so once it has gone through, the
	// first would have too had Undo not stopped it.
	gone := `#results li[data-id="` + zebra + `"]`
	act(t, ctx, "delete, undo, delete another",
		chromedp.Click(chromedp.CSS(item+" .delete")),
		chromedp.WaitVisible(chromedp.CSS(item+" .undo")),
		chromedp.Click(chromedp.CSS(item+" .undo")),
		chromedp.WaitNotVisible(chromedp.CSS(item+" .undo")),
		chromedp.Click(chromedp.CSS(gone+" .delete")),
		chromedp.WaitVisible(chromedp.CSS(gone+" .undo")),
		waitJS(`document.querySelector('`+gone+`') === null`))
	if _, ok := getMemory(t, env, zebra); ok {
		t.Error("the deleted memory is still in the store")
	}
	if _, ok := getMemory(t, env, keep); !ok {
		t.Error("the memory whose delete was undone is gone")
	}

	// Text that looks like HTML stays text; "More" pages through with
	// next_cursor (20 to a page).
	c, err := client.Discover(env.Paths())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	texts := []string{`<img src=x id=injected> and <b>bold</b> are just text`}
	for i := range 24 {
		texts = append(texts, fmt.Sprintf("filler memory number %d", i))
	}
	for _, text := range texts {
		if _, err := c.Remember(t.Context(), client.RememberRequest{Text: text}, ""); err != nil {
			t.Fatalf("remember %q: %v", text, err)
		}
	}
	total := 25 + 3 // imported, and the three left above
	act(t, ctx, "reload and page",
		chromedp.Reload(),
		waitJS(`document.querySelectorAll("#results li").length === 20`),
		chromedp.WaitVisible(chromedp.CSS("#more")),
		chromedp.Click(chromedp.CSS("#more")),
		waitJS(`document.querySelectorAll("#results li").length === `+strconv.Itoa(total)),
		chromedp.WaitNotVisible(chromedp.CSS("#more")))
	if injected := value(t, ctx, "injected markup", chromedp.Evaluate[bool](`document.querySelector("#injected, #results b") !== null`)); injected {
		t.Error("memory text was parsed as HTML")
	}
	if !value(t, ctx, "literal markup", chromedp.Evaluate[bool](`[...document.querySelectorAll("#results .text")].some(e => e.textContent.includes("<b>bold</b>"))`)) {
		t.Error("the HTML-looking memory is not shown as its text")
	}

	// The link was spent: using it again is refused, and says how to get in.
	act(t, ctx, "the link a second time",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#refused")))
	body = value(t, ctx, "refusal text", chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(body, "cairn open") || strings.Contains(body, "zebra") {
		t.Errorf("the refusal page:\n%s", body)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || strings.Contains(string(b), "zebra") {
		t.Errorf("second use of the link = %d", resp.StatusCode)
	}

	// Sessions live in the daemon's memory: after a restart the browser's
	// cookie is nothing, and / says how to get in again.
	act(t, ctx, "back to the dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#q")))
	if code, out, errOut := cairn(t, env, "stop"); code != 0 {
		t.Fatalf("stop: exit %d %s%s", code, out, errOut)
	}
	serveReady(t, env)
	act(t, ctx, "after a restart",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#gate")))
	if body := value(t, ctx, "page text", chromedp.Text(chromedp.CSS("body"))); strings.Contains(body, "zebra") || strings.Contains(body, "filler") {
		t.Errorf("after a restart the old cookie still shows memories:\n%s", body)
	}
}

// TestOpenWithoutABrowser: when no launcher can run, cairn open prints the
// link and says why, and the link works.
func TestOpenWithoutABrowser(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	serveReady(t, env)
	env.Extra = append(env.Extra, "PATH="+t.TempDir()) // no xdg-open on it
	code, out, errOut := cairn(t, env, "open")
	if code != 0 || !strings.Contains(errOut, "could not open a browser") || !strings.Contains(errOut, "xdg-open") {
		t.Fatalf("cairn open without a launcher: exit %d\n%s%s", code, out, errOut)
	}
	link := strings.TrimSpace(out)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("the printed link %q = %d, want 303 to /", link, resp.StatusCode)
	}
}
