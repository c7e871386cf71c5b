//go:build !linux && !darwin && !windows

package notify

import (
	"fmt"
	"runtime"
)

func newNotifier(string) (Notifier, error) {
	return nil, fmt.Errorf("notify: desktop notifications are not supported on %s", runtime.GOOS)
}
