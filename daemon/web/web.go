// Package web holds the dashboard: plain HTML, CSS and JavaScript embedded
// in the daemon, with no build step and nothing loaded from the network.
// The page talks to the daemon's own API (same origin, session cookie).
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Files is the dashboard's files: index.html (the signed-in page),
// login.html (how to get in), refused.html (a spent or unknown code), and
// the scripts and styles they load.
var Files, _ = fs.Sub(files, "static")
