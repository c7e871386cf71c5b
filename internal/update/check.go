package update

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Timeout bounds one check, from dial to the last byte.
const Timeout = 10 * time.Second

// maxFeedBody caps what is read of the feed's answer: GitHub's release
// JSON with its notes and assets is tens of KiB.
const maxFeedBody = 1 << 20

// maxRedirects is how many redirects a check follows (GitHub answers a
// renamed repository with one).
const maxRedirects = 3

// Release is what Cairn reads of the feed's answer.
type Release struct {
	Tag        string `json:"tag_name"`
	URL        string `json:"html_url"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
}

// Result is what a check found.
type Result struct {
	Current Version // this build
	Latest  Release // the feed's latest release
	Version Version // Latest.Tag, parsed
	// Newer: Latest is a version to offer: above Current, not a draft,
	// and not a prerelease unless Current is one too.
	Newer bool
	// Cached: the feed answered 304 Not Modified and Latest is the
	// answer kept from before.
	Cached bool
}

// Checker asks one feed about one build.
type Checker struct {
	URL     string // the feed (see URL)
	Current string // this build's version (daemon/version)
	// StateFile is update.json in the data dir; "" keeps nothing.
	StateFile string
	// ReadOnly uses the cached answer but never writes the file (cairn
	// version --check: the tray is its one writer).
	ReadOnly bool
	// Timeout bounds a check; 0 means the package's Timeout (10 s).
	Timeout time.Duration
	// Client makes the request; nil means NewClient().
	Client *http.Client

	mu sync.Mutex // orders the read-modify-write of StateFile in this process
}

// NewClient returns the client a check uses: its own transport (never
// http.DefaultTransport, which other code may change), a proxy only from
// the environment the user set, no cookie jar, no compression (so no
// Accept-Encoding header is sent), and redirects only to URLs checkURL
// accepts.
func NewClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: Timeout}).DialContext,
			TLSHandshakeTimeout:   Timeout,
			ResponseHeaderTimeout: Timeout,
			DisableCompression:    true,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			_, err := checkURL("redirect", req.URL.String())
			return err
		},
	}
}

// UserAgent is the one thing a check says about the machine it runs on.
func UserAgent(version string) string { return "cairn/" + version }

// Check asks the feed for its latest release and compares it with
// Current. Every failure is an error that says what went wrong with what:
// the feed unreachable, slow, answering an error status or something that
// is not a release, or a tag that is not a semantic version.
func (c *Checker) Check(ctx context.Context) (Result, error) {
	cur, err := ParseVersion(c.Current)
	if err != nil {
		return Result{}, fmt.Errorf("this build's version cannot be compared: %w", err)
	}
	if c.URL == "" {
		return Result{}, fmt.Errorf("no release feed: this build has none built in; set %s to check one", EnvURL)
	}
	if _, err := checkURL("release feed", c.URL); err != nil {
		return Result{}, err
	}
	st := c.loadState()
	cached := st.Feed == c.URL && st.Release != nil

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return Result{}, fmt.Errorf("release feed %s: %w", c.URL, err)
	}
	req.Header = http.Header{"User-Agent": {UserAgent(c.Current)}}
	if cached && st.ETag != "" {
		req.Header.Set("If-None-Match", st.ETag)
	}
	client := c.Client
	if client == nil {
		client = NewClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{}, fmt.Errorf("the release feed %s did not answer within %s; try again later", c.URL, timeout)
		}
		return Result{}, fmt.Errorf("cannot reach the release feed: %w", err)
	}
	defer resp.Body.Close()

	var rel Release
	switch {
	case resp.StatusCode == http.StatusNotModified:
		if !cached {
			return Result{}, fmt.Errorf("the release feed %s answered 304 Not Modified, but no earlier answer is kept", c.URL)
		}
		rel = *st.Release
	case resp.StatusCode == http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxFeedBody+1))
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return Result{}, fmt.Errorf("the release feed %s did not finish its answer within %s; try again later", c.URL, timeout)
			}
			return Result{}, fmt.Errorf("reading the release feed %s: %w", c.URL, err)
		}
		if len(body) > maxFeedBody {
			return Result{}, fmt.Errorf("the release feed %s answered more than %d bytes; that is not one release", c.URL, maxFeedBody)
		}
		if rel, err = parseRelease(body); err != nil {
			return Result{}, fmt.Errorf("the release feed %s: %w", c.URL, err)
		}
		st.Feed, st.ETag, st.Release = c.URL, resp.Header.Get("ETag"), &rel
	default:
		return Result{}, fmt.Errorf("the release feed %s answered %s%s", c.URL, resp.Status, statusHint(resp.StatusCode))
	}
	latest, err := ParseVersion(rel.Tag)
	if err != nil {
		return Result{}, fmt.Errorf("the release feed's latest tag is unusable: %w", err)
	}
	st.CheckedAt = time.Now().UTC().Truncate(time.Second)
	c.saveState(func(s *State) { s.Feed, s.ETag, s.Release, s.CheckedAt = st.Feed, st.ETag, st.Release, st.CheckedAt })
	res := Result{Current: cur, Latest: rel, Version: latest, Cached: resp.StatusCode == http.StatusNotModified}
	res.Newer = Compare(latest, cur) > 0 && !rel.Draft &&
		(cur.IsPrerelease() || !latest.IsPrerelease() && !rel.Prerelease)
	return res, nil
}

func statusHint(code int) string {
	switch {
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		return " (rate limited?); the tray tries again later"
	case code == http.StatusNotFound:
		return " (no release published there yet, or a wrong feed URL)"
	case code >= 500:
		return "; the tray tries again later"
	}
	return ""
}

// parseRelease reads one release object. tag_name and html_url must be
// strings and html_url a page checkURL accepts; other fields are ignored
// (GitHub sends dozens).
func parseRelease(body []byte) (Release, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return Release{}, fmt.Errorf("answered something that is not a JSON object (%v)", err)
	}
	if raw == nil {
		return Release{}, errors.New("answered null, not a release")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Release{}, errors.New("answered more than one JSON value")
	}
	var rel Release
	for _, f := range []struct {
		key      string
		dst      any
		required bool
	}{
		{"tag_name", &rel.Tag, true},
		{"html_url", &rel.URL, true},
		{"draft", &rel.Draft, false},
		{"prerelease", &rel.Prerelease, false},
	} {
		v, ok := raw[f.key]
		if !ok {
			if f.required {
				return Release{}, fmt.Errorf("answered a JSON object without %q; it is not a release", f.key)
			}
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil || string(v) == "null" {
			return Release{}, fmt.Errorf("answered a release whose %q is %s, not a %T", f.key, clip(string(v)), f.dst)
		}
	}
	if rel.Tag == "" {
		return Release{}, errors.New(`answered a release with an empty "tag_name"`)
	}
	if _, err := checkURL("release page", rel.URL); err != nil {
		return Release{}, fmt.Errorf("answered an unusable release page: %w", err)
	}
	return rel, nil
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (c *Checker) loadState() State {
	if c.StateFile == "" {
		return State{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, _ := LoadState(c.StateFile) // a broken cache is as good as none
	return st
}

// saveState applies change to the file's current content and writes it
// back, unless the checker is read-only. Failing to keep a cache only
// costs the next check its 304, so the error is dropped.
func (c *Checker) saveState(change func(*State)) {
	if c.StateFile == "" || c.ReadOnly {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, _ := LoadState(c.StateFile)
	change(&st)
	_ = SaveState(c.StateFile, st)
}

// MarkNotified records that the user was told about tag and reports
// whether this is the first time; the record survives a restart, so each
// version is announced once.
func (c *Checker) MarkNotified(tag string) (bool, error) {
	if c.StateFile == "" {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, _ := LoadState(c.StateFile)
	if st.notified(tag) {
		return false, nil
	}
	st.Notified = append(st.Notified, tag)
	if err := SaveState(c.StateFile, st); err != nil {
		return true, fmt.Errorf("cannot remember that %s was announced: %w", tag, err)
	}
	return true, nil
}
