// Package poll is the one bounded wait of the project: for an observation
// of another process (a PID gone, a lock freed, a port answering) that
// offers no event to wait on, look, sleep a doubling delay, look again,
// until a deadline. Keeping it in one place keeps every such loop bounded
// and cancelable the same way.
package poll

import (
	"context"
	"time"
)

// Backoff is a doubling delay between looks, from Min to Max.
type Backoff struct {
	delay, max time.Duration
}

// New returns a backoff that first sleeps min and doubles up to max.
func New(min, max time.Duration) *Backoff { return &Backoff{delay: min, max: max} }

// Sleep waits for the next delay; it returns false at once when ctx ends.
func (b *Backoff) Sleep(ctx context.Context) bool {
	t := time.NewTimer(b.delay)
	defer t.Stop()
	b.delay = min(2*b.delay, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Until looks with cond until it holds (true), timeout passes or ctx ends
// (false). It looks once more at the deadline, so a condition that became
// true during the last sleep is not missed. Delays double from 2 ms to 50 ms:
// what it waits for comes within milliseconds on a healthy machine, and a
// slow one is not hammered.
func Until(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	b := New(2*time.Millisecond, 50*time.Millisecond)
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return false
		}
		if b.delay > left {
			b.delay = left
		}
		if !b.Sleep(ctx) {
			return false
		}
	}
}
