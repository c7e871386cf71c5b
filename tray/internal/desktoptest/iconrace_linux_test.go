package desktoptest

import (
	"context"
	"net/netip"
	"sync"
	"syscall"
	"testing"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// TestIconChangesWhileHostReads is the regression test of systray patch 9
// (third_party/systray/PATCHES.md), which TestRealDesktop found: xfce's
// panel reads IconPixmap when the icon changes, and godbus used to rewrite
// the pixmap in place under replies still being encoded, so a -race build
// of the tray exited 66. Here hosts read the pixmap in a loop while crashes
// of the daemon make the tray change its icon (running, starting, running),
// and the tray must still exit 0. It needs only a private bus, so it runs
// before the desktop test does.
func TestIconChangesWhileHostReads(t *testing.T) {
	eventually := func(t testing.TB, what string, cond func() bool) {
		t.Helper()
		proctest.Eventually(t, WaitTimeout, what, cond)
	}
	if !proctest.RaceEnabled {
		t.Log("without -race this checks only that the icon changes are served; run with -race to catch the data race")
	}
	bus := dbustest.StartBus(t)
	watcher := dbustest.StartWatcher(t, bus)
	env := proctest.NewEnv(t)
	env.Extra = []string{"DBUS_SESSION_BUS_ADDRESS=" + bus.Address()}
	tray := proctest.Start(t, env, bins.tray)
	daemons := stopTrayAtCleanup(t, tray)

	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	item, err := watcher.WaitItem(ctx)
	if err != nil {
		t.Fatalf("the tray registered no item: %v\nstderr: %s", err, tray.Stderr())
	}

	readers, stop := sync.WaitGroup{}, make(chan struct{})
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				item.Property(ctx, "IconPixmap")
			}
		})
	}
	api := client.New(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(env.Port)), "")
	pid := 0
	// Three crashes: four icon changes each way, well under the crash
	// loop limit (five in two minutes).
	for range 3 {
		pid = waitHealthy(t, eventually, api, tray, pid)
		daemons.add(pid)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	daemons.add(waitHealthy(t, eventually, api, tray, pid))
	close(stop)
	readers.Wait()

	tray.Signal(t, syscall.SIGTERM)
	if code := tray.Wait(t, WaitTimeout); code != 0 {
		t.Fatalf("the tray exited %d, want 0 (66 is a data race)\nstderr: %s", code, tray.Stderr())
	}
}
