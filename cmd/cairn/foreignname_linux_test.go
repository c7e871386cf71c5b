package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestForeignProcessNameCannotDriveTheTerminal: a program on the port whose
// name and arguments carry terminal escape sequences (retitle the window,
// clear the screen, write the clipboard, move the cursor up over the fix)
// is named with those bytes escaped, in the refusal and in `cairn doctor`.
// Another user chooses both.
func TestForeignProcessNameCannotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	env := proctest.NewEnv(t)
	dir := t.TempDir()
	name := proctest.Link(t, holdportBin, dir, "h\x1b]0;PWNED\x07\x1b[2J")
	other := proctest.Start(t, env, name, "-addr", fmt.Sprintf("127.0.0.1:%d", env.Port), "x\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[1A")
	proctest.Eventually(t, 10*time.Second, "the listener", func() bool { return strings.Contains(other.Stdout(), "ready") || other.Exited() })
	if other.Exited() {
		t.Fatalf("holdport exited: %s", other.Stderr())
	}

	p := serve(t, env)
	if code := p.Wait(t, 20*time.Second); code != exitcode.PortInUse {
		t.Fatalf("exit %d, want 3; stderr: %q", code, p.Stderr())
	}
	_, doctorOut, doctorErr := cairn(t, env, "doctor")
	for what, out := range map[string]string{"the refusal": p.Stderr(), "cairn doctor": doctorOut + doctorErr} {
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%s passes the other program's escape sequences to the terminal: %q", what, out)
		}
		if !strings.Contains(out, `\x1b]0;PWNED\x07`) {
			t.Errorf("%s does not name the program, escaped: %q", what, out)
		}
	}
	if out := doctorOut + doctorErr; !strings.Contains(out, `\x1b]52;c;`) {
		t.Errorf("cairn doctor does not show the command line, escaped: %q", out)
	}
}
