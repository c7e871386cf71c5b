// Package update is Cairn's update notice: it asks a release feed whether
// a newer version is out, and remembers what it learned and whom it told.
// It never downloads or replaces anything.
//
// The feed is one JSON document in the shape of GitHub's
// GET /repos/{owner}/{repo}/releases/latest; only tag_name, html_url,
// draft and prerelease are read. Its URL is built in with
//
//	-ldflags "-X github.com/cairnlabs/cairn/internal/update.FeedURL=https://…"
//
// (empty, as in dev builds, turns checking off), and CAIRN_UPDATE_URL
// overrides it (set but empty also turns it off).
//
// A check sends one GET with a User-Agent naming the version, and
// If-None-Match when an answer is cached; nothing else (no cookies, no
// Accept-Encoding, no query). It goes through a proxy only when the user
// set one in the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, through
// http.ProxyFromEnvironment); no system or PAC proxy is consulted. It
// gives up after 10 s.
package update

import (
	"fmt"
	"net"
	"net/url"
	"os"
)

// FeedURL is the release feed built into this binary (-ldflags -X); empty
// turns the check off.
var FeedURL = ""

// EnvURL names the variable that overrides FeedURL.
const EnvURL = "CAIRN_UPDATE_URL"

// URL returns the feed this process uses: $CAIRN_UPDATE_URL when it is
// set (even to nothing, which turns checking off), else FeedURL.
func URL() string {
	if u, ok := os.LookupEnv(EnvURL); ok {
		return u
	}
	return FeedURL
}

// checkURL accepts what a feed, a redirect or a release page may be:
// https, or plain http to a loopback address (a test server, a local
// mirror). Anything else could be read or rewritten on the way, and a
// release page is handed to the desktop's opener, so a file: or
// javascript: link must never get there.
func checkURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a URL: %v", what, raw, err)
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, fmt.Errorf("%s %q is not an absolute http(s) URL", what, raw)
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
			return u, nil
		}
		return nil, fmt.Errorf("%s %q is plain http to another machine; use https", what, raw)
	}
	return nil, fmt.Errorf("%s %q is not an http(s) URL", what, raw)
}
