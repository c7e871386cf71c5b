//go:build !windows

package tray

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/internal/proctest"
	"github.com/cairnlabs/cairn/tray/supervisor"
)

// The menu showed holder A; by the click B holds the port. The tray's take
// over must refuse and stop neither.
func TestTakeoverFuncActsOnlyOnTheHolderTheMenuShowed(t *testing.T) {
	t.Parallel()
	bins, err := proctest.Build(t.TempDir(), "github.com/cairnlabs/cairn/internal/proctest/holdport")
	if err != nil {
		t.Fatal(err)
	}
	holdport := bins["github.com/cairnlabs/cairn/internal/proctest/holdport"]
	env := proctest.NewEnv(t)
	listen := func(addr string) *proctest.Proc {
		p := proctest.Start(t, env, holdport, "-addr", addr)
		proctest.Eventually(t, 10*time.Second, "holdport on "+addr, func() bool {
			return strings.Contains(p.Stdout(), "ready") || p.Exited()
		})
		if p.Exited() {
			t.Fatalf("holdport on %s exited: %s", addr, p.Stderr())
		}
		return p
	}
	a := listen(fmt.Sprintf("127.0.0.1:%d", env.Port))
	d := instance.Diagnose(context.Background(), env.Paths(), env.Port)
	if !d.Holder.CanTakeOver() {
		t.Fatalf("holdport is not offered for a take over: %+v", d.Holder)
	}
	shown := supervisor.Status{State: supervisor.Conflict, Port: env.Port, Holder: "holdport", HolderPID: a.PID(), Takeover: &d.Holder}
	b := listen(fmt.Sprintf("[::1]:%d", env.Port))

	var logged []string
	_, err = TakeoverFunc(env.Paths(), func(msg string, _ ...any) { logged = append(logged, msg) })(context.Background(), shown)
	if !errors.Is(err, instance.ErrHolderChanged) {
		t.Fatalf("take over after the holder changed: %v (log %q), want ErrHolderChanged", err, logged)
	}
	if a.Exited() || b.Exited() {
		t.Fatalf("a refused take over stopped a process: A exited %v, B exited %v", a.Exited(), b.Exited())
	}

	// A status that names nobody stops nobody.
	if _, err := TakeoverFunc(env.Paths(), nil)(context.Background(), supervisor.Status{State: supervisor.Conflict, Port: env.Port}); err == nil {
		t.Fatal("take over from a status without a holder went ahead")
	}
	if a.Exited() || b.Exited() {
		t.Fatal("a take over without a shown holder stopped a process")
	}
}
