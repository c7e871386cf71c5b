package poll

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestUntilHolds(t *testing.T) {
	var n atomic.Int32
	if !Until(context.Background(), 5*time.Second, func() bool { return n.Add(1) >= 3 }) {
		t.Fatal("Until gave up on a condition that became true")
	}
	if n.Load() != 3 {
		t.Fatalf("looked %d times, want 3", n.Load())
	}
}

func TestUntilTimesOutAndLooksAtTheDeadline(t *testing.T) {
	start := time.Now()
	looks := 0
	if Until(context.Background(), 30*time.Millisecond, func() bool { looks++; return false }) {
		t.Fatal("Until reported a condition that never held")
	}
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Fatalf("returned after %v, before the deadline", el)
	}
	if looks < 3 {
		t.Fatalf("looked only %d times", looks)
	}
}

func TestUntilStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Until(ctx, time.Hour, func() bool { return false }) {
		t.Fatal("true on a canceled context")
	}
}

func TestBackoffDoublesToMax(t *testing.T) {
	b := New(time.Millisecond, 4*time.Millisecond)
	var got []time.Duration
	for range 4 {
		got = append(got, b.delay)
		b.Sleep(context.Background())
	}
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
}
