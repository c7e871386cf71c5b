package update_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/update"
	"github.com/cairnlabs/cairn/internal/update/updatetest"
)

func TestParseVersion(t *testing.T) {
	good := map[string]string{
		"v1.2.3":                    "v1.2.3",
		"1.2.3":                     "v1.2.3",
		"v0.0.0":                    "v0.0.0",
		"v1.2.3-rc.1":               "v1.2.3-rc.1",
		"v0.2.0-dev.5.gabc1234":     "v0.2.0-dev.5.gabc1234",
		"v1.0.0-alpha-1.0":          "v1.0.0-alpha-1.0",
		"v1.2.3+build.7":            "v1.2.3+build.7",
		"v1.2.3-0a.1+20260101":      "v1.2.3-0a.1+20260101",
		"v18446744073709551615.0.0": "v18446744073709551615.0.0",
	}
	for in, want := range good {
		v, err := update.ParseVersion(in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", in, err)
			continue
		}
		if v.String() != want {
			t.Errorf("ParseVersion(%q) = %s, want %s", in, v, want)
		}
	}
	for _, in := range []string{
		"", "v", "latest", "1.2", "v1", "v1.2.3.4", "01.2.3", "v1.02.3", "V1.2.3", "vv1.2.3",
		" v1.2.3", "v1.2.3 ", "v1.2.3-", "v1.2.3-rc..1", "v1.2.3-01", "v1.2.3+", "v1.2.3+a..b",
		"v1.2.3-rc_1", "v-1.2.3", "v1.2.-3", "v1.2.3-é", "v18446744073709551616.0.0", "v1.2.x",
	} {
		if v, err := update.ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %s, want an error", in, v)
		} else if !strings.Contains(err.Error(), "is not a semantic version") {
			t.Errorf("ParseVersion(%q): %v, want it to say why", in, err)
		}
	}
}

// TestCompareOrdersTheSpecExample is semver.org's §11 list, in order,
// plus the build metadata rule.
func TestCompareOrdersTheSpecExample(t *testing.T) {
	order := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0",
	}
	vs := make([]update.Version, len(order))
	for i, s := range order {
		vs[i] = mustParse(t, s)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := update.Compare(vs[i], vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	if update.Compare(mustParse(t, "v1.2.3+a"), mustParse(t, "1.2.3+b")) != 0 {
		t.Error("build metadata changed the order")
	}
	if update.Compare(mustParse(t, "1.0.0-99999999999999999999"), mustParse(t, "1.0.0-100000000000000000000")) != -1 {
		t.Error("long numeric prerelease identifiers compare as text")
	}
}

func mustParse(t *testing.T, s string) update.Version {
	t.Helper()
	v, err := update.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checker(t *testing.T, feed *updatetest.Feed, current string) *update.Checker {
	return &update.Checker{URL: feed.URL(), Current: current, StateFile: filepath.Join(t.TempDir(), "update.json")}
}

func TestCheckComparesWithTheFeed(t *testing.T) {
	for _, tc := range []struct {
		current, latest string
		newer           bool
	}{
		{"v1.2.3", "v1.3.0", true},
		{"1.2.3", "v1.2.4", true},
		{"v1.2.3", "v1.2.3", false},
		{"v1.2.3", "v1.2.2", false},
		{"v1.2.3", "v1.3.0-rc.1", false},         // a release build is not offered prereleases
		{"v1.3.0-rc.1", "v1.3.0-rc.2", true},     // a prerelease build is
		{"v1.3.0-rc.1", "v1.3.0", true},          // and its release
		{"0.2.0-dev.4.gabc", "v0.2.0", true},     // a dev build, its release
		{"0.2.0-dev.4.gabc", "v0.1.9", false},    // and not the one before
		{"v1.2.3+linux", "v1.2.3+darwin", false}, // build metadata does not count
	} {
		feed := updatetest.Start(t, tc.latest)
		res, err := checker(t, feed, tc.current).Check(context.Background())
		if err != nil {
			t.Errorf("%s vs %s: %v", tc.current, tc.latest, err)
			continue
		}
		if res.Newer != tc.newer || res.Latest.Tag != tc.latest || res.Latest.URL != feed.PageURL(tc.latest) {
			t.Errorf("%s vs %s: %+v, want newer=%v", tc.current, tc.latest, res, tc.newer)
		}
	}
}

// TestCheckSendsOnlyUserAgentAndETag: the request says nothing about the
// machine but the version, and the second one asks with the ETag and is
// answered from the cache.
func TestCheckSendsOnlyUserAgentAndETag(t *testing.T) {
	feed := updatetest.Start(t, "v2.0.0")
	c := checker(t, feed, "v1.0.0")
	first, err := c.Check(context.Background())
	if err != nil || !first.Newer || first.Cached {
		t.Fatalf("first check: %+v, %v", first, err)
	}
	second, err := c.Check(context.Background())
	if err != nil || !second.Newer || !second.Cached || second.Latest != first.Latest {
		t.Fatalf("second check: %+v, %v; want the cached answer after a 304", second, err)
	}
	reqs := feed.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		var names []string
		for k := range r.Header {
			names = append(names, k)
		}
		slices.Sort(names)
		want := []string{"User-Agent"}
		if i == 1 {
			want = []string{"If-None-Match", "User-Agent"}
		}
		if !slices.Equal(names, want) || r.Header.Get("User-Agent") != "cairn/v1.0.0" ||
			r.Method != http.MethodGet || r.URL.RawQuery != "" || len(r.Cookies()) != 0 {
			t.Errorf("request %d: %s %s headers %v, want only %v with User-Agent cairn/v1.0.0", i, r.Method, r.URL, r.Header, want)
		}
	}
	// A new release replaces the cached one.
	feed.SetRelease("v2.1.0")
	third, err := c.Check(context.Background())
	if err != nil || third.Cached || third.Latest.Tag != "v2.1.0" {
		t.Fatalf("after a new release: %+v, %v", third, err)
	}
}

func TestCheckFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(*updatetest.Feed)
		expect string
	}{
		{"malformed JSON", func(f *updatetest.Feed) { f.SetBody(200, `{"tag_name": "v2.0.0",`) }, "not a JSON object"},
		{"not an object", func(f *updatetest.Feed) { f.SetBody(200, `["v2.0.0"]`) }, "not a JSON object"},
		{"null", func(f *updatetest.Feed) { f.SetBody(200, `null`) }, "answered null"},
		{"two values", func(f *updatetest.Feed) { f.SetBody(200, `{"tag_name":"v2.0.0","html_url":"https://x.test/"} {}`) }, "more than one JSON value"},
		{"no tag", func(f *updatetest.Feed) { f.SetBody(200, `{"html_url":"https://x.test/"}`) }, `without "tag_name"`},
		{"tag not a string", func(f *updatetest.Feed) { f.SetBody(200, `{"tag_name":2,"html_url":"https://x.test/"}`) }, `"tag_name" is 2`},
		{"malformed tag", func(f *updatetest.Feed) { f.SetBody(200, `{"tag_name":"release-2","html_url":"https://x.test/"}`) }, `latest tag is unusable: "release-2" is not a semantic version`},
		{"javascript page", func(f *updatetest.Feed) {
			f.SetBody(200, `{"tag_name":"v2.0.0","html_url":"javascript:alert(1)"}`)
		}, "unusable release page"},
		{"plain http page elsewhere", func(f *updatetest.Feed) {
			f.SetBody(200, `{"tag_name":"v2.0.0","html_url":"http://example.com/r"}`)
		}, "plain http to another machine"},
		{"500", func(f *updatetest.Feed) { f.SetBody(500, "oops") }, "answered 500 Internal Server Error; the tray tries again later"},
		{"404", func(f *updatetest.Feed) { f.SetBody(404, `{"message":"Not Found"}`) }, "no release published"},
		{"403", func(f *updatetest.Feed) { f.SetBody(403, `{"message":"API rate limit exceeded"}`) }, "rate limited"},
		{"304 with nothing cached", func(f *updatetest.Feed) { f.SetBody(304, "") }, "no earlier answer is kept"},
		{"redirect to plain http", func(f *updatetest.Feed) { f.SetRedirect("http://example.com/latest") }, "redirect \"http://example.com/latest\" is plain http to another machine"},
		{"redirect loop", func(f *updatetest.Feed) { f.SetRedirect(f.URL()) }, "more than 3 redirects"},
		{"too large", func(f *updatetest.Feed) {
			f.SetBody(200, `{"tag_name":"v2.0.0","html_url":"https://x.test/","body":"`+strings.Repeat("x", 1<<20)+`"}`)
		}, "answered more than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			feed := updatetest.Start(t, "v2.0.0")
			tc.set(feed)
			c := checker(t, feed, "v1.0.0")
			res, err := c.Check(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.expect) {
				t.Fatalf("Check = %+v, %v; want an error with %q", res, err, tc.expect)
			}
			if _, err := os.Stat(c.StateFile); !os.IsNotExist(err) {
				t.Errorf("a failed check wrote %s (stat: %v)", c.StateFile, err)
			}
		})
	}
}

func TestCheckTimesOut(t *testing.T) {
	feed := updatetest.Start(t, "v2.0.0")
	feed.Hang()
	c := checker(t, feed, "v1.0.0")
	c.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := c.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 100ms") {
		t.Fatalf("Check against a silent feed: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the check took %s with a 100 ms timeout", d)
	}
}

func TestCheckRefusesBadSetups(t *testing.T) {
	feed := updatetest.Start(t, "v2.0.0")
	for _, tc := range []struct {
		c      *update.Checker
		expect string
	}{
		{&update.Checker{URL: feed.URL(), Current: "dev"}, `this build's version cannot be compared: "dev" is not a semantic version`},
		{&update.Checker{URL: "", Current: "v1.0.0"}, "set CAIRN_UPDATE_URL"},
		{&update.Checker{URL: "http://example.com/latest", Current: "v1.0.0"}, "plain http to another machine"},
		{&update.Checker{URL: "file:///etc/passwd", Current: "v1.0.0"}, "not an absolute http(s) URL"},
		{&update.Checker{URL: "ftp://example.com/x", Current: "v1.0.0"}, "not an http(s) URL"},
	} {
		if _, err := tc.c.Check(context.Background()); err == nil || !strings.Contains(err.Error(), tc.expect) {
			t.Errorf("Check(%q, %q) = %v, want %q", tc.c.URL, tc.c.Current, err, tc.expect)
		}
	}
	if n := len(feed.Requests()); n != 0 {
		t.Errorf("%d requests were sent for setups that are refused", n)
	}
}

// TestCacheIsPerFeed: an answer cached from one feed is never the 304
// answer of another.
func TestCacheIsPerFeed(t *testing.T) {
	a, b := updatetest.Start(t, "v2.0.0"), updatetest.Start(t, "v3.0.0")
	c := checker(t, a, "v1.0.0")
	if _, err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.URL = b.URL()
	res, err := c.Check(context.Background())
	if err != nil || res.Cached || res.Latest.Tag != "v3.0.0" {
		t.Fatalf("other feed: %+v, %v", res, err)
	}
	if got := b.Requests()[0].Header.Get("If-None-Match"); got != "" {
		t.Errorf("the other feed was sent If-None-Match %q", got)
	}
}

func TestReadOnlyCheckerKeepsTheFile(t *testing.T) {
	feed := updatetest.Start(t, "v2.0.0")
	c := checker(t, feed, "v1.0.0")
	if _, err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(c.StateFile)
	ro := &update.Checker{URL: feed.URL(), Current: "v1.0.0", StateFile: c.StateFile, ReadOnly: true}
	feed.SetRelease("v2.0.1")
	if res, err := ro.Check(context.Background()); err != nil || res.Latest.Tag != "v2.0.1" {
		t.Fatalf("read-only check: %+v, %v", res, err)
	}
	if after, _ := os.ReadFile(c.StateFile); string(after) != string(before) {
		t.Errorf("a read-only check changed the state file:\n%s\n→\n%s", before, after)
	}
}

func TestMarkNotifiedOncePerVersionAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "update.json")
	c := &update.Checker{StateFile: path}
	for i, want := range []bool{true, false} {
		if first, err := c.MarkNotified("v2.0.0"); err != nil || first != want {
			t.Fatalf("call %d: %v, %v; want %v", i, first, err, want)
		}
	}
	// A new process reads the same file.
	again := &update.Checker{StateFile: path}
	if first, _ := again.MarkNotified("v2.0.0"); first {
		t.Error("a restart announced v2.0.0 again")
	}
	if first, _ := again.MarkNotified("v2.0.1"); !first {
		t.Error("v2.0.1 was taken for announced")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v (%v), want 0600", fi.Mode(), err)
	}
}

func TestBrokenStateFileIsDropped(t *testing.T) {
	feed := updatetest.Start(t, "v2.0.0")
	c := checker(t, feed, "v1.0.0")
	if err := os.WriteFile(c.StateFile, []byte(`{"etag": 5`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := update.LoadState(c.StateFile); err == nil || !strings.Contains(err.Error(), "will be replaced") {
		t.Errorf("LoadState of a broken file: %v", err)
	}
	if res, err := c.Check(context.Background()); err != nil || !res.Newer {
		t.Fatalf("check with a broken state file: %+v, %v", res, err)
	}
	if st, err := update.LoadState(c.StateFile); err != nil || st.Release == nil || st.Release.Tag != "v2.0.0" {
		t.Errorf("state after the check: %+v, %v", st, err)
	}
	// A symlink planted there is replaced, never followed.
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o600)
	os.Remove(c.StateFile)
	if err := os.Symlink(target, c.StateFile); err != nil {
		t.Fatal(err)
	}
	if _, err := update.LoadState(c.StateFile); err == nil {
		t.Error("LoadState followed a symlink")
	}
	if _, err := c.MarkNotified("v2.0.0"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	if fi, _ := os.Lstat(c.StateFile); fi.Mode()&os.ModeSymlink != 0 {
		t.Error("the symlink is still there")
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	c, err := update.LoadConfig(path)
	if err != nil || !c.CheckForUpdates {
		t.Fatalf("missing config: %+v, %v; want checks on", c, err)
	}
	// Unknown keys are kept, byte for byte, through a save.
	os.WriteFile(path, []byte(`{"zeta": {"a": [1, 2]}, "check_for_updates": true, "alpha": "x"}`), 0o644)
	n := &update.Notice{ConfigFile: path}
	if err := n.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "{\n  \"check_for_updates\": false,\n  \"alpha\": \"x\",\n  \"zeta\": {\"a\": [1, 2]}\n}\n"
	if string(got) != want {
		t.Errorf("saved config:\n%s\nwant:\n%s", got, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600", fi.Mode().Perm())
	}
	if on, err := n.Enabled(); err != nil || on {
		t.Errorf("Enabled after SetEnabled(false) = %v, %v", on, err)
	}

	for body, expect := range map[string]string{
		`[]`:                           "not a JSON object",
		``:                             "not a JSON object",
		`{"check_for_updates": "yes"}`: `"check_for_updates" is "yes"; it must be true or false`,
		`{"check_for_updates": null}`:  "must be true or false",
		`{"check_for_updates": true, "check_for_updates": false}`: "appears twice",
		`{"a": 1, "a": 2}`:               "appears twice",
		`{"check_for_updates": true} {}`: "more than one JSON value",
		`{"check_for_updates": true`:     "not valid JSON",
		`{"check_for_updates": tru}`:     "not valid JSON",
	} {
		os.WriteFile(path, []byte(body), 0o600)
		_, err := update.LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), expect) || !strings.Contains(err.Error(), "fix it or remove it") {
			t.Errorf("LoadConfig(%s) = %v, want %q and the fix", body, err, expect)
		}
		// A broken file reads as off and is never overwritten.
		if on, err := n.Enabled(); on || err == nil {
			t.Errorf("Enabled with %s = %v, %v; want off and the error", body, on, err)
		}
		if err := n.SetEnabled(true); err == nil {
			t.Errorf("SetEnabled overwrote a broken config %s", body)
		}
		if b, _ := os.ReadFile(path); string(b) != body {
			t.Errorf("broken config changed to %s", b)
		}
	}
	// A FIFO or symlink is refused without blocking.
	os.Remove(path)
	os.Symlink(filepath.Join(dir, "elsewhere"), path)
	if _, err := update.LoadConfig(path); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("LoadConfig of a symlink: %v", err)
	}
}

func TestURLFromEnvironment(t *testing.T) {
	old := update.FeedURL
	t.Cleanup(func() { update.FeedURL = old })
	update.FeedURL = "https://api.github.com/repos/cairnlabs/cairn/releases/latest"
	t.Setenv(update.EnvURL, "http://127.0.0.1:1/x")
	if got := update.URL(); got != "http://127.0.0.1:1/x" {
		t.Errorf("URL() = %q with the variable set", got)
	}
	t.Setenv(update.EnvURL, "")
	if got := update.URL(); got != "" {
		t.Errorf("URL() = %q with the variable set empty, want off", got)
	}
	os.Unsetenv(update.EnvURL)
	if got := update.URL(); got != update.FeedURL {
		t.Errorf("URL() = %q without the variable, want the built-in feed", got)
	}
}

// FuzzParseVersion: whatever parses prints back to a version that parses
// to the same, and Compare is an order on what parses.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"v1.2.3", "1.0.0-alpha.1", "v0.2.0-dev.5.gabc+x.y", "1.2", "v01.2.3", "1.0.0-0.a", ""} {
		f.Add(s, "v1.0.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := update.ParseVersion(a)
		if err != nil {
			return
		}
		again, err := update.ParseVersion(va.String())
		if err != nil || update.Compare(va, again) != 0 || again.String() != va.String() {
			t.Fatalf("%q → %s → %s, %v", a, va, again, err)
		}
		if update.Compare(va, va) != 0 {
			t.Fatalf("%s is not equal to itself", va)
		}
		vb, err := update.ParseVersion(b)
		if err != nil {
			return
		}
		if update.Compare(va, vb) != -update.Compare(vb, va) {
			t.Fatalf("Compare(%s, %s) is not antisymmetric", va, vb)
		}
	})
}
