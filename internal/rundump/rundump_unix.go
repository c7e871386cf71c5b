//go:build !windows

package rundump

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Signal is what asks a process for its dump.
const Signal = syscall.SIGUSR1

func onSignal(ctx context.Context, dump func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, Signal)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				dump()
			}
		}
	}()
}
