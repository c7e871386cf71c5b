// Package distcheck checks what make dist built, each artifact with the
// tool that would read it: debug/pe for the Windows programs, dpkg, rpm,
// lintian and desktop-file-validate for the Linux packages, howett.net/plist
// and debug/macho for the macOS bundle. Its tests carry the distcheck build
// tag and take the dist directories as flags, so `go test ./...` does not
// build them; `make check-dist` (called by `make test`) builds dist twice
// and runs them:
//
//	go test -tags distcheck ./build/distcheck -args -dist DIR -dist2 DIR2 -version V
package distcheck
