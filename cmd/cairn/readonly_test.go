//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// startReadOnly starts the daemon against a data dir it cannot write. Root
// ignores mode bits, so as root the daemon runs as nobody (65534) against
// a root-owned 0755 dir; as another user the dir is made 0500.
func startReadOnly(t *testing.T, env *proctest.Env) *proctest.Proc {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(env.CairnHome, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(env.CairnHome, 0o700) })
		return serve(t, env)
	}
	// nobody must be able to reach the binary, HOME and the data dir.
	for dir := env.CairnHome; dir != "/"; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(dir, fi.Mode().Perm()|0o011)
		}
	}
	os.Chmod(env.CairnHome, 0o755)
	for dir := filepath.Dir(cairnBin); dir != "/"; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(dir, fi.Mode().Perm()|0o011)
		}
	}
	os.Chmod(cairnBin, 0o755)
	p := proctest.StartWith(t, env, func(attr *syscall.SysProcAttr) {
		attr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	}, cairnBin, "serve", "--foreground")
	return p
}
