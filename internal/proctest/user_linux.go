package proctest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// User is a real, unprivileged local user that a test created: "another
// local user" of the threat model, as the kernel sees it.
type User struct {
	Name string
	UID  int
	GID  int
	Home string // a private home under the test's temp dir, owned by the user
}

// OtherUser creates a fresh local user with useradd and deletes it (and
// every process it still runs) when the test ends. It needs root, as CI
// has; without root it returns ok false and the caller must fall back to
// what it can prove as the same user.
func OtherUser(t testing.TB) (u User, ok bool) {
	t.Helper()
	if os.Getuid() != 0 {
		return User{}, false
	}
	var b [4]byte
	rand.Read(b[:])
	name := "cairnt" + hex.EncodeToString(b[:])
	// useradd takes a lock on /etc/passwd; parallel test binaries contend
	// for it, and useradd says "try again later" rather than waiting.
	var out []byte
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		out, err = exec.Command("useradd", "--no-create-home", "--no-user-group", "--gid", "nogroup",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "lock") {
			break
		}
		time.Sleep(time.Duration(20+attempt*10) * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { deleteUser(t, name) })
	lu, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("look up the new user %s: %v", name, err)
	}
	u = User{Name: name}
	u.UID, _ = strconv.Atoi(lu.Uid)
	u.GID, _ = strconv.Atoi(lu.Gid)
	// t.TempDir's parents are private to root; the user's own process must
	// be able to reach its home, so it gets one of its own under /tmp.
	home, err := os.MkdirTemp("", name+"-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chown(home, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	u.Home = home
	return u, true
}

// Credential makes a process run as the user; pass it to StartWith.
func (u User) Credential(a *syscall.SysProcAttr) {
	a.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), NoSetGroups: true}
}

func deleteUser(t testing.TB, name string) {
	// Cleanups run last-in first-out, so the processes the test started as
	// this user (registered after it) are already reaped here.
	for attempt := 0; attempt < 50; attempt++ {
		out, err := exec.Command("userdel", name).CombinedOutput()
		if err == nil {
			return
		}
		if !strings.Contains(string(out), "lock") && !strings.Contains(string(out), "currently used") {
			t.Logf("userdel %s: %v: %s", name, err, out)
			return
		}
		time.Sleep(time.Duration(20+attempt*10) * time.Millisecond)
	}
}

// Share links bin (Link) into a folder every user can reach and returns
// its path there, for a process run as another user: the test binaries
// live in root's private temp dirs. The one file is made readable and
// runnable by everyone.
func Share(t testing.TB, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cairn-shared-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	dst := Link(t, bin, dir, filepath.Base(bin))
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}
