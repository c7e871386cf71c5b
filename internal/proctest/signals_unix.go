//go:build !windows

package proctest

import (
	"os"
	"os/signal"
	"syscall"
)

// A test run started with SIGHUP or SIGINT ignored (under nohup; a test
// binary run in the background of a shell without job control) would
// hand that on to every process a test starts, since exec keeps an
// ignored signal ignored; the daemon then rightly leaves the signal alone
// (nohup must keep it running) and the tests that send it fail. Caught
// here instead, and dropped as before, the signals reach children at their
// default: exec resets a caught signal. The Go runtime keeps an inherited
// SIG_IGN only for these two.
func init() {
	ch := make(chan os.Signal, 1) // never read: Notify drops what does not fit
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(ch, sig)
		}
	}
}
