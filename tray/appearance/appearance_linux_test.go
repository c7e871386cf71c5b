package appearance

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// watch runs Watch on bus and returns what it reports, and a func that
// ends it and waits for it to return.
func watch(t *testing.T, bus *dbustest.Bus, log *proctest.SyncBuffer) (<-chan bool, func()) {
	t.Helper()
	got := make(chan bool, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watcher{Log: slog.New(slog.NewTextHandler(log, nil)), BusAddress: bus.Address()}.Watch(ctx, func(d bool) { got <- d })
		close(done)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Watch did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return got, stop
}

func next(t *testing.T, got <-chan bool, want bool) {
	t.Helper()
	select {
	case d := <-got:
		if d != want {
			t.Fatalf("reported dark=%v, want %v", d, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing reported; want dark=%v", want)
	}
}

func TestFollowsThePortal(t *testing.T) {
	for _, readOne := range []bool{true, false} {
		name := "v1-Read"
		if readOne {
			name = "v2-ReadOne"
		}
		t.Run(name, func(t *testing.T) {
			bus := dbustest.StartBus(t)
			portal := dbustest.StartPortal(t, bus, PreferDark, readOne)
			got, stop := watch(t, bus, &proctest.SyncBuffer{})
			next(t, got, true)
			for _, tc := range []struct {
				scheme uint32
				dark   bool
			}{{PreferLight, false}, {PreferDark, true}, {NoPreference, false}} {
				if err := portal.SetScheme(tc.scheme); err != nil {
					t.Fatal(err)
				}
				next(t, got, tc.dark)
			}
			stop()
			if portal.Reads() != 1 {
				t.Errorf("%d reads, want one (then the signal)", portal.Reads())
			}
		})
	}
}

// TestWithoutAPortal: nothing is reported (the default icons stay) until
// a portal appears on the bus; then it is asked.
func TestWithoutAPortal(t *testing.T) {
	bus := dbustest.StartBus(t)
	log := &proctest.SyncBuffer{}
	got, _ := watch(t, bus, log)
	// Watch subscribes before it asks, so once it has been told nobody is
	// there, a portal that starts is seen by NameOwnerChanged.
	proctest.Eventually(t, 10*time.Second, "the failed read in the log", func() bool {
		return strings.Contains(log.String(), "colour scheme unknown; the default icons stay")
	})
	select {
	case d := <-got:
		t.Fatalf("reported dark=%v with no portal", d)
	default:
	}
	dbustest.StartPortal(t, bus, PreferDark, true)
	next(t, got, true)
	if t.Failed() {
		t.Log(log.String())
	}
}
