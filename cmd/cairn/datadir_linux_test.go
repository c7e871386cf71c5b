package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/proctest"
)

// A data dir owned by another user is refused even by root: its owner could
// read the token or swap files under a root daemon.
func TestDataDirOfAnotherUserIsRefusedEvenAsRoot(t *testing.T) {
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Skip("creating another user needs root; CI runs as root")
	}
	env := proctest.NewEnv(t)
	if err := os.Mkdir(env.CairnHome, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(env.CairnHome, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	code, out := serveWithin(t, env, 10*time.Second)
	if code != 5 || !strings.Contains(out, "owned by "+u.Name) || !strings.Contains(out, "chown ") {
		t.Errorf("serve: exit %d, %s; want 5 naming the owner and chown", code, out)
	}
	code, out = runWithin(t, env, 10*time.Second, "start")
	if code != 5 || !strings.Contains(out, "owned by "+u.Name) {
		t.Errorf("start: exit %d, %s; want 5", code, out)
	}
	if m := modeOf(t, env.CairnHome); m.Perm() != 0o700 {
		t.Errorf("mode changed to %v", m)
	}
}

// doctor names a data dir its user cannot write. Root writes through mode
// bits, so the case runs as another user with a 0500 dir it owns.
func TestDoctorNamesAReadOnlyDataDir(t *testing.T) {
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Skip("creating another user needs root; CI runs as root")
	}
	makeReachable(t, cairnBin)
	env := &proctest.Env{Home: u.Home, CairnHome: filepath.Join(u.Home, "cairn"), Port: proctest.FreePort(t)}
	if err := os.Mkdir(env.CairnHome, 0o500); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(env.CairnHome, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	p := proctest.StartWith(t, env, u.Credential, cairnBin, "doctor")
	code := p.Wait(t, 20*time.Second)
	out := p.Stdout() + p.Stderr()
	if code != 1 || !strings.Contains(out, "is not writable by you") || !strings.Contains(out, "chmod u+rwx "+env.CairnHome) {
		t.Errorf("doctor: exit %d, %s; want 1 naming the read-only data dir and its fix", code, out)
	}
}

// A home its user cannot write keeps the daemon from making the dotfile;
// doctor names that folder as the fix, not a restart that would fail the
// same way. Root writes through mode bits, so it runs as another user.
func TestDoctorNamesAnUnwritableHome(t *testing.T) {
	u, ok := proctest.OtherUser(t)
	if !ok {
		t.Skip("creating another user needs root; CI runs as root")
	}
	makeReachable(t, cairnBin)
	env := &proctest.Env{Home: u.Home, CairnHome: filepath.Join(u.Home, "cairn"), Port: proctest.FreePort(t)}
	if err := os.Mkdir(env.CairnHome, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(env.CairnHome, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(u.Home, 0o500); err != nil {
		t.Fatal(err)
	}
	d := proctest.StartWith(t, env, u.Credential, cairnBin, "serve", "--foreground", "--port", strconv.Itoa(env.Port))
	// Ready as its user sees it (root's client would not take another
	// user's daemon as its own).
	for deadline := time.Now().Add(20 * time.Second); ; {
		st := proctest.StartWith(t, env, u.Credential, cairnBin, "status")
		if st.Wait(t, 20*time.Second) == 0 {
			break
		}
		if time.Now().After(deadline) || d.Exited() {
			t.Fatalf("the daemon is not ready: %s%s\n%s", st.Stdout(), st.Stderr(), d.Stderr())
		}
	}
	p := proctest.StartWith(t, env, u.Credential, cairnBin, "doctor")
	code := p.Wait(t, 20*time.Second)
	out := p.Stdout() + p.Stderr()
	if code != 1 || !strings.Contains(out, "you cannot write in "+u.Home) || !strings.Contains(out, "make "+u.Home+" writable for you") {
		t.Errorf("doctor: exit %d, %s; want 1 naming the home it cannot write", code, out)
	}
	d.Signal(t, syscall.SIGTERM)
	if code := d.Wait(t, 20*time.Second); code != 0 {
		t.Errorf("the daemon's stop: exit %d %s", code, d.Stderr())
	}
}
