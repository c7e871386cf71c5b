//go:build darwin || windows

package notify

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gen2brain/beeep"
)

// beeepNotifier shows notifications through beeep: terminal-notifier or
// osascript on macOS, toast notifications on Windows. Neither path reports
// clicks back, so there are no action buttons.
type beeepNotifier struct {
	lastID atomic.Uint32
}

func newNotifier(appName string) (Notifier, error) {
	// beeep reads its app name from a package variable.
	beeep.AppName = appName
	return &beeepNotifier{}, nil
}

func (b *beeepNotifier) Notify(n Notification) (uint32, error) {
	var icon any = "" // beeep takes a path or PNG bytes; "" means none
	if len(n.Icon) > 0 {
		icon = n.Icon
	}
	// beeep runs a command and takes no context: wait for it only so
	// long. A command that outlives the wait finishes on its own.
	done := make(chan error, 1)
	go func() { done <- beeep.Notify(n.Title, n.Body, icon) }()
	timer := time.NewTimer(callTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("notify: showing %q: %w", n.Title, err)
		}
	case <-timer.C:
		return 0, fmt.Errorf("notify: showing %q: no answer within %v", n.Title, callTimeout)
	}
	return b.lastID.Add(1), nil
}

func (b *beeepNotifier) Actions() <-chan ActionEvent { return nil }
func (b *beeepNotifier) SupportsActions() bool       { return false }
func (b *beeepNotifier) Close() error                { return nil }
