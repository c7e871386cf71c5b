// Package version is the one place Cairn's version lives; release builds set
// it with -ldflags "-X github.com/cairnlabs/cairn/daemon/version.Version=v1.2.3".
package version

// Version of this build.
var Version = "0.1.0-dev"
